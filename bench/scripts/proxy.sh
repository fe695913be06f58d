#!/usr/bin/env bash
# The routing proxy's cost (issue #15's benchmark): the same load against one 3-store, 4-group
# cluster (conf/sharded-3node with data-groups=4; fsync on; linearizable reads), 256 closed-loop
# clients, 10,000 keys, 128 B values, 50/50, alternated in one sitting: direct (the slot-aware
# client routes by itself) and through one `loomkv proxy --listen` (the client sees one group),
# ROUNDS times. Each run prints ops/s and p50/p99.
#
# With MGET_KEYS=N each read is a multi-get of N keys (bench kv --mget-keys; issue #15's "MGET of
# 100 keys across all groups": the client splits it by group, the proxy does for the proxied runs).
#
# usage: bench/scripts/proxy.sh
# env:   DURATION (20s), CLIENTS (256), ROUNDS (3), WARM (30s), MGET_KEYS (0: single-key reads)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DURATION="${DURATION:-20s}"
CLIENTS="${CLIENTS:-256}"
ROUNDS="${ROUNDS:-3}"
WARM="${WARM:-30s}"
MGET_KEYS="${MGET_KEYS:-0}"
PROXY="127.0.0.1:7790"
OUT="run/bench-proxy-out"
mkdir -p "$OUT"
./loomkv build > /dev/null

folder="run/bench-proxy-conf"
rm -rf "$folder"; mkdir -p "$folder"
for f in conf/sharded-3node/*.properties; do
  sed -e "s/^data-groups=.*/data-groups=4/" -e "s|^data-dir=run/sharded-3node/|data-dir=run/proxy-bench/|" "$f" > "$folder/$(basename "$f")"
done
./loomkv cluster down "$folder" > /dev/null 2>&1 || true
rm -rf run/proxy-bench
./loomkv cluster up "$folder" > /dev/null
./loomkv bench stores --cluster "$folder" --await-leaders > /dev/null
./loomkv proxy --listen "$PROXY" --cluster "$folder" > "$OUT/proxy.log" 2>&1 &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null || true; ./loomkv cluster down "$folder" > /dev/null 2>&1 || true' EXIT
sleep 3

load() { # target, extra flags...
  local target=$1; shift
  ./loomkv bench kv --cluster "$target" --keys 10000 --value-size 128 --clients "$CLIENTS" --mget-keys "$MGET_KEYS" "$@"
}
load "$folder" --read-ratio 0.5 --warmup 0s --duration "$WARM" > /dev/null 2>&1 # preload and warm: not measured
load "$PROXY" --read-ratio 0.5 --warmup 0s --duration 10s --no-preload > /dev/null 2>&1 # warm the proxy too

for round in $(seq 1 "$ROUNDS"); do
  for variant in direct proxy; do
    target="$folder"; [[ $variant == proxy ]] && target="$PROXY"
    echo "== round $round, $variant: $(uptime)"
    load "$target" --read-ratio 0.5 --warmup 3s --duration "$DURATION" --no-preload > "$OUT/$variant-$round.txt" 2>&1
    grep -E '^(  throughput|latency|  read|  update|errors)' "$OUT/$variant-$round.txt" | sed 's/^/   /'
  done
done
