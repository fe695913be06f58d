#!/usr/bin/env bash
# Issue #16's "larger than memory" run: KEYS records of the seed workload (16 B keys, 4,080 B
# values; default 1,250,000 = 5.1 GB) on conf/sharded-3node (3 stores, 16 data groups, each on all
# three stores, fsync on) with engine=rocksdb, every server with the launcher's 512 MB heap, so each
# store holds ten times its heap:
#   1. the load (multi-puts of BATCH keys): time and MB/s of records;
#   2. every store's heap after a full GC, RSS and data directory bytes;
#   3. the seed workload over all the keys (uniform, so most reads miss every cache): CLIENTS
#      clients for DURATION;
#   4. SIGKILL of store 2 and its start again: process start -> "serving clients" in its log, and
#      -> every group on it has applied the commit index its leader had at the kill (ctl status);
#   5. the seed workload again for 20 s with the restarted store in place.
# Mind the disk: about 3 x 5.1 GB of engine files plus the WAL. Output: run/bench-ltm-out/.
#
# usage: bench/scripts/larger-than-memory.sh      env: KEYS, BATCH (32), CLIENTS (256), DURATION (60s),
#   RESTART_ONLY=1: keep the data of the previous run, start its cluster, and do only steps 4 and 5
#   (so a restart can be measured again on a quieter machine without loading 5 GB again)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. bench/scripts/common.sh
KEYS="${KEYS:-1250000}"
BATCH="${BATCH:-32}"
CLIENTS="${CLIENTS:-256}"
DURATION="${DURATION:-60s}"
VALUE_BYTES=4080
KEY_BYTES=16
NAME="ltm"
FOLDER="run/bench-conf/$NAME"
RUN_DIR="run/$NAME"
OUT="run/bench-$NAME-out"
JCMD="$(./loomkv java-home)/bin/jcmd"
./loomkv build > /dev/null

cleanup() { ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true; }
trap cleanup EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
conf_variant sharded-3node "$FOLDER" "$RUN_DIR" "$NAME" engine=rocksdb
./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true
if [[ "${RESTART_ONLY:-0}" != 1 ]]; then
rm -rf "$RUN_DIR"
fi
./loomkv cluster up "$FOLDER" > "$OUT/cluster-up.txt" 2>&1 || { cat "$OUT/cluster-up.txt" >&2; exit 1; }

if [[ "${RESTART_ONLY:-0}" != 1 ]]; then
RAW=$(( KEYS * (KEY_BYTES + VALUE_BYTES) ))
echo "=== load: $KEYS records = $(( RAW / 1000000 )) MB in multi-puts of $BATCH ($(uptime))"
started=$(date +%s%3N)
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --preload-batch "$BATCH" --clients 32 \
    --read-ratio 1 --duration 2s --warmup 0s > "$OUT/load.txt" 2>&1 || { cat "$OUT/load.txt"; exit 1; }
loaded=$(date +%s%3N)
grep -E '^preload' "$OUT/load.txt" || true
echo "load: $(( (loaded - started) / 1000 )) s including the bench JVM and its 2 s of reads; $(echo "$RAW / 1000 / ($loaded - $started)" | bc) MB/s of records"

stores() {
  for pidfile in "$RUN_DIR"/node*.pid; do
    local pid id used_kb rss_kb
    pid=$(cat "$pidfile")
    id=$(basename "$pidfile" .pid | tr -dc 0-9)
    "$JCMD" "$pid" GC.run > /dev/null
    used_kb=$("$JCMD" "$pid" GC.heap_info | grep -m1 -oE "used [0-9]+K" | grep -oE "[0-9]+")
    rss_kb=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
    printf 'store %s: heap used after a full GC %d MB; RSS %d MB; data directory %d MB (engine files %d MB)\n' "$id" \
        $(( used_kb / 1024 )) $(( rss_kb / 1024 )) $(( $(du -sb "$RUN_DIR/store$id" | cut -f1) / 1000000 )) \
        $(( $( { du -sb "$RUN_DIR/store$id/engine" 2>/dev/null || echo 0; } | cut -f1) / 1000000 ))
  done
}
echo "=== stores after the load ($(uptime))"
stores

