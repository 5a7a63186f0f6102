#!/usr/bin/env bash
# Side by side: certwright, certbot and lego against one local Pebble, in one run.
# Prints a markdown table (medians) and the machine it ran on.
#
#   bench/compare.sh [N_ISSUE] [N_HEAVY]
#     N_ISSUE  issuances per client (default 10)
#     N_HEAVY  runs of the heavy measurements: renew no-op over 1,000 lineages and
#              certwright's 100-due renewal (default 5)
#   CERTBOT_DUE_LIMIT=S  measure certbot renewing 100 due certificates (one run) only when
#              100 x its median issuance is at most S seconds (default 600); else the cell
#              says "skipped (too slow: estimated N s)".
#
# Root is needed only to install what is missing: lego (apt), certbot (pip, into the venv
# /tmp/certwright-bench-venv), GNU time, pebble. Everything else lives in one temp dir
# (KEEP=1 keeps it). Pebble runs with PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
# PEBBLE_AUTHZREUSE=0 (see lib.sh), so every client validates every authorization.
n_issue=${1:-10}
n_heavy=${2:-5}
certbot_due_limit=${CERTBOT_DUE_LIMIT:-600}
source "$(dirname "$0")/lib.sh"

# --- peers ------------------------------------------------------------------------------
venv=/tmp/certwright-bench-venv
certbot="$venv/bin/certbot"
if ! command -v lego >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "lego missing: sudo apt-get install -y lego" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q lego >&2
fi
if [ ! -x "$certbot" ]; then
  echo "==> installing certbot into $venv" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q certbot >&2
fi
lego_version=$(dpkg-query -W -f '${Version}' lego 2>/dev/null || lego --version | awk '{print $3}')
certbot_version=$("$certbot" --version 2>&1 | awk '{print $2}')
cw_version=$("$cw" --version | awk '{print $2}')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

start_pebble
url="https://localhost:$acme_port/dir"
ca="$bench/tls/ca.pem"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
secs() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
# cell FILE: "wall / CPU / RSS" medians of a measure file, one value per column.
wall() { secs "$(median "$1" 1)"; }
cpu() { secs "$(median "$1" 3)"; }
rss() { mib "$(median "$1" 2)"; }
declare -A cell

# --- one issuance -----------------------------------------------------------------------
cw_issue=("$cw" certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1
  -d cw.example.com --force-renewal "${common[@]}" "${acme[@]}")
cb_dirs() { echo --config-dir "$bench/certbot/$1/config" --work-dir "$bench/certbot/$1/work" --logs-dir "$bench/certbot/$1/logs"; }
cb=(env "REQUESTS_CA_BUNDLE=$ca" "$certbot")
cb_issue=("${cb[@]}" certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1
  -d cb.example.com --force-renewal $(cb_dirs issue) --server "$url"
  -n --agree-tos --register-unsafely-without-email)
lego_issue=(env "LEGO_CA_CERTIFICATES=$ca" lego --server "$url" --path "$bench/lego"
  --accept-tos --email bench@example.com --key-type ec256 --http --http.port "127.0.0.1:$http_port"
  --domains lego.example.com run)

# issue NAME CMD...: one warm-up (registers the account; not counted), then N_ISSUE runs.
issue() {
  local name=$1; shift
  echo "==> $name: warm-up + $n_issue issuances" >&2
  if ! "$@" >"$bench/$name.warmup.log" 2>&1; then
    echo "$name warm-up failed:" >&2; tail -20 "$bench/$name.warmup.log" >&2
    cell[issue_wall,$name]="failed"; cell[issue_cpu,$name]="failed"; cell[issue_rss,$name]="failed"
    return 0
  fi
  for _ in $(seq "$n_issue"); do
    measure "$bench/$name.issue.txt" "$@" || { cell[issue_wall,$name]="failed"; return 0; }
  done
  cell[issue_wall,$name]=$(wall "$bench/$name.issue.txt")
  cell[issue_cpu,$name]=$(cpu "$bench/$name.issue.txt")
  cell[issue_rss,$name]=$(rss "$bench/$name.issue.txt")
}
issue certwright "${cw_issue[@]}"
issue certbot "${cb_issue[@]}"
issue lego "${lego_issue[@]}"

