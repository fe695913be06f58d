#!/usr/bin/env bash
# Issue #16's "notes' benchmark on RocksDB": the design notes' seed workload (16 B keys, 4 KB
# records, 50% reads / 50% updates, uniform keys) on conf/sharded-3node (3 stores, 16 data groups,
# every group on all three stores, fsync on) with engine=rocksdb, on a fresh data directory:
#   1. a closed-loop ramp (RAMP, default 64:64:10s:512 clients) with --p99-bound 50ms: one line per
#      level and an SVG of throughput and p99 against the level;
#   2. a steady run at CLIENTS (256) for DURATION (30s);
#   3. every store's RSS and data directory bytes.
# KEYS (default 100,000 = 410 MB of records per replica) are preloaded first (32 clients). The goal
# (issue #16) is 20,000 ops/s with p99 under 50 ms. Output: run/bench-notes-rocksdb-out/. The
# machine may be shared: `uptime` is printed with every figure.
#
# usage: bench/scripts/notes-rocksdb.sh        env: KEYS, RAMP, CLIENTS, DURATION, ENGINE (rocksdb)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/scripts/common.sh
KEYS="${KEYS:-100000}"
RAMP="${RAMP:-64:64:10s:512}"
CLIENTS="${CLIENTS:-256}"
DURATION="${DURATION:-30s}"
ENGINE="${ENGINE:-rocksdb}"
NAME="notes-$ENGINE"
FOLDER="run/bench-conf/$NAME"
RUN_DIR="run/$NAME"
OUT="run/bench-$NAME-out"
./loomkv build > /dev/null

cleanup() { ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true; }
trap cleanup EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
conf_variant sharded-3node "$FOLDER" "$RUN_DIR" "$NAME" "engine=$ENGINE"
./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true
rm -rf "$RUN_DIR"
./loomkv cluster up "$FOLDER" > "$OUT/cluster-up.txt" 2>&1 || { cat "$OUT/cluster-up.txt" >&2; exit 1; }

# The preload on its own, by 32 clients: a ramp's preload runs with the ramp's highest client count
# (512 multi-puts of 256 KB at once), which timed out nearly every key on the first run.
echo "=== $ENGINE, 16 groups: preload of $KEYS keys ($(uptime))"
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --preload-batch 64 --clients 32 --read-ratio 1 \
    --duration 2s --warmup 0s > "$OUT/preload.txt" 2>&1 || { cat "$OUT/preload.txt"; exit 1; }
grep -E '^preload' "$OUT/preload.txt"
if ! grep -qE '^preload: .* 0 failed' "$OUT/preload.txt"; then echo "notes-rocksdb: the preload failed keys; stopping" >&2; exit 1; fi
echo "=== $ENGINE, 16 groups: seed workload ramp $RAMP, $KEYS keys ($(uptime))"
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --no-preload --ramp "$RAMP" \
    --p99-bound 50ms --plot "$OUT/ramp.svg" > "$OUT/ramp.txt" 2>&1 || { cat "$OUT/ramp.txt"; exit 1; }
grep -E '^ramp|^ +[0-9]+ ' "$OUT/ramp.txt"
echo "=== $ENGINE, 16 groups: seed workload, $CLIENTS clients, $DURATION ($(uptime))"
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --clients "$CLIENTS" --duration "$DURATION" --no-preload \
    > "$OUT/steady.txt" 2>&1 || { cat "$OUT/steady.txt"; exit 1; }
sed -n '/^latency per operation/,$p' "$OUT/steady.txt"
echo "=== stores after the runs ($(uptime))"
for pidfile in "$RUN_DIR"/node*.pid; do
  pid=$(cat "$pidfile")
  id=$(basename "$pidfile" .pid | tr -dc 0-9)
  rss_kb=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  printf 'store %s: RSS %d MB, data directory %d MB\n' "$id" $(( rss_kb / 1024 )) \
      $(( $(du -sb "$RUN_DIR/store$id" | cut -f1) / 1000000 ))
done
