#!/usr/bin/env bash
# Issue 6's two memory/restart targets, on a fresh local cluster:
#   1. load KEYS keys of VALUE_BYTES (default 1,000,000 x 128 B) with multi-put preload;
#      then every node's heap after a full GC (jcmd GC.run + GC.heap_info) vs the raw data
#      (keys + values bytes); target <= 3x; with each node's RSS and data directory bytes
#      (WAL, snapshots and engine files) per key;
#   2. SIGKILL one follower and start it again: time from its process start to "serving
#      clients" in its log, and to its applied index reaching the leader's commit index at
#      the kill (it serves reads from the restored state); target <= 5 s.
#
# usage: bench/scripts/heap-and-restart.sh [CONFIG_FOLDER] (default conf/local-3node)
# env:   KEYS (1000000), VALUE_BYTES (128), BATCH (256 keys per multi-put)
# Starts from an empty data directory (the folder's run dir is deleted first) and stops the
# cluster at the end. Prints `uptime` with the figures: the machine may be shared.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/scripts/common.sh
FOLDER="${1:-conf/local-3node}"
KEYS="${KEYS:-1000000}"
VALUE_BYTES="${VALUE_BYTES:-128}"
BATCH="${BATCH:-256}"
RUN_DIR="run/$(basename "$FOLDER")"
JAVA_HOME="$(./loomkv java-home)"
JCMD="$JAVA_HOME/bin/jcmd"
KEY_BYTES=16 # the bench's key size

cleanup() { ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true; }
trap cleanup EXIT

./loomkv build > /dev/null
./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true
rm -rf "$RUN_DIR"
./loomkv cluster up "$FOLDER" > /dev/null
echo "load: $(uptime)"

echo "== preload: $KEYS keys of $VALUE_BYTES B in multi-puts of $BATCH"
./loomkv bench kv --cluster "$FOLDER" --keys "$KEYS" --value-size "$VALUE_BYTES" --preload-batch "$BATCH" \
    --clients 32 --read-ratio 1 --duration 2s --warmup 0s 2>/dev/null | grep -E '^preload|throughput'

# Let the snapshots the load started finish (a node snapshots every snapshot-threshold-entries
# entries or 64 MiB of entries): wait until no node is writing one (*.tmp) for 3 s in a row.
quiet=0
for _ in $(seq 1 120); do
  if ls "$RUN_DIR"/*/raft/snap/*/*.tmp > /dev/null 2>&1; then quiet=0; else quiet=$((quiet + 1)); fi
  [[ $quiet -ge 6 ]] && break
  sleep 0.5
done
ls -l "$RUN_DIR"/*/raft/snap/*/ | grep -E 'snap$' || true
RAW=$(( KEYS * (KEY_BYTES + VALUE_BYTES) ))
echo "== heap after a full GC (raw data: $RAW bytes = $(( RAW / 1000000 )) MB)"
for pidfile in "$RUN_DIR"/node*.pid; do
  pid=$(cat "$pidfile")
  "$JCMD" "$pid" GC.run > /dev/null
  used_kb=$("$JCMD" "$pid" GC.heap_info | grep -m1 -oE "used [0-9]+K" | grep -oE "[0-9]+")
  rss_kb=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  node_dir="$RUN_DIR/$(basename "$pidfile" .pid)"
  disk_bytes=$(du -sb "$node_dir" | cut -f1)
  # The engine's own files (persistent engines), apart from the WAL's preallocated segments and the snapshots.
  engine_bytes=$( { du -sb "$node_dir/engine" 2>/dev/null || echo 0; } | cut -f1)
  printf '%s (pid %s): heap used %d MB = %.2fx raw; RSS %d MB = %.0f B/key; data dir %d MB = %.0f B/key (engine files %.0f B/key)\n' \
      "$(basename "$pidfile" .pid)" "$pid" $(( used_kb / 1024 )) "$(echo "$used_kb * 1024 / $RAW" | bc -l)" \
      $(( rss_kb / 1024 )) "$(echo "$rss_kb * 1024 / $KEYS" | bc -l)" $(( disk_bytes / 1000000 )) \
      "$(echo "$disk_bytes / $KEYS" | bc -l)" "$(echo "$engine_bytes / $KEYS" | bc -l)"
done
echo "load: $(uptime)"

echo "== restart of a follower"
STATUS="$(./loomkv ctl --cluster "$FOLDER" status 2>/dev/null)"
echo "$STATUS"
# ctl status columns: ADDRESS STORE GROUP ROLE TERM COMMIT APPLIED LEADER QUIET (one group here).
# Group 1, the data group (group 0, the shard controller, is listed first).
FOLLOWER=$(echo "$STATUS" | awk '$3=="1" && $4=="FOLLOWER"{print $2; exit}')
LEADER=$(echo "$STATUS" | awk '$3=="1" && $4=="LEADER"{print $2; exit}')
FOLLOWER_ADDR=$(echo "$STATUS" | awk -v id="$FOLLOWER" '$2==id && $3=="1"{print $1}')
COMMIT=$(echo "$STATUS" | awk -v id="$LEADER" '$2==id && $3=="1"{print $6}')
PID=$(cat "$RUN_DIR/node$FOLLOWER.pid")
kill -9 "$PID"
while kill -0 "$PID" 2> /dev/null; do sleep 0.05; done
du -sh "$RUN_DIR/node$FOLLOWER"/raft/* 2>/dev/null || true
LOG="$RUN_DIR/node$FOLLOWER.log"
LINES_BEFORE=$(wc -l < "$LOG")
./loomkv cluster up "$FOLDER" > /dev/null
NEW_PID=$(cat "$RUN_DIR/node$FOLLOWER.pid")
# The process start time in ms since the epoch, from /proc (clock ticks since boot).
BOOT=$(awk '/^btime/{print $2}' /proc/stat)
START_TICKS=$(awk '{print $22}' "/proc/$NEW_PID/stat")
START_MS=$(( BOOT * 1000 + START_TICKS * 1000 / $(getconf CLK_TCK) ))
while true; do
  applied=$(./loomkv ctl --cluster "$FOLLOWER_ADDR" --timeout-ms 2000 status 2>/dev/null | awk -v id="$FOLLOWER" '$2==id && $3=="1"{print $7}' || true)
  if [[ -n "$applied" && "$applied" -ge "$COMMIT" ]]; then
    CAUGHT_UP_MS=$(date +%s%3N)
    break
  fi
  sleep 0.1
done
SERVING=$(tail -n +"$((LINES_BEFORE + 1))" "$LOG" | grep -m1 ' serving .* for clients on ' | cut -c1-12)
SERVING_MS=$(log_time_ms "$SERVING" "$START_MS")
echo "node $FOLLOWER: process start -> 'serving clients' in its log: $(( SERVING_MS - START_MS )) ms"
echo "node $FOLLOWER: process start -> applied index >= $COMMIT (the commit index at the kill), seen by ctl status polling: $(( CAUGHT_UP_MS - START_MS )) ms (includes the polling JVM's start-up)"
tail -n +"$((LINES_BEFORE + 1))" "$LOG" | grep -E 'recovered|restored|serving' | cut -c1-220
echo "load: $(uptime)"
