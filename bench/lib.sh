# Shared by the bench/ scripts (source it): a private Pebble + challtestsrv on free ports,
# a release build of certwright, and small statistics helpers. Pebble is started as in
# scripts/demo.sh (scripts/pebble.sh); everything lives in one temp dir removed on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/scripts/pebble.sh"
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

if [ -z "${CW:-}" ]; then
  echo "==> building certwright (release)" >&2
  (cd "$here" && cargo build --release --locked --quiet)
fi
cw="${CW:-$here/target/release/certwright}"

bench=$(mktemp -d /tmp/certwright-bench.XXXXXX)

cleanup() {
  kill "${pebble_pid:-}" "${dns_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$bench"
}
trap cleanup EXIT

# start_pebble: sets acme_port, http_port (where Pebble's VA probes HTTP-01) and `common`
# (the certwright flags for this Pebble and the bench's own config/work/logs dirs).
start_pebble() {
  # Deterministic: no VA sleep, no nonce rejection, every authorization validated afresh.
  pebble_start "$bench" "certwright bench CA" PEBBLE_AUTHZREUSE=0
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

# idle_rss NAME DIRS...: the daemon's VmRSS (kB) after its first pass has written its status
# file and `$settle` more seconds (default 2), then SIGTERM.
idle_rss() {
  local status="$bench/$1.status.json"; shift
  "$cw" daemon --status-file "$status" "$@" >"$bench/daemon.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1200); do [ -s "$status" ] && break; sleep 0.1; done
  [ -s "$status" ] || { echo "no status file" >&2; cat "$bench/daemon.log" >&2; exit 1; }
  sleep "${settle:-2}"
  awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
  kill -TERM "$pid"; wait "$pid" || true
}

# mb KB: "x.y MiB = x.y MB".
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MiB = %.1f MB", k / 1024, k * 1024 / 1e6 }'; }
