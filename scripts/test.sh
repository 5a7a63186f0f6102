#!/usr/bin/env bash
# The test command: installs what the integration tests drive for real (Debian's pebble,
# pebble-challtestsrv and nginx; openssl for chain checks; redis-server, which the fleet tests
# start on free ports of their own, never the system service; bind9's named, which the DNS-01
# tests start on free ports, with dig and nsupdate from bind9-dnsutils; PowerDNS with its
# sqlite3 backend, likewise; aiosmtpd and promtool for the alert and metrics tests; Debian
# sid's pebble), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for bin in pebble pebble-challtestsrv openssl; do command -v "$bin" >/dev/null || missing+=("$bin"); done
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/named ] || missing+=(bind9)
for bin in dig nsupdate; do command -v "$bin" >/dev/null || missing+=(bind9-dnsutils); done
# doctor's DNSSEC test signs a zone with these; the prompt tests run under script(1).
for bin in dnssec-keygen dnssec-signzone; do command -v "$bin" >/dev/null || missing+=(bind9-utils); done
command -v script >/dev/null || missing+=(bsdutils)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
command -v promtool >/dev/null || missing+=(prometheus)
[ -x /usr/sbin/pdns_server ] || missing+=(pdns-server)
[ -e /usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql ] || missing+=(pdns-backend-sqlite3)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v keytool >/dev/null || missing+=(openjdk-17-jre-headless)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
for bin in unshare setpriv; do command -v "$bin" >/dev/null || missing+=(util-linux); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends pebble nginx openssl ca-certificates redis-server \
    bind9 bind9-utils bsdutils bind9-dnsutils pdns-server pdns-backend-sqlite3 sqlite3 python3-aiosmtpd prometheus \
    openjdk-17-jre-headless haproxy util-linux
fi
# Debian sid's pebble (ARI, profiles) in /opt/pebble-sid; does nothing when already there.
$sudo bash scripts/fetch-pebble-sid.sh
# crossplane (PyPI, in a venv), the nginx parse oracle; its test would install it too.
bash scripts/install-crossplane.sh
# moto (PyPI moto[server], in a venv), the Route53 API of the --dns-route53 tests.
bash scripts/install-moto.sh
# acme2certifier (PyPI, in a venv), the second ACME server; its tests would install it too.
bash scripts/install-acme2certifier.sh
cargo test --locked
