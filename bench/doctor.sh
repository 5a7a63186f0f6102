#!/usr/bin/env bash
# `certwright doctor` on 100 names against local servers: a bind9 this script starts (zone
# bench.test, one A record per name), a private nginx serving a webroot for *.bench.test, and
# Pebble (the directory: CAA identities, Date header). Each run resolves every name, climbs
# CAA, writes 100 token files into the webroot, fetches each through nginx as the CA would,
# and removes them. Also the same with --standalone (certwright's own listener). Prints a
# markdown table of medians (wall, CPU, peak RSS). No timing is asserted anywhere.
#
#   bench/doctor.sh [RUNS=5] [NAMES=100]
#
# Needs bind9 (named), nginx, pebble, GNU time. CW=path benchmarks another certwright.
runs=${1:-5}
names=${2:-100}
source "$(dirname "$0")/lib.sh"

for bin in named nginx dig; do
  command -v "$bin" >/dev/null 2>&1 || { echo "missing: $bin (apt-get install bind9 bind9-dnsutils nginx)" >&2; exit 1; }
done

# --- bind9: zone bench.test with n001..nNNN A 127.0.0.1 ----------------------------------
zone=bench.test
dns_port=$(free_port)
mkdir -p "$bench/named"
cat >"$bench/named/named.conf" <<CONF
options {
	directory "$bench/named";
	pid-file "$bench/named/named.pid";
	session-keyfile "$bench/named/session.key";
	managed-keys-directory "$bench/named";
	listen-on port $dns_port { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
};
controls { };
zone "$zone" { type primary; file "$bench/named/$zone.zone"; };
CONF
{
  printf '$TTL 60\n@ IN SOA ns1.%s. hostmaster.%s. 1 3600 600 86400 60\n@ IN NS ns1.%s.\nns1 IN A 127.0.0.1\n' "$zone" "$zone" "$zone"
  for i in $(seq -f '%03g' 1 "$names"); do echo "n$i IN A 127.0.0.1"; done
} >"$bench/named/$zone.zone"
named -g -c "$bench/named/named.conf" >"$bench/named/named.log" 2>&1 &
named_pid=$!

# --- nginx: *.bench.test from a webroot, on a free port ---------------------------------
http=$(free_port)
mkdir -p "$bench/nginx/logs" "$bench/nginx/temp" "$bench/www"
cat >"$bench/nginx/nginx.conf" <<CONF
pid $bench/nginx/nginx.pid;
error_log $bench/nginx/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $bench/nginx/temp;
	proxy_temp_path $bench/nginx/temp;
	fastcgi_temp_path $bench/nginx/temp;
	uwsgi_temp_path $bench/nginx/temp;
	scgi_temp_path $bench/nginx/temp;
	server {
		listen 127.0.0.1:$http;
		server_name *.$zone;
		root $bench/www;
	}
}
CONF
# nginx's workers run as another user: they must reach the webroot.
chmod 755 "$bench" "$bench/www"
nginx -c "$bench/nginx/nginx.conf"
trap 'kill "$named_pid" 2>/dev/null || true; nginx -c "$bench/nginx/nginx.conf" -s stop 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do
  dig +short -p "$dns_port" @127.0.0.1 SOA "$zone" 2>/dev/null | grep -q . && break
  sleep 0.1
done
dig +short -p "$dns_port" @127.0.0.1 SOA "$zone" | grep -q . || { cat "$bench/named/named.log" >&2; exit 1; }

start_pebble
doms=()
for i in $(seq -f '%03g' 1 "$names"); do doms+=(-d "n$i.$zone"); done
# An enabled timer in an otherwise empty system root: no renewal warning, exit 0.
sys="$bench/system"
mkdir -p "$sys/run/systemd/system" "$sys/etc/systemd/system/timers.target.wants"
ln -s /usr/lib/systemd/system/certwright-renew.timer "$sys/etc/systemd/system/timers.target.wants/"
export CERTWRIGHT_SYSTEM_ROOT="$sys"
flags=("${common[@]}" --server "https://localhost:$acme_port/dir" --ca-bundle "$bench/tls/ca.pem"
  --dns-resolver "127.0.0.1:$dns_port" --nginx-server-root "$bench/nginx")

row() {
  local label=$1; shift
  : >"$bench/$label.txt"
  for _ in $(seq "$runs"); do
    measure "$bench/$label.txt" "$cw" doctor "${flags[@]}" "$@" "${doms[@]}"
  done
  awk -v w="$(median "$bench/$label.txt" 1)" -v r="$(median "$bench/$label.txt" 2)" \
    -v c="$(median "$bench/$label.txt" 3)" -v l="$label" \
    'BEGIN { printf "| %s | %.2f s | %.2f s | %.1f MiB |\n", l, w, c, r / 1024 }'
}

echo "| doctor, $names names, $runs runs (medians) | wall | CPU user+sys | peak RSS |"
echo "|---|---|---|---|"
row "webroot-via-nginx" --webroot -w "$bench/www" --http-01-port "$http"
row "standalone" --standalone --http-01-port "$(free_port)"
