#!/usr/bin/env bash
# `certwright renew` at scale against a local Pebble:
#  1. 1,000 lineages, nothing due: `renew --no-random-sleep-on-renew`, once cold (no renewal
#     state yet: it asks the CA's directory once whether it offers ARI) and then RUNS times;
#     prints the median wall time and peak RSS (target: <= 0.3 s).
#  2. 100 of them due, renewed in one run with --concurrency 16; prints the wall time and its
#     ratio to one issuance (target: <= 10x).
# The lineages are copies of one issued certificate (see make_lineages). They are made due
# by giving their renewal configs their own domain name ("configured domains differ from the
# certificate"): renew_before_expiry_days cannot do it, being capped at half the lifetime,
# and Pebble's certificates last 5 years. Usage: bench/renew.sh [RUNS]
source "$(dirname "$0")/lib.sh"
runs=${1:-10}
start_pebble
standalone=(--standalone --http-01-port "$http_port" --http-01-address 127.0.0.1)

# One issuance, for the ratio: median of 5 in a separate store (after a warm-up).
ref=(--config-dir "$bench/ref/config" --work-dir "$bench/ref/work" --logs-dir "$bench/ref/logs")
ref_issue=("$cw" certonly "${standalone[@]}" -d ref.example.com --force-renewal "${ref[@]}" "${acme[@]}")
"${ref_issue[@]}" >"$bench/ref.log" 2>&1 || { cat "$bench/ref.log"; exit 1; }
for _ in 1 2 3 4 5; do measure "$bench/ref.txt" "${ref_issue[@]}"; done
one=$(median "$bench/ref.txt" 1)

echo "==> issuing seed.example.com and copying it into 1,000 lineages" >&2
"$cw" certonly "${standalone[@]}" -d seed.example.com "${common[@]}" "${acme[@]}" >"$bench/seed.log" 2>&1 \
  || { cat "$bench/seed.log"; exit 1; }
make_lineages "$bench/config" "$bench/work" 1000
renew=("$cw" renew --no-random-sleep-on-renew "${common[@]}")
count_lineages() { ls "$bench/config/renewal" | wc -l; }
echo "==> $(count_lineages) lineages; renew with nothing due" >&2

# A run that asks the CA whether it offers ARI records the answer in every lineage's renewal
# state (ari_next_check); later runs that do not ask leave the state byte-identical.
measure "$bench/cold.txt" "${renew[@]}"
grep -q "not due" "$bench/last.log" || { cat "$bench/last.log"; exit 1; }
state_before=$({ cat "$bench/work/state/"*.json 2>/dev/null || true; } | md5sum)
for _ in $(seq "$runs"); do measure "$bench/noop.txt" "${renew[@]}"; done
state_after=$({ cat "$bench/work/state/"*.json 2>/dev/null || true; } | md5sum)
# And, where strace exists, count connections to Pebble in one more no-op run.
connects=n/a
if command -v strace >/dev/null 2>&1; then
  strace -f -qq -e trace=connect -o "$bench/strace.txt" "${renew[@]}" >/dev/null 2>&1 || true
  connects=$(grep -c "htons($acme_port)" "$bench/strace.txt" || true)
fi
if grep -q "renewed\|FAILED" "$bench/last.log"; then cat "$bench/last.log"; exit 1; fi

echo "==> 100 lineages due (their renewal configs now name their own domain), --concurrency 16" >&2
python3 - "$bench/config" <<'PY'
import json, sys
config = sys.argv[1]
for i in range(1, 101):
    name = f"l{i:04d}.example.com"
    path = f"{config}/renewal/{name}.json"
    conf = json.load(open(path))
    conf["domains"] = [name]
    json.dump(conf, open(path, "w"), indent=2)
PY
pebble_cpu_before=$(proc_cpu "$pebble_pid")
measure "$bench/due.txt" "${renew[@]}" --concurrency 16
pebble_cpu=$(awk -v a="$pebble_cpu_before" -v b="$(proc_cpu "$pebble_pid")" 'BEGIN { printf "%.2f", b - a }')
renewed=$(grep -c ": renewed (version 2" "$bench/last.log" || true)

awk -v cold="$(median "$bench/cold.txt" 1)" -v cold_rss="$(median "$bench/cold.txt" 2)" \
  -v runs="$runs" -v wall="$(median "$bench/noop.txt" 1)" -v rss="$(median "$bench/noop.txt" 2)" \
  -v cpu="$(median "$bench/noop.txt" 3)" -v due="$(median "$bench/due.txt" 1)" \
  -v due_rss="$(median "$bench/due.txt" 2)" -v due_cpu="$(median "$bench/due.txt" 3)" \
  -v one="$one" -v renewed="$renewed" -v pebble_cpu="$pebble_cpu" -v load="$(cut -d' ' -f1 /proc/loadavg)" -v connects="$connects" -v same_state="$([ "$state_before" = "$state_after" ] && echo 1 || echo 0)" 'BEGIN {
  printf "renew, 1,000 lineages, nothing due, first run (no state yet): wall %.2f s, peak RSS %.1f MiB\n", cold, cold_rss / 1024
  printf "renew, 1,000 lineages, nothing due (n=%d): median wall %.2f s, median peak RSS %.1f MiB, median CPU %.2f s (target <= 0.3 s: %s)\n", runs, wall, rss / 1024, cpu, (wall <= 0.3 ? "met" : "MISSED")
  printf "  later runs left the renewal state untouched (no CA contact for ARI): %s; connections to the CA in one more run: %s\n", (same_state ? "yes" : "NO"), connects
  printf "one issuance (median of 5): %.2f s\n", one
  printf "renew, 100 due, --concurrency 16: %d renewed, wall %.2f s, peak RSS %.1f MiB, CPU %.2f s, %.1fx one issuance (target <= 10x: %s)\n", renewed, due, due_rss / 1024, due_cpu, due / one, (due / one <= 10 ? "met" : "MISSED")
  printf "  Pebble used %.2f s of CPU during that run; load average at the end: %s\n", pebble_cpu, load
}'
