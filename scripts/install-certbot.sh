#!/usr/bin/env bash
# Install certbot (from PyPI, into a venv) for the `import-certbot` integration tests, which
# run the real certbot against Pebble to produce the files certwright imports.
#
# Idempotent and safe to run concurrently: parallel test processes call it too, and a
# flock serialises them; a finished install is marked so a half-done one is redone.
# The venv path is $CERTWRIGHT_CERTBOT_VENV (default /tmp/certwright-certbot-venv).
set -euo pipefail

venv="${CERTWRIGHT_CERTBOT_VENV:-/tmp/certwright-certbot-venv}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [ -f "$venv/.installed" ] && "$venv/bin/certbot" --version >/dev/null 2>&1; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check certbot
"$venv/bin/certbot" --version
touch "$venv/.installed"
