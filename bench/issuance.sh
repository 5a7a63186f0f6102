#!/usr/bin/env bash
# One issuance, N times: `certwright certonly --standalone --force-renewal` for one name
# against a local Pebble. Prints the median wall time, peak RSS and CPU time.
# Targets: median wall <= 0.15 s, peak RSS <= 15 MB.   Usage: bench/issuance.sh [N]
source "$(dirname "$0")/lib.sh"
n=${1:-20}
start_pebble
issue=("$cw" certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1
  -d bench.example.com --force-renewal "${common[@]}" "${acme[@]}")
# Warm-up, not counted: registers the account and creates the store.
"${issue[@]}" >"$bench/warmup.log" 2>&1 || { cat "$bench/warmup.log"; exit 1; }
echo "==> $n issuances of bench.example.com" >&2
pebble_cpu_before=$(proc_cpu "$pebble_pid")
for _ in $(seq "$n"); do measure "$bench/issuance.txt" "${issue[@]}"; done
pebble_cpu=$(awk -v a="$pebble_cpu_before" -v b="$(proc_cpu "$pebble_pid")" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / n }')
awk -v n="$n" -v wall="$(median "$bench/issuance.txt" 1)" -v rss="$(median "$bench/issuance.txt" 2)" \
  -v cpu="$(median "$bench/issuance.txt" 3)" -v pebble_cpu="$pebble_cpu" \
  -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "issuance (n=%d): median wall %.3f s, median peak RSS %.1f MiB, median CPU %.3f s\n", n, wall, rss / 1024, cpu
  printf "targets: wall <= 0.15 s %s, RSS <= 15 MB (%.1f MiB) %s\n", (wall <= 0.15 ? "met" : "MISSED"), 15e6 / 1048576, (rss * 1024 <= 15e6 ? "met" : "MISSED")
  printf "Pebble CPU per issuance (mean): %.3f s; load average at the end: %s\n", pebble_cpu, load
}'