echo "=== seed workload over $KEYS keys, $CLIENTS clients, $DURATION ($(uptime))"
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --clients "$CLIENTS" --duration "$DURATION" \
    --no-preload > "$OUT/serve.txt" 2>&1 || { cat "$OUT/serve.txt"; exit 1; }
sed -n '/^latency per operation/,$p' "$OUT/serve.txt"
echo "=== stores after the workload ($(uptime))"
stores
else
  ./loomkv bench stores --cluster "$FOLDER" --await-leaders > /dev/null 2>&1 || true
  echo "=== restart only, on the data of the previous run ($(uptime))"
fi

echo "=== restart of store 2"
STATUS="$(./loomkv ctl --cluster "$FOLDER" status 2>/dev/null)"
# ctl status columns: ADDRESS STORE GROUP ROLE TERM COMMIT APPLIED LEADER QUIET; the commit index
# of each group's leader at the kill.
declare -A COMMIT
while read -r group commit; do COMMIT[$group]=$commit; done < <(echo "$STATUS" | awk '$4=="LEADER"{print $3, $6}')
ADDR=$(echo "$STATUS" | awk '$2=="2"{print $1; exit}')
PID=$(cat "$RUN_DIR/node2.pid")
kill -9 "$PID"
while kill -0 "$PID" 2> /dev/null; do sleep 0.05; done
LOG="$RUN_DIR/node2.log"
LINES_BEFORE=$(wc -l < "$LOG")
./loomkv cluster up "$FOLDER" > /dev/null
NEW_PID=$(cat "$RUN_DIR/node2.pid")
BOOT=$(awk '/^btime/{print $2}' /proc/stat)
START_MS=$(( BOOT * 1000 + $(awk '{print $22}' "/proc/$NEW_PID/stat") * 1000 / $(getconf CLK_TCK) ))
while true; do
  behind=0
  now_status=$(./loomkv ctl --cluster "$ADDR" --timeout-ms 2000 status 2>/dev/null || true)
  for group in "${!COMMIT[@]}"; do
    applied=$(echo "$now_status" | awk -v g="$group" '$2=="2" && $3==g{print $7}')
    if [[ -z "$applied" || "$applied" -lt "${COMMIT[$group]}" ]]; then behind=1; break; fi
  done
  if [[ $behind -eq 0 ]]; then CAUGHT_UP_MS=$(date +%s%3N); break; fi
  sleep 0.1
done
SERVING=$(tail -n +"$((LINES_BEFORE + 1))" "$LOG" | grep -m1 ' serving .* for clients on ' | cut -c1-12)
SERVING_MS=$(log_time_ms "$SERVING" "$START_MS")
echo "store 2: process start -> 'serving clients' in its log: $(( SERVING_MS - START_MS )) ms"
echo "store 2: process start -> all ${#COMMIT[@]} groups applied their leader's commit index at the kill (ctl polling, includes its JVM start-up): $(( CAUGHT_UP_MS - START_MS )) ms"
tail -n +"$((LINES_BEFORE + 1))" "$LOG" | grep -E 'recovered|restored|serving' | cut -c1-200 | head -5

echo "=== seed workload after the restart, $CLIENTS clients, 20s ($(uptime))"
./loomkv bench kv --cluster "$FOLDER" --workload seed --keys "$KEYS" --clients "$CLIENTS" --duration 20s \
    --no-preload > "$OUT/after-restart.txt" 2>&1 || { cat "$OUT/after-restart.txt"; exit 1; }
sed -n '/^latency per operation/,$p' "$OUT/after-restart.txt"
echo "load: $(uptime)"
