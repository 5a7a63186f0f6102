#!/usr/bin/env bash
# Install acme2certifier (PyPI, into a venv): the second ACME server implementation the
# integration tests run next to Pebble (tests/integration/acme2certifier.rs, which calls this
# too). It has no program answering --version, so the venv's python3 is the program checked
# (pip-tool.sh marks only a finished install). The venv path is $CERTWRIGHT_A2C_VENV
# (default /tmp/certwright-acme2certifier-venv).
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" \
    "${CERTWRIGHT_A2C_VENV:-/tmp/certwright-acme2certifier-venv}" 'acme2certifier==0.46.3' python3
