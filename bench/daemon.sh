#!/usr/bin/env bash
# Daemon idle RSS: start `certwright daemon` on a store, wait until its first pass (a child
# process) has written the status file, let it settle, read the daemon's VmRSS. Done for a
# store with one certificate and one with 1,000 (copies of one issued certificate).
#
#   bench/daemon.sh [SETTLE_SECONDS=2]
settle=${1:-2}
source "$(dirname "$0")/lib.sh"
start_pebble
standalone=(--standalone --http-01-port "$http_port" --http-01-address 127.0.0.1)


one=(--config-dir "$bench/one/config" --work-dir "$bench/one/work" --logs-dir "$bench/one/logs")
"$cw" certonly "${standalone[@]}" -d one.example.com "${one[@]}" "${acme[@]}" >"$bench/one.log" 2>&1 \
  || { cat "$bench/one.log"; exit 1; }
rss1=$(idle_rss one "${one[@]}")

many=(--config-dir "$bench/many/config" --work-dir "$bench/many/work" --logs-dir "$bench/many/logs")
"$cw" certonly "${standalone[@]}" -d seed.example.com "${many[@]}" "${acme[@]}" >"$bench/seed.log" 2>&1 \
  || { cat "$bench/seed.log"; exit 1; }
make_lineages "$bench/many/config" "$bench/many/work" 1000
rss1000=$(idle_rss many "${many[@]}")

echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| daemon idle RSS (VmRSS after the first pass, release build) | |"
echo "|---|---|"
echo "| 1 certificate | $(mb "$rss1") |"
echo "| 1,000 certificates | $(mb "$rss1000") |"
echo "Target <= 10 MB: $([ "$rss1" -le 9765 ] && echo met || echo MISSED) (1), $([ "$rss1000" -le 9765 ] && echo met || echo MISSED) (1,000)"
