#!/usr/bin/env bash
# Fleet mode figures: a 3-node fleet on one machine sharing a local redis-server.
#
#   bench/fleet.sh [RUNS] [SYNC_INTERVAL]
#     RUNS           forced renewals measured (default 5)
#     SYNC_INTERVAL  the daemons' --sync-interval in seconds (default 1)
#
# Node 1 renews (`renew --force-renewal`); nodes 2 and 3 run `certwright daemon` and
# install what the fleet publishes. Printed per run and as medians:
#   - converge: from the start of node 1's renewal to the last node holding the same
#     fullchain.pem (polled every 10 ms), i.e. order + publish + the others' next sync;
#   - renew: node 1's renewal alone;
#   - Redis commands: what node 1's renewal sent (INFO commandstats before and after,
#     with the daemons stopped so only node 1 is counted).
# Needs redis-server (apt-get install redis-server) besides what lib.sh installs.
runs=${1:-5}
interval=${2:-1}
source "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || {
  [ "$(id -u)" -eq 0 ] || { echo "missing redis-server: sudo apt-get install -y redis-server" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >&2
}

start_pebble
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$bench" \
  >"$bench/redis.log" 2>&1 &
redis_pid=$!
daemons=()
trap 'kill -TERM "${daemons[@]}" $redis_pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
openssl rand -base64 32 >"$bench/fleet.key"
chmod 600 "$bench/fleet.key"
fleet=(--store "redis://127.0.0.1:$redis_port/0" --store-key-file "$bench/fleet.key")
node_flags() { # node_flags N: node N's own dirs and id, and the fleet's store
  echo --config-dir "$bench/n$1/config" --work-dir "$bench/n$1/work" \
    --logs-dir "$bench/n$1/logs" --node-id "node$1" "${fleet[@]}"
}
node() { # node N ARGS...: certwright as node N
  local n=$1; shift
  "$cw" "$@" $(node_flags "$n")
}
name=fleet.example.com
node 1 certonly --standalone --http-01-port "$http_port" --http-01-address 127.0.0.1 \
  -d "$name" "${acme[@]}" >"$bench/issue.log" 2>&1 || { cat "$bench/issue.log"; exit 1; }

start_daemons() {
  daemons=()
  for n in 2 3; do
    # Started directly (not through the node function): $! must be certwright's own pid.
    "$cw" daemon --sync-interval "$interval" $(node_flags "$n") >"$bench/daemon$n.log" 2>&1 &
    daemons+=($!)
  done
}
stop_daemons() { kill -TERM "${daemons[@]}" 2>/dev/null || true; wait "${daemons[@]}" 2>/dev/null || true; }
same_everywhere() {
  local want; want=$(sha256sum <"$bench/n1/config/live/$name/fullchain.pem")
  for n in 2 3; do
    [ "$({ sha256sum <"$bench/n$n/config/live/$name/fullchain.pem"; } 2>/dev/null)" = "$want" ] || return 1
  done
}
start_daemons
for _ in $(seq 500); do same_everywhere && break; sleep 0.02; done
same_everywhere || { echo "the daemons never installed the first version" >&2; tail "$bench"/daemon*.log >&2; exit 1; }

now() { date +%s.%N; }
: >"$bench/renew.txt"; : >"$bench/converge.txt"
for i in $(seq "$runs"); do
  t0=$(now)
  node 1 renew --force-renewal --no-random-sleep-on-renew >"$bench/renew.log" 2>&1 \
    || { cat "$bench/renew.log"; exit 1; }
  t1=$(now)
  for _ in $(seq 3000); do same_everywhere && break; sleep 0.01; done
  t2=$(now)
  same_everywhere || { echo "run $i: the fleet did not converge" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$bench/renew.txt"
  awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f\n", b - a }' >>"$bench/converge.txt"
  echo "run $i: renew $(tail -1 "$bench/renew.txt") s, converged $(tail -1 "$bench/converge.txt") s" >&2
done
stop_daemons

# Round trips of one renewal by node 1 alone.
calls() { redis-cli -p "$redis_port" info commandstats | awk -F'[=,:]' '/^cmdstat_/ { n += $3 } END { print n }'; }
redis-cli -p "$redis_port" config resetstat >/dev/null
before=$(calls)
node 1 renew --force-renewal --no-random-sleep-on-renew >"$bench/renew.log" 2>&1 || { cat "$bench/renew.log"; exit 1; }
after=$(calls)
# INFO itself is counted once per call() after the reset.
roundtrips=$((after - before - 1))
noop_before=$(calls)
node 1 renew --no-random-sleep-on-renew >"$bench/noop.log" 2>&1 || { cat "$bench/noop.log"; exit 1; }
noop=$(( $(calls) - noop_before - 1))

echo
echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "3-node fleet, one lineage, daemons' --sync-interval ${interval} s, $runs runs:"
echo "| figure | median |"
echo "|---|---|"
echo "| forced renewal on node 1 (order + publish) | $(median "$bench/renew.txt" 1) s |"
echo "| order to the last node holding the new files | $(median "$bench/converge.txt" 1) s |"
echo "| Redis commands, one renewal (node 1) | $roundtrips |"
echo "| Redis commands, renew with nothing due | $noop |"
