#!/usr/bin/env bash
# Throughput and latency while slots move (issue #15's benchmark): the same load against one
# 3-store, 4-group cluster (conf/sharded-3node with data-groups=4; fsync on; linearizable reads),
# 256 closed-loop clients, 10,000 keys, 128 B values, 50/50, alternated in one sitting: a run with
# no moves, then a run that moves 64 slots to another group every 5 s (bench kv
# --move-slots-every), ROUNDS times. Each run prints ops/s, p50/p99 and errors; the moving runs
# also how many moves were made. The cluster is warmed once first (unmeasured), so the JIT has settled.
#
# usage: bench/scripts/slot-moves.sh
# env:   DURATION (30s), CLIENTS (256), ROUNDS (3), EVERY (5s), SLOTS (64), WARM (30s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DURATION="${DURATION:-30s}"
CLIENTS="${CLIENTS:-256}"
ROUNDS="${ROUNDS:-3}"
EVERY="${EVERY:-5s}"
SLOTS="${SLOTS:-64}"
WARM="${WARM:-30s}"
OUT="run/bench-slot-moves-out"
mkdir -p "$OUT"
./loomkv build > /dev/null

folder="run/bench-slot-moves-conf"
rm -rf "$folder"; mkdir -p "$folder"
for f in conf/sharded-3node/*.properties; do
  sed -e "s/^data-groups=.*/data-groups=4/" -e "s|^data-dir=run/sharded-3node/|data-dir=run/slot-moves/|" "$f" > "$folder/$(basename "$f")"
done
./loomkv cluster down "$folder" > /dev/null 2>&1 || true
rm -rf run/slot-moves
./loomkv cluster up "$folder" > /dev/null
./loomkv bench stores --cluster "$folder" --await-leaders > /dev/null
trap './loomkv cluster down "$folder" > /dev/null 2>&1 || true' EXIT

load() { # extra bench kv flags...
  ./loomkv bench kv --cluster "$folder" --keys 10000 --value-size 128 --read-ratio 0.5 --clients "$CLIENTS" "$@"
}
load --warmup 0s --duration "$WARM" > /dev/null 2>&1 # preload and warm: not measured

for round in $(seq 1 "$ROUNDS"); do
  for variant in steady moving; do
    flags=(--warmup 3s --duration "$DURATION" --no-preload)
    [[ $variant == moving ]] && flags+=(--move-slots-every "$EVERY" --move-slots "$SLOTS")
    echo "== round $round, $variant: $(uptime)"
    load "${flags[@]}" > "$OUT/$variant-$round.txt" 2> "$OUT/$variant-$round.err"
    grep -E '^(  throughput|latency|  read|  update|errors|slot moves)' "$OUT/$variant-$round.txt" | sed 's/^/   /'
    ./loomkv ctl --cluster "$folder" config wait --wait-seconds 120 > /dev/null
  done
done
