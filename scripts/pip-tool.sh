#!/usr/bin/env bash
# pip-tool.sh VENV PACKAGE PROGRAM: install PyPI PACKAGE into the venv VENV unless PROGRAM
# there already answers `--version`. Used by install-certbot.sh and install-crossplane.sh.
#
# Idempotent and safe to run concurrently: parallel test processes call it too, and a
# flock serialises them; a finished install is marked so a half-done one is redone.
set -euo pipefail

venv="$1" package="$2" program="$3"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [ -f "$venv/.installed" ] && "$venv/bin/$program" --version >/dev/null 2>&1; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$package"
"$venv/bin/$program" --version
touch "$venv/.installed"