# --- renew, 1,000 lineages, nothing due -------------------------------------------------
echo "==> certwright: 1,000 lineages (copies of one issued certificate, as bench/renew.sh)" >&2
cwr=(--config-dir "$bench/cwr/config" --work-dir "$bench/cwr/work" --logs-dir "$bench/cwr/logs")
"$cw" certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1 \
  -d seed.example.com "${cwr[@]}" "${acme[@]}" >"$bench/cwr.seed.log" 2>&1 \
  || { cat "$bench/cwr.seed.log"; exit 1; }
make_lineages "$bench/cwr/config" "$bench/cwr/work" 1000
cw_renew=("$cw" renew --no-random-sleep-on-renew "${cwr[@]}")
# The first run asks the CA's directory once about ARI and writes renewal state: not counted.
measure "$bench/certwright.cold.txt" "${cw_renew[@]}"
for _ in $(seq "$n_heavy"); do measure "$bench/certwright.noop.txt" "${cw_renew[@]}"; done
if grep -q "renewed\|FAILED" "$bench/last.log" || [ "$(grep -c "not due" "$bench/last.log")" -lt 1000 ]; then
  echo "certwright renew was not a no-op over 1,000 lineages:" >&2; tail -20 "$bench/last.log" >&2; exit 1
fi
cell[noop_wall,certwright]=$(wall "$bench/certwright.noop.txt")
cell[noop_cpu,certwright]=$(cpu "$bench/certwright.noop.txt")
cell[noop_rss,certwright]=$(rss "$bench/certwright.noop.txt")

echo "==> certbot: 1,000 lineages (copies of one certbot lineage, paths rewritten)" >&2
cbr_root="$bench/certbot/renew"
cb_renew=("${cb[@]}" renew --no-random-sleep-on-renew $(cb_dirs renew))
certbot_lineages_ok=0
if "${cb[@]}" certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1 \
  -d seed.example.com $(cb_dirs renew) --server "$url" -n --agree-tos \
  --register-unsafely-without-email >"$bench/cbr.seed.log" 2>&1; then
  python3 - "$cbr_root/config" <<'PY'
import os, shutil, sys
config = sys.argv[1]
seed = "seed.example.com"
conf = open(f"{config}/renewal/{seed}.conf").read()
links = {f: os.readlink(f"{config}/live/{seed}/{f}") for f in os.listdir(f"{config}/live/{seed}")
         if os.path.islink(f"{config}/live/{seed}/{f}")}
for i in range(1, 1001):
    name = f"l{i:04d}.example.com"
    shutil.copytree(f"{config}/archive/{seed}", f"{config}/archive/{name}")
    os.makedirs(f"{config}/live/{name}")
    shutil.copy(f"{config}/live/{seed}/README", f"{config}/live/{name}/README")
    for f, target in links.items():  # ../../archive/seed.example.com/cert1.pem
        os.symlink(target.replace(f"/{seed}/", f"/{name}/"), f"{config}/live/{name}/{f}")
    with open(f"{config}/renewal/{name}.conf", "w") as f:
        f.write(conf.replace(f"/{seed}", f"/{name}"))
os.remove(f"{config}/renewal/{seed}.conf")
shutil.rmtree(f"{config}/live/{seed}")
shutil.rmtree(f"{config}/archive/{seed}")
PY
  # Not counted: a first run (cold page cache for the copies).
  if measure "$bench/certbot.cold.txt" "${cb_renew[@]}"; then
    certbot_lineages_ok=1
    for _ in $(seq "$n_heavy"); do measure "$bench/certbot.noop.txt" "${cb_renew[@]}" || certbot_lineages_ok=0; done
    not_due=$(grep -c "^  $cbr_root/config/live/l[0-9]*.example.com/fullchain.pem expires" "$bench/last.log" || true)
    if [ "$not_due" -ne 1000 ] || grep -qi "broken\|failed\|renewal of" "$bench/last.log"; then
      echo "certbot renew did not see 1,000 valid lineages, none due ($not_due):" >&2; tail -30 "$bench/last.log" >&2
      certbot_lineages_ok=0
    fi
  fi
else
  echo "certbot seed issuance failed:" >&2; tail -20 "$bench/cbr.seed.log" >&2
fi
if [ "$certbot_lineages_ok" = 1 ]; then
  cell[noop_wall,certbot]=$(wall "$bench/certbot.noop.txt")
  cell[noop_cpu,certbot]=$(cpu "$bench/certbot.noop.txt")
  cell[noop_rss,certbot]=$(rss "$bench/certbot.noop.txt")
else
  cell[noop_wall,certbot]=failed; cell[noop_cpu,certbot]=failed; cell[noop_rss,certbot]=failed
