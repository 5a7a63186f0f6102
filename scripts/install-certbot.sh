#!/usr/bin/env bash
# Install certbot (from PyPI, into a venv) for the `import-certbot` integration tests, which
# run the real certbot against Pebble to produce the files certwright imports. Safe to run
# concurrently (see pip-tool.sh).
# The venv path is $CERTWRIGHT_CERTBOT_VENV (default /tmp/certwright-certbot-venv).
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" \
    "${CERTWRIGHT_CERTBOT_VENV:-/tmp/certwright-certbot-venv}" certbot certbot
