#!/usr/bin/env bash
# A/B of loomkv builds on this shared machine: for each jar given (alternate them: A B A B), a
# fresh conf/local-3node cluster from that jar, 25 s of load to warm the JIT, then a measured
# 15 s run of 256 clients, 128 B values (VALUE_BYTES), 50/50 linearizable, and the servers' CPU per operation
# (from /proc/PID/stat, which neighbours on the machine disturb less than throughput).
#
# usage: bench/scripts/ab-jars.sh A.jar B.jar A.jar B.jar
#        a JAR@FLAGS argument starts that cluster's servers with extra JVM flags, e.g.
#        A.jar A.jar@-Djdk.virtualThreadScheduler.parallelism=1 (flags separated by spaces)
# env:   EXTRA="--read-ratio 0 ..." extra bench kv flags for both phases
#        WARM_SECONDS (25) the unmeasured load before the measured run (the JIT settles after 30-45 s)
#        VALUE_BYTES (128) the value size of both phases (4096: the seed workload's records)
#        KEYS (10000) the keys both phases use (100000 with 4096-byte values: more than the block cache)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ $# -ge 1 ]] || { echo "usage: $0 JAR..." >&2; exit 2; }
# The launcher's JDK lookup (the machine's default java may be too old).
MIN_JAVA=21
die() { echo "ab-jars: $*" >&2; exit 1; }
eval "$(sed -n '/^jdk_version() {/,/^}/p; /^find_jdk() {/,/^}/p' loomkv)"
JAVA="$(find_jdk)/bin/java"
FLAGS=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
FOLDER="${FOLDER:-conf/local-3node}"
cpu_ticks() { local total=0 p; for p in $(pgrep -f "server --config $FOLDER"); do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
for spec in "$@"; do
  jar=${spec%%@*}
  opts=""
  [[ $spec == *@* ]] && opts=${spec#*@}
  "$JAVA" "${FLAGS[@]}" -jar "$jar" cluster down "$FOLDER" > /dev/null 2>&1 || true
  rm -rf "run/$(basename "$FOLDER")"
  LOOMKV_JVM_OPTS="$opts" "$JAVA" "${FLAGS[@]}" -jar "$jar" cluster up "$FOLDER" > /dev/null
  # shellcheck disable=SC2086
  "$JAVA" "${FLAGS[@]}" -jar "$jar" bench kv --cluster "$FOLDER" --keys "${KEYS:-10000}" --duration "${WARM_SECONDS:-25}s" --warmup 1s \
      --value-size "${VALUE_BYTES:-128}" --read-ratio 0.5 --clients 256 ${EXTRA:-} > /dev/null 2>&1
  before=$(cpu_ticks)
  # shellcheck disable=SC2086
  out=$("$JAVA" "${FLAGS[@]}" -jar "$jar" bench kv --cluster "$FOLDER" --keys "${KEYS:-10000}" --duration 15s --warmup 2s \
      --value-size "${VALUE_BYTES:-128}" --read-ratio 0.5 --clients 256 --no-preload ${EXTRA:-} 2>/dev/null)
  after=$(cpu_ticks)
  ops=$(echo "$out" | awk '/^  operations/ {print $2}')
  echo "$(basename "$jar")${opts:+ $opts}: load $(cut -d' ' -f1 /proc/loadavg) $(echo "$out" | grep -E 'throughput|latency \(us' | tr -s ' ' | tr '\n' ' ')server CPU $(( (after - before) * 1000000 / $(getconf CLK_TCK) / ops )) us/op"
done
"$JAVA" "${FLAGS[@]}" -jar "$jar" cluster down "$FOLDER" > /dev/null 2>&1 || true