fi

# --- renew, 100 due ---------------------------------------------------------------------
# certwright: a lineage is due when its renewal config names other domains than its
# certificate (renew_before_expiry_days is capped at half the lifetime; Pebble's
# certificates last 5 years). Run r names r<r>-lNNNN.example.com, so each run has 100 due.
echo "==> certwright: 100 due, renew --concurrency 16, $n_heavy runs" >&2
for r in $(seq "$n_heavy"); do
  python3 - "$bench/cwr/config" "$r" <<'PY'
import json, sys
config, run = sys.argv[1], sys.argv[2]
for i in range(1, 101):
    name = f"l{i:04d}.example.com"
    path = f"{config}/renewal/{name}.json"
    conf = json.load(open(path))
    conf["domains"] = [f"r{run}-{name}"]
    json.dump(conf, open(path, "w"), indent=2)
PY
  measure "$bench/certwright.due.txt" "${cw_renew[@]}" --concurrency 16
  renewed=$(grep -c ": renewed (version" "$bench/last.log" || true)
  [ "$renewed" -eq 100 ] || { echo "certwright renewed $renewed of 100:" >&2; tail -20 "$bench/last.log" >&2; exit 1; }
done
cell[due_wall,certwright]=$(wall "$bench/certwright.due.txt")
cell[due_cpu,certwright]=$(cpu "$bench/certwright.due.txt")
cell[due_rss,certwright]=$(rss "$bench/certwright.due.txt")

# certbot: renew_before_expiry = 2000 days (longer than Pebble's 5 years) makes 100 of the
# 1,000 lineages due; certbot renews one at a time, so one run only.
if [ "$certbot_lineages_ok" = 1 ] && [ -s "$bench/certbot.issue.txt" ]; then
  estimate=$(awk -v w="$(median "$bench/certbot.issue.txt" 1)" 'BEGIN { printf "%.0f", 100 * w }')
  if [ "$estimate" -le "$certbot_due_limit" ]; then
    echo "==> certbot: 100 due, one run (estimated ${estimate} s)" >&2
    for i in $(seq -f "%04g" 1 100); do
      sed -i '1i renew_before_expiry = 2000 days' "$cbr_root/config/renewal/l$i.example.com.conf"
    done
    if measure "$bench/certbot.due.txt" "${cb_renew[@]}"; then
      renewed=$(grep -c "/l[0-9]*.example.com/fullchain.pem (success)" "$bench/last.log" || true)
      if [ "$renewed" -eq 100 ]; then
        cell[due_wall,certbot]="$(wall "$bench/certbot.due.txt") (1 run)"
        cell[due_cpu,certbot]="$(cpu "$bench/certbot.due.txt") (1 run)"
        cell[due_rss,certbot]="$(rss "$bench/certbot.due.txt") (1 run)"
      else
        echo "certbot renewed $renewed of 100:" >&2; tail -30 "$bench/last.log" >&2
        cell[due_wall,certbot]="failed ($renewed of 100 renewed)"
      fi
    else
      cell[due_wall,certbot]=failed
    fi
  else
    cell[due_wall,certbot]="skipped (too slow: estimated $estimate s)"
  fi
fi

# --- nginx: parse + patch + print 1,000 server blocks -------------------------------------
echo "==> cargo bench --bench nginx_patch" >&2
if (cd "$here" && cargo bench --locked --quiet --bench nginx_patch) >"$bench/nginx_patch.log" 2>&1; then
  # Rust's Duration Debug: "14.746984ms", "850.2µs", "1.02s"
  cell[nginx,certwright]=$(sed -n 's/.*median \([0-9.]*\)\([^ 0-9.]*\) over.*/\1 \2/p' "$bench/nginx_patch.log" |
    awk '{ f = ($2 == "s") ? 1000 : ($2 == "ms") ? 1 : ($2 == "µs" || $2 == "us") ? 0.001 : ($2 == "ns") ? 1e-6 : -1
           if (f < 0) print $1 $2; else printf "%.1f ms (median of 21)", $1 * f }')
else
  tail -20 "$bench/nginx_patch.log" >&2; cell[nginx,certwright]=failed
fi

