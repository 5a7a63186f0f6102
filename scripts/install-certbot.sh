#!/usr/bin/env bash
# Install certbot and its dns-rfc2136 plugin (from PyPI, into a venv) for the `import-certbot`
# integration tests, which run the real certbot against Pebble (and bind9) to produce the
# files certwright imports. Safe to run concurrently (see pip-tool.sh).
# The venv path is $CERTWRIGHT_CERTBOT_VENV (default /tmp/certwright-certbot-venv).
set -euo pipefail
venv="${CERTWRIGHT_CERTBOT_VENV:-/tmp/certwright-certbot-venv}"
bash "$(dirname "$0")/pip-tool.sh" "$venv" certbot certbot
# The plugin came later than the venv: checked on its own, under the same lock.
exec 9>"$venv.lock"
flock 9
"$venv/bin/python3" -c 'import certbot_dns_rfc2136' 2>/dev/null ||
    "$venv/bin/pip" install --quiet --disable-pip-version-check certbot-dns-rfc2136
