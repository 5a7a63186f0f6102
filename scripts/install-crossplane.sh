#!/usr/bin/env bash
# Install crossplane (NGINX Inc.'s nginx config parser, from PyPI, into a venv): the
# independent parse oracle of the nginx parser tests (tests/integration/nginx_crossplane.rs).
#
# Idempotent and safe to run concurrently: the test calls it too, and a flock serialises
# callers; a finished install is marked so a half-done one is redone.
# The venv path is $CERTWRIGHT_CROSSPLANE_VENV (default /tmp/certwright-crossplane-venv).
set -euo pipefail

venv="${CERTWRIGHT_CROSSPLANE_VENV:-/tmp/certwright-crossplane-venv}"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [ -f "$venv/.installed" ] && "$venv/bin/crossplane" --version >/dev/null 2>&1; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check crossplane
"$venv/bin/crossplane" --version
touch "$venv/.installed"
