# Shared by the bench/ scripts (source it): a private Pebble + challtestsrv on free ports,
# a release build of certwright, and small statistics helpers. Same approach as
# scripts/demo.sh; everything lives in one temp dir that is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$PATH:/usr/sbin"

need_install=()
for bin in pebble pebble-challtestsrv openssl curl python3; do
  command -v "$bin" >/dev/null 2>&1 || need_install+=("$bin")
done
[ -x /usr/bin/time ] || need_install+=(time)
if [ ${#need_install[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need_install[*]}; sudo apt-get install -y pebble openssl curl python3 time" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q pebble openssl curl python3 time
fi

echo "==> building certwright (release)" >&2
(cd "$here" && cargo build --release --locked --quiet)
cw="$here/target/release/certwright"

bench=$(mktemp -d /tmp/certwright-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cleanup() {
  kill "${pebble_pid:-}" "${dns_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$bench"
}
trap cleanup EXIT

# start_pebble: sets acme_port, http_port (where Pebble's VA probes HTTP-01) and `common`
# (the certwright flags for this Pebble and the bench's own config/work/logs dirs).
start_pebble() {
  acme_port=$(free_port); local mgmt_port=$(free_port) dns_port=$(free_port) dns_mgmt=$(free_port)
  http_port=$(free_port); local tls_port=$(free_port)
  mkdir -p "$bench/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=certwright bench CA" -keyout "$bench/tls/ca.key" -out "$bench/tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$bench/tls/localhost.key" -out "$bench/tls/localhost.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$bench/tls/ext"
  openssl x509 -req -in "$bench/tls/localhost.csr" -CA "$bench/tls/ca.pem" -CAkey "$bench/tls/ca.key" \
    -CAcreateserial -days 2 -extfile "$bench/tls/ext" -out "$bench/tls/localhost.pem" 2>/dev/null
  cat > "$bench/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$mgmt_port",
 "certificate": "$bench/tls/localhost.pem", "privateKey": "$bench/tls/localhost.key",
 "httpPort": $http_port, "tlsPort": $tls_port, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "" -https01 "" -tlsalpn01 "" \
    -management "127.0.0.1:$dns_mgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$bench/challtestsrv.log" 2>&1 &
  dns_pid=$!
  # Deterministic: no VA sleep, no nonce rejection, every authorization validated afresh.
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0 \
    pebble -config "$bench/pebble.json" -dnsserver "127.0.0.1:$dns_port" >"$bench/pebble.log" 2>&1 &
  pebble_pid=$!
  for _ in $(seq 200); do
    curl -fsS --cacert "$bench/tls/ca.pem" "https://localhost:$acme_port/dir" >/dev/null 2>&1 && break
    sleep 0.1
  done
  common=(--config-dir "$bench/config" --work-dir "$bench/work" --logs-dir "$bench/logs")
  acme=(--server "https://localhost:$acme_port/dir" --ca-bundle "$bench/tls/ca.pem"
    -n --agree-tos --register-unsafely-without-email)
}

# measure OUT CMD...: run CMD under GNU time, append "wall_s rss_kb cpu_s" to OUT; CMD's
# own output goes to $bench/last.log. Fails (with the log) if CMD fails.
measure() {
  local out=$1; shift
  local t="$bench/time.txt"
  if ! /usr/bin/time -f "%e %M %U %S" -o "$t" "$@" >"$bench/last.log" 2>&1; then
    echo "failed: $*" >&2; cat "$bench/last.log" >&2; return 1
  fi
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$t" >>"$out"
}

# median FILE COLUMN: the median of one column (the lower middle for an even count).
median() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}


# proc_cpu PID: CPU seconds (user + system) the process has used so far.
proc_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

# make_lineages CONFIG_DIR WORK_DIR [COUNT=1000]: turn the lineage seed.example.com into
# l0001..lNNNN.example.com, each with its own archive copy, live link and renewal config
# (cert_name changed; domains stay seed.example.com, so the files match the config).
make_lineages() {
  python3 - "$1" "${3:-1000}" <<'PY'
import json, os, shutil, sys
config, count = sys.argv[1], int(sys.argv[2])
seed = "seed.example.com"
conf = json.load(open(f"{config}/renewal/{seed}.json"))
for i in range(1, count + 1):
    name = f"l{i:04d}.example.com"
    shutil.copytree(f"{config}/archive/{seed}", f"{config}/archive/{name}", symlinks=True)
    os.symlink(f"../archive/{name}/1", f"{config}/live/{name}")
    conf["cert_name"] = name
    path = f"{config}/renewal/{name}.json"
    with open(path + ".tmp", "w") as f:
        json.dump(conf, f, indent=2)
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)
os.remove(f"{config}/renewal/{seed}.json")
os.remove(f"{config}/live/{seed}")
shutil.rmtree(f"{config}/archive/{seed}")
PY
  rm -f "$2/state/seed.example.com.json"
}
