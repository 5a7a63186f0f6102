#!/usr/bin/env bash
# The test command: installs what the integration tests drive for real (Debian's pebble,
# pebble-challtestsrv and nginx; openssl for chain checks; redis-server, which the fleet tests
# start on free ports of their own, never the system service), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for bin in pebble pebble-challtestsrv openssl; do command -v "$bin" >/dev/null || missing+=("$bin"); done
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends pebble nginx openssl ca-certificates redis-server
fi
# crossplane (PyPI, in a venv), the nginx parse oracle; its test would install it too.
bash scripts/install-crossplane.sh
cargo test --locked
