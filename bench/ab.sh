#!/usr/bin/env bash
# Two certwright binaries side by side against one Pebble, alternating run by run so both see
# the same load: one issuance (--force-renewal) and a no-op `renew` of one lineage, each
# timed with nanosecond clocks (bench/issuance.sh's /usr/bin/time rounds to 10 ms). Prints
# the medians. Usage: bench/ab.sh OLD_BINARY [N]   (NEW is target/release/certwright)
source "$(dirname "$0")/lib.sh"
old=${1:?usage: bench/ab.sh OLD_BINARY [N]}
n=${2:-21}
start_pebble
declare -A times
for which in old new; do
  bin=$cw; [ "$which" = old ] && bin=$old
  dirs=(--config-dir "$bench/$which/config" --work-dir "$bench/$which/work" --logs-dir "$bench/$which/logs")
  eval "issue_$which=(\"\$bin\" certonly --standalone --http-01-port \"\$http_port\" --http-01-address 127.0.0.1 -d ab-$which.example.com --force-renewal \"\${dirs[@]}\" \"\${acme[@]}\")"
  eval "renew_$which=(\"\$bin\" renew --no-random-sleep-on-renew \"\${dirs[@]}\")"
  eval "\"\${issue_$which[@]}\"" >/dev/null 2>&1 || { echo "warm-up failed: $which" >&2; exit 1; }
done
ns() { date +%s%N; }
for _ in $(seq "$n"); do
  for which in old new; do
    for kind in issue renew; do
      t0=$(ns); eval "\"\${${kind}_$which[@]}\"" >/dev/null 2>&1 || { echo "failed: $kind $which" >&2; exit 1; }
      echo $(( $(ns) - t0 )) >>"$bench/$kind-$which.txt"
    done
  done
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1e6 }'; }
for kind in issue renew; do
  printf '%-28s old %s ms   new %s ms\n' "$([ $kind = issue ] && echo 'one issuance' || echo 'no-op renew, one lineage')" \
    "$(med "$bench/$kind-old.txt")" "$(med "$bench/$kind-new.txt")"
done
echo "(medians of $n alternating runs; load average $(cut -d' ' -f1-3 /proc/loadavg))"
