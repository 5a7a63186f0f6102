#!/usr/bin/env bash
# Issue 13's scale targets with 10,000 lineages (copies of one issued certificate, see
# make_lineages in lib.sh) against a local Pebble:
#  1. `renew` with nothing due: once cold (it asks the CA's directory about ARI), then RUNS
#     times; median wall time and peak RSS (target: < 1 s).
#  2. the same with --metrics-textfile: the extra wall time is what writing the textfile for
#     10,000 lineages costs (target: < 0.2 s); promtool checks the file when installed.
#  3. daemon idle RSS after its first pass (target: < 10 MB).
# Usage: bench/alerts.sh [RUNS=5] [LINEAGES=10000]
source "$(dirname "$0")/lib.sh"
runs=${1:-5}
count=${2:-10000}
start_pebble
standalone=(--standalone --http-01-port "$http_port" --http-01-address 127.0.0.1)

echo "==> issuing seed.example.com and copying it into $count lineages" >&2
"$cw" certonly "${standalone[@]}" -d seed.example.com "${common[@]}" "${acme[@]}" >"$bench/seed.log" 2>&1 \
  || { cat "$bench/seed.log"; exit 1; }
make_lineages "$bench/config" "$bench/work" "$count"
renew=("$cw" renew --no-random-sleep-on-renew "${common[@]}")
textfile="$bench/certwright.prom"

measure "$bench/cold.txt" "${renew[@]}"
grep -q "not due" "$bench/last.log" || { cat "$bench/last.log"; exit 1; }
for _ in $(seq "$runs"); do
  measure "$bench/noop.txt" "${renew[@]}"
  measure "$bench/metrics.txt" "${renew[@]}" --metrics-textfile "$textfile"
done
if grep -q "renewed\|FAILED" "$bench/last.log"; then cat "$bench/last.log"; exit 1; fi
series=$(grep -c 'certwright_certificate_not_after_timestamp_seconds{' "$textfile" || true)
promtool_says="promtool not installed"
if command -v promtool >/dev/null 2>&1; then
  promtool_says=$(promtool check metrics <"$textfile" 2>&1 && echo "promtool check metrics: OK" || true)
fi
rss=$(idle_rss many "${common[@]}")

echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$count" -v runs="$runs" -v cold="$(median "$bench/cold.txt" 1)" \
  -v wall="$(median "$bench/noop.txt" 1)" -v rss="$(median "$bench/noop.txt" 2)" \
  -v cpu="$(median "$bench/noop.txt" 3)" -v mwall="$(median "$bench/metrics.txt" 1)" \
  -v mrss="$(median "$bench/metrics.txt" 2)" -v size="$(stat -c %s "$textfile")" \
  -v series="$series" 'BEGIN {
  printf "| %d lineages (release build) | median of %d |\n|---|---|\n", n, runs
  printf "| renew, nothing due, first run (asks the CA about ARI) | %.2f s |\n", cold
  printf "| renew, nothing due | %.2f s wall, %.2f s CPU, %.1f MiB peak RSS |\n", wall, cpu, rss / 1024
  printf "| renew, nothing due, --metrics-textfile | %.2f s wall, %.1f MiB peak RSS; textfile %d series, %.1f MB |\n", mwall, mrss / 1024, series, size / 1e6
  printf "| textfile cost (difference) | %.2f s |\n", mwall - wall
  printf "Targets: no-op renew < 1 s: %s; textfile < 0.2 s: %s\n", (wall < 1 ? "met" : "MISSED"), (mwall - wall < 0.2 ? "met" : "MISSED")
}'
echo "$promtool_says" | tail -3
echo "| daemon idle RSS, $count lineages | $(mb "$rss") |"
echo "Target < 10 MB: $([ "$rss" -lt 9766 ] && echo met || echo MISSED)"
