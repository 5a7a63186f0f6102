#!/usr/bin/env bash
# Side by side: certwright and certbot 5.x with their nginx plugins, in one run, against one
# local Pebble and one running nginx on loopback (issue 14's `--nginx` targets).
#
#   bench/nginx.sh [RUNS=5]
#
# For 1 and 10 names, each client runs
#   certonly --nginx  (nginx answers HTTP-01; nothing installed), and
#   run --nginx       (the same, then the certificate installed into the site's server block),
# RUNS times each with --force-renewal, after one uncounted run that registers its account.
# Before every run the site file is restored and nginx reloaded (not timed), so each `run`
# patches the same plain-HTTP site. nginx stays up throughout, as on a real server.
# Prints medians of wall time, CPU (user+sys of the client and its children) and peak RSS.
#
# TOOLS=cw measures certwright alone (its column only). Root is needed (nginx's reload,
# certbot's nginx plugin). certbot and certbot-nginx are
# installed from PyPI into the venv /tmp/certwright-bench-nginx-venv when missing.
runs=${1:-5}
source "$(dirname "$0")/lib.sh"

venv=/tmp/certwright-bench-nginx-venv
bash "$here/scripts/pip-tool.sh" "$venv" certbot certbot >/dev/null
"$venv/bin/python3" -c 'import certbot_nginx' 2>/dev/null ||
  "$venv/bin/pip" install --quiet --disable-pip-version-check certbot-nginx
certbot="$venv/bin/certbot"
command -v nginx >/dev/null || { echo "nginx missing: apt-get install -y nginx" >&2; exit 1; }
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

start_pebble
https_port=$(free_port)
ca="$bench/tls/ca.pem"
ngx="$bench/nginx"
mkdir -p "$ngx/sites" "$ngx/logs" "$ngx/temp" "$bench/www"
cat >"$ngx/nginx.conf" <<NGINX
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/logs/error.log;
user root;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $ngx/temp/body;
    proxy_temp_path $ngx/temp/proxy;
    fastcgi_temp_path $ngx/temp/fastcgi;
    uwsgi_temp_path $ngx/temp/uwsgi;
    scgi_temp_path $ngx/temp/scgi;
    server_names_hash_bucket_size 128;
    include $ngx/sites/*;
}
NGINX
cp "$ngx/nginx.conf" "$bench/nginx.conf.orig"
nginx -c "$ngx/nginx.conf"
stop_nginx() { nginx -c "$ngx/nginx.conf" -s stop 2>/dev/null || true; }
trap 'stop_nginx; cleanup' EXIT

# site N: the plain-HTTP site for names n1..nN.example.com, as the user wrote it.
site() {
  local names="" i
  for i in $(seq "$1"); do names+=" n$i.example.com"; done
  printf 'server {\n    listen %s;\n    server_name%s;\n    root %s;\n}\n' "$http_port" "$names" "$bench/www"
}
# reset N: the site file and nginx.conf as the user wrote them, nginx reloaded.
reset() {
  rm -f "$ngx/sites/"*
  site "$1" >"$ngx/sites/site.conf"
  cp "$bench/nginx.conf.orig" "$ngx/nginx.conf"
  nginx -c "$ngx/nginx.conf" -s reload
  sleep 0.3
}
domains() { local i; printf -- '--cert-name bench%s ' "$1"; for i in $(seq "$1"); do printf -- '-d n%s.example.com ' "$i"; done; }

nginx_flags=(--nginx --nginx-server-root "$ngx" --nginx-ctl "$(command -v nginx)"
  --http-01-port "$http_port" --force-renewal)
# install_flags MODE: what `run` adds (both clients redirect plain HTTP, on the same port).
install_flags() { [ "$1" = run ] && echo --https-port "$https_port" --redirect; true; }
cw_cmd() { # MODE N
  # shellcheck disable=SC2046
  echo "$cw" "$1" "${nginx_flags[@]}" $(install_flags "$1") $(domains "$2") "${common[@]}" "${acme[@]}"
}
cb_cmd() { # MODE N
  # shellcheck disable=SC2046
  echo env "REQUESTS_CA_BUNDLE=$ca" "$certbot" "$1" "${nginx_flags[@]}" $(install_flags "$1") $(domains "$2") \
    --config-dir "$bench/certbot/config" --work-dir "$bench/certbot/work" \
    --logs-dir "$bench/certbot/logs" --server "https://localhost:$acme_port/dir" \
    -n --agree-tos --register-unsafely-without-email
}

# bench_one TOOL MODE N: one uncounted run, then RUNS measured ones into $bench/TOOL-MODE-N.txt.
bench_one() {
  local cmd
  read -r -a cmd <<<"$("${1}_cmd" "$2" "$3")"
  reset "$3"
  measure "$bench/warmup.txt" "${cmd[@]}"
  for _ in $(seq "$runs"); do
    reset "$3"
    measure "$bench/$1-$2-$3.txt" "${cmd[@]}"
  done
  # The last `run` must have left a site that serves HTTPS and passes `nginx -t`.
  if [ "$2" = run ]; then
    nginx -t -c "$ngx/nginx.conf" 2>/dev/null || { echo "nginx -t fails after $1 $2" >&2; exit 1; }
    grep -q "listen.*$https_port.*ssl" "$ngx/sites/site.conf" ||
      { echo "$1 $2 did not install into the site:" >&2; cat "$ngx/sites/site.conf" >&2; exit 1; }
  fi
}

for n in 1 10; do
  for mode in certonly run; do
    for tool in ${TOOLS:-cw cb}; do
      echo "==> $tool $mode --nginx, $n name(s), $runs runs" >&2
      bench_one "$tool" "$mode" "$n"
    done
  done
done

cell() { # FILE
  awk -v w="$(median "$1" 1)" -v c="$(median "$1" 3)" -v r="$(median "$1" 2)" \
    'BEGIN { printf "%.2f s wall, %.2f s CPU, %.1f MiB", w, c, r / 1024 }'
}
echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Load average: $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "Versions: certwright $("$cw" --version | awk '{print $2}'), certbot $("$certbot" --version 2>&1 | awk '{print $2}') with certbot-nginx, nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')"
echo
echo "| --nginx, medians of $runs (nginx running; peak RSS of the client) | certwright | certbot |"
echo "|---|---|---|"
for n in 1 10; do
  for mode in certonly run; do
    echo "| $mode --nginx, $n name(s) | $(cell "$bench/cw-$mode-$n.txt") | $(cell "$bench/cb-$mode-$n.txt") |"
  done
done
target() { # MODE N LIMIT
  local w
  w=$(median "$bench/cw-$1-$2.txt" 1)
  awk -v w="$w" -v l="$3" -v m="$1" -v n="$2" \
    'BEGIN { printf "Target: certwright %s --nginx, %d name(s) < %.1f s: %.2f s: %s\n", m, n, l, w, (w < l ? "met" : "MISSED") }'
}
target certonly 1 0.3
target certonly 10 0.4