# --- daemon idle RSS ----------------------------------------------------------------------
# daemon_rss NAME DIRS...: start the daemon on a store, wait for its first pass to write the
# status file, give it a second to settle, read VmRSS, stop it with SIGTERM.
daemon_rss() {
  local status="$bench/$1.status.json"; shift
  rm -f "$status"
  "$cw" daemon --status-file "$status" "$@" >"$bench/daemon.log" 2>&1 &
  local pid=$! rss=failed
  for _ in $(seq 600); do [ -s "$status" ] && break; sleep 0.1; done
  if [ -s "$status" ]; then
    sleep 1
    rss=$(awk '/^VmRSS:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$pid/status")
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$rss"
}
echo "==> certwright daemon: idle RSS" >&2
cell[daemon1,certwright]=$(daemon_rss one "${common[@]}")
cell[daemon1000,certwright]=$(daemon_rss thousand "${cwr[@]}")

# --- table ----------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
get() { echo "${cell[$1,$2]:-$3}"; }
row() { # row LABEL KEY [certbot default] [lego default]
  printf '| %s | %s | %s | %s |\n' "$1" "$(get "$2" certwright n/a)" "$(get "$2" certbot "${3:-n/a}")" "$(get "$2" lego "${4:-n/a}")"
}
no_lego="n/a (no multi-lineage renew)"
no_daemon="n/a (no daemon)"
echo
echo "Machine: $(nproc) CPUs, $model, $mem RAM, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Load average (1/5/15 min): $load_start at the start, $load_end at the end"
echo "Versions: certwright $cw_version, certbot $certbot_version (venv, pip), lego $lego_version (Debian), pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')"
echo
echo "| Measurement (medians) | certwright | certbot | lego |"
echo "|---|---|---|---|"
row "One issuance, wall (n=$n_issue)" issue_wall
row "One issuance, CPU user+sys" issue_cpu
row "One issuance, peak RSS" issue_rss
row "renew, 1,000 lineages, none due, wall (n=$n_heavy)" noop_wall "" "$no_lego"
row "renew, 1,000 lineages, none due, CPU" noop_cpu "" "$no_lego"
row "renew, 1,000 lineages, none due, peak RSS" noop_rss "" "$no_lego"
row "renew, 100 due, wall (certwright --concurrency 16, n=$n_heavy)" due_wall "" "$no_lego"
row "renew, 100 due, CPU" due_cpu "" "$no_lego"
row "renew, 100 due, peak RSS" due_rss "" "$no_lego"
row "nginx: parse+patch+print 1,000 server blocks" nginx "n/a (not measured)" "n/a (no nginx installer)"
row "Daemon idle RSS, 1 lineage" daemon1 "$no_daemon" "$no_daemon"
row "Daemon idle RSS, 1,000 lineages" daemon1000 "$no_daemon" "$no_daemon"

# Targets: issuance <= 1/5 of certbot's wall time and faster than lego; peak RSS <= 15 MB;
# daemon idle RSS <= 10 MB (MB = 10^6 bytes).
echo
awk -v cw="$(median "$bench/certwright.issue.txt" 1)" -v rss="$(median "$bench/certwright.issue.txt" 2)" \
  -v cb="$( [ -s "$bench/certbot.issue.txt" ] && median "$bench/certbot.issue.txt" 1 || echo -1)" \
  -v lg="$( [ -s "$bench/lego.issue.txt" ] && median "$bench/lego.issue.txt" 1 || echo -1)" \
  -v d1="${cell[daemon1,certwright]%% *}" -v d1000="${cell[daemon1000,certwright]%% *}" 'BEGIN {
  ok = "met"; bad = "MISSED"
  if (cb > 0) printf "Target: issuance <= 1/5 of certbot wall: %.2f s vs %.2f s (%.1fx faster): %s\n", cw, cb / 5, cb / cw, (cw <= cb / 5 ? ok : bad)
  else print "Target: issuance <= 1/5 of certbot wall: not measured (certbot failed)"
  if (lg > 0) printf "Target: issuance faster than lego: %.2f s vs %.2f s: %s\n", cw, lg, (cw < lg ? ok : bad)
  else print "Target: issuance faster than lego: not measured (lego failed)"
  printf "Target: issuance peak RSS <= 15 MB: %.1f MB: %s\n", rss * 1024 / 1e6, (rss * 1024 <= 15e6 ? ok : bad)
  printf "Target: daemon idle RSS <= 10 MB: %.1f MB (1 lineage): %s; %.1f MB (1,000 lineages): %s\n", d1 * 1048576 / 1e6, (d1 * 1048576 <= 10e6 ? ok : bad), d1000 * 1048576 / 1e6, (d1000 * 1048576 <= 10e6 ? ok : bad)
}'
