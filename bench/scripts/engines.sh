#!/usr/bin/env bash
# Issue #16's engine table: the same 3-store, one-group cluster (conf/local-3node, fsync on) with
# each storage engine, one after another in one sitting:
#   1. bench/scripts/heap-and-restart.sh with KEYS keys of 128 B: heap after a full GC, RSS and
#      data-directory bytes per key on every store, and the restart of a follower holding them
#      (process start -> serving, -> caught up);
#   2. on a fresh cluster, 256 closed-loop clients, 10,000 keys, linearizable reads:
#      128 B values 50/50, then the seed workload (16 B keys, 4 KB records, 50/50), DURATION each
#      after bench kv's default 3 s warm-up: ops/s, p50 and p99 as bench kv reports them.
# Everything goes to run/bench-engines-out/<engine>-*.txt; the summary lines are printed as they
# come. The machine may be shared: `uptime` is printed with every figure.
#
# usage: bench/scripts/engines.sh [ENGINE...]   (default: memory rocksdb btree bitcask)
# env:   KEYS (1000000), DURATION (30s), CLIENTS (256)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/scripts/common.sh
KEYS="${KEYS:-1000000}"
DURATION="${DURATION:-30s}"
CLIENTS="${CLIENTS:-256}"
ENGINES=("$@")
[[ ${#ENGINES[@]} -gt 0 ]] || ENGINES=(memory rocksdb btree bitcask)
OUT="run/bench-engines-out"
mkdir -p "$OUT"
./loomkv build > /dev/null

current=""
cleanup() { [[ -n "$current" ]] && ./loomkv cluster down "$current" > /dev/null 2>&1 || true; }
trap cleanup EXIT

for engine in "${ENGINES[@]}"; do
  case "$engine" in memory|rocksdb|btree|bitcask) ;; *) echo "engines: unknown engine '$engine'" >&2; exit 2 ;; esac
  folder="run/bench-engines-conf/engine-$engine"
  conf_variant local-3node "$folder" "run/engine-$engine" "engine-$engine" "engine=$engine"
  current="$folder"
  echo "=== $engine: $KEYS keys of 128 B: heap, RSS, disk, restart ($(uptime))"
  KEYS="$KEYS" bench/scripts/heap-and-restart.sh "$folder" 2>&1 | tee "$OUT/$engine-heap-restart.txt" \
      | grep -E 'heap used|serving clients|applied index >=|^load'

  ./loomkv cluster down "$folder" > /dev/null 2>&1 || true
  rm -rf "run/engine-$engine"
  ./loomkv cluster up "$folder" > /dev/null
  for workload in 128b seed; do
    if [[ "$workload" == seed ]]; then args=(--workload seed); else args=(--value-size 128 --read-ratio 0.5); fi
    echo "=== $engine: $workload, $CLIENTS clients, $DURATION ($(uptime))"
    ./loomkv bench kv --cluster "$folder" --clients "$CLIENTS" --keys 10000 --duration "$DURATION" "${args[@]}" \
        > "$OUT/$engine-$workload.txt" 2>&1
    sed -n '/^latency per operation/,$p' "$OUT/$engine-$workload.txt"
  done
  ./loomkv cluster down "$folder" > /dev/null 2>&1 || true
  current=""
done
