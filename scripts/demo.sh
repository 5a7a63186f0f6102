#!/usr/bin/env bash
# Build certwright and issue a real certificate end to end on a machine with no public
# domain: a local Pebble ACME server (Debian's `pebble`) plays the CA, `pebble-challtestsrv`
# resolves every name to 127.0.0.1, and certwright answers HTTP-01 itself. With nginx
# installed, the certificate is then installed into a throwaway nginx on high ports.
# Nothing outside the temp dir it prints is touched.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/pebble.sh"
need_install=()
for bin in pebble pebble-challtestsrv nginx openssl curl; do
  command -v "$bin" >/dev/null 2>&1 || need_install+=("$bin")
done
if [ ${#need_install[@]} -gt 0 ] && ! { [ "${need_install[*]}" = "nginx" ] && [ -x /usr/sbin/nginx ]; }; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q pebble nginx openssl curl
fi
export PATH="$PATH:/usr/sbin"

echo "==> building certwright (release)"
(cd "$here" && cargo build --release --locked --quiet)
cw="$here/target/release/certwright"

demo=$(mktemp -d /tmp/certwright-demo.XXXXXX)

cleanup() {
  [ -n "${nginx_conf:-}" ] && nginx -c "$nginx_conf" -s stop 2>/dev/null || true
  kill "${pebble_pid:-}" "${dns_pid:-}" 2>/dev/null || true
}
trap cleanup EXIT

echo "==> throwaway CA for Pebble's own HTTPS in $demo/tls"
echo "==> starting pebble-challtestsrv (DNS: every name -> 127.0.0.1) and pebble"
pebble_start "$demo" "certwright demo CA"
tls_site_port=$(free_port)

common=(--config-dir "$demo/config" --work-dir "$demo/work" --logs-dir "$demo/logs"
  --server "https://localhost:$acme_port/dir" --ca-bundle "$demo/tls/ca.pem"
  -n --agree-tos -m admin@example.com)

echo "==> a throwaway nginx in $demo/nginx serving demo.example.com on port $http_port (the CA's port-80 stand-in)"
mkdir -p "$demo/nginx/sites-enabled" "$demo/nginx/logs" "$demo/nginx/temp" "$demo/www"
echo "hello from certwright's demo" > "$demo/www/index.html"
nginx_conf="$demo/nginx/nginx.conf"
cat > "$nginx_conf" <<NGINX
worker_processes 1;
pid $demo/nginx/nginx.pid;
error_log $demo/nginx/logs/error.log;
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
    access_log $demo/nginx/logs/access.log;
    client_body_temp_path $demo/nginx/temp/body;
    proxy_temp_path $demo/nginx/temp/proxy;
    fastcgi_temp_path $demo/nginx/temp/fastcgi;
    uwsgi_temp_path $demo/nginx/temp/uwsgi;
    scgi_temp_path $demo/nginx/temp/scgi;
    include $demo/nginx/sites-enabled/*;
}
NGINX
cat > "$demo/nginx/sites-enabled/demo" <<NGINX
# The site as it was before certwright: plain HTTP.
server {
    listen $http_port;
    server_name demo.example.com www.demo.example.com;
    root $demo/www;
}
NGINX
nginx -c "$nginx_conf"

echo "==> certwright run --nginx -d demo.example.com -d www.demo.example.com"
"$cw" run --nginx -d demo.example.com -d www.demo.example.com \
  --nginx-server-root "$demo/nginx" --nginx-ctl "$(command -v nginx)" \
  --http-01-port "$http_port" --https-port "$tls_site_port" "${common[@]}"

echo "==> the site after certwright (lines it added end in '# managed by certwright'):"
cat "$demo/nginx/sites-enabled/demo"

echo "==> HTTPS request, verified against Pebble's root"
curl -fsS --cacert "$demo/tls/ca.pem" "https://localhost:$mgmt_port/roots/0" > "$demo/pebble-root.pem"
sleep 0.5
curl -fsS --cacert "$demo/pebble-root.pem" --resolve "demo.example.com:$tls_site_port:127.0.0.1" \
  "https://demo.example.com:$tls_site_port/"
curl -sS -o /dev/null -w "plain HTTP now answers %{http_code} -> %{redirect_url}\n" \
  --resolve "demo.example.com:$http_port:127.0.0.1" "http://demo.example.com:$http_port/"

echo "==> certwright certificates"
"$cw" certificates --config-dir "$demo/config"
echo "==> certwright plan"
"$cw" plan --config-dir "$demo/config" --work-dir "$demo/work"

echo
echo "Files: $demo/config/live/demo.example.com/{fullchain,privkey,cert,chain}.pem"
echo "Renewal config: $demo/config/renewal/demo.example.com.json"
echo "Log: $demo/logs/certwright.log"
echo "(Pebble, challtestsrv and the demo nginx are stopped on exit; $demo is kept.)"
