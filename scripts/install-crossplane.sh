#!/usr/bin/env bash
# Install crossplane (NGINX Inc.'s nginx config parser, from PyPI, into a venv): the
# independent parse oracle of tests/integration/nginx_crossplane.rs, which calls this too.
# The venv path is $CERTWRIGHT_CROSSPLANE_VENV (default /tmp/certwright-crossplane-venv).
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" \
    "${CERTWRIGHT_CROSSPLANE_VENV:-/tmp/certwright-crossplane-venv}" crossplane crossplane
