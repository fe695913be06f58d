#!/usr/bin/env bash
# A/B of loomkv builds through the Redis protocol on this shared machine: for each jar given
# (alternate them: A B A B), a fresh conf/sharded-3node cluster (or store 1 of it alone, STORES=1)
# from that jar on ports 5xyz (7xyz in the config) with its data in a temporary directory, then for
# each test redis-benchmark -c 256 -r 10000 -d 128 -P 1 twice: WARM_N requests unmeasured (the JIT),
# then N measured. Prints requests/s, p50/p99, the load average, and per request the servers' CPU
# (from /proc/PID/stat) and their threads' context switches (from /proc/PID/task/*/status), which
# neighbours on the machine disturb less than throughput.
#
# usage: bench/scripts/ab-resp.sh A.jar B.jar A.jar B.jar
#        a JAR@FLAGS argument starts that cluster's servers with extra JVM flags
#        (e.g. B.jar@-Djdk.pollerMode=1; flags separated by spaces)
# env:   STORES (3) 3: redis-benchmark --cluster over the three stores; 1: store 1 alone
#        TESTS ("get set"), N (200000), WARM_N (200000), PREFIX (5: the ports' first digit)
#        PERF=1: also perf stat the servers (context switches and system calls per request)
#        NATIVE=1: after the RESP tests, the same load through loomkv's own protocol on the same
#        cluster (bench kv: 256 clients, 10,000 keys, 128 B; puts for set, gets for get; NATIVE_DURATION,
#        15s), with the servers' CPU and context switches per operation, so the RESP layer's cost shows
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ $# -ge 1 ]] || { echo "usage: $0 JAR[@FLAGS]..." >&2; exit 2; }
MIN_JAVA=21
die() { echo "ab-resp: $*" >&2; exit 1; }
eval "$(sed -n '/^jdk_version() {/,/^}/p; /^find_jdk() {/,/^}/p' loomkv)"
JAVA="$(find_jdk)/bin/java"
command -v redis-benchmark > /dev/null || die "redis-benchmark is missing: bench/scripts/ensure-redis-tools.sh installs it"
STORES=${STORES:-3}
TESTS=${TESTS:-get set}
N=${N:-200000}
WARM_N=${WARM_N:-200000}
PREFIX=${PREFIX:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ab-resp.XXXXXX")
PIDS=()
stop() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do kill -TERM "$p" 2> /dev/null || true; done
  for p in ${PIDS[@]+"${PIDS[@]}"}; do wait "$p" 2> /dev/null || true; done
  PIDS=()
}
trap 'stop; [[ -n ${KEEP_LOGS:-} ]] && cp "$WORK"/node*.log "$KEEP_LOGS"/ 2> /dev/null; rm -rf "$WORK"' EXIT

configs() { # conf/sharded-3node on ports PREFIXxyz, data in WORK; STORES=1: store 1 alone
  local i
  rm -rf "$WORK/data" "$WORK/conf"
  mkdir -p "$WORK/conf"
  for i in 1 2 3; do
    sed -e "s/127\.0\.0\.1:7\([0-9][0-9][0-9]\)\b/127.0.0.1:${PREFIX}\1/g" -e "s|^data-dir=.*|data-dir=$WORK/data/store$i|" \
      -e "s|^cluster-id=.*|cluster-id=ab-resp|" "conf/sharded-3node/node$i.properties" > "$WORK/conf/node$i.properties"
  done
  if [[ $STORES == 1 ]]; then
    sed -i -e "s|^members=\([^,]*\),.*|members=\1|" -e "s|^replicas-per-group=.*|replicas-per-group=0|" "$WORK/conf/node1.properties"
    rm "$WORK/conf/node2.properties" "$WORK/conf/node3.properties"
  fi
}

start() { # start JAR FLAGS: the servers, until every one serves and every group has a leader
  local jar=$1 flags=$2 f waited=0 ready
  for f in "$WORK"/conf/node*.properties; do
    # shellcheck disable=SC2086
    "$JAVA" -Xmx512m --sun-misc-unsafe-memory-access=allow $flags -jar "$jar" server --config "$f" \
      > "$WORK/$(basename "$f" .properties).log" 2>&1 < /dev/null &
    PIDS+=($!)
  done
  while :; do
    ready=0
    for f in "$WORK"/node*.log; do
      if grep -q "of cluster '.*' serving" "$f" 2> /dev/null; then ready=$((ready + 1)); fi
    done
    [[ $ready -lt ${#PIDS[@]} ]] || break
    waited=$((waited + 1))
    [[ $waited -lt 1200 ]] || die "the servers did not start within 2 minutes (logs: $WORK)"
    sleep 0.1
  done
  waited=0
  until redis-cli -p "${PREFIX}611" cluster info 2> /dev/null | grep -q 'cluster_state:ok'; do
    waited=$((waited + 1))
    [[ $waited -lt 600 ]] || die "CLUSTER INFO not ok within 60 s"
    sleep 0.1
  done
}

cpu_ticks() { local t=0 p; for p in "${PIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
switches() { # voluntary and involuntary context switches of every thread of the servers
  local t=0 p n
  for p in "${PIDS[@]}"; do
    n=$( (cat /proc/"$p"/task/*/status 2> /dev/null || true) | awk '/ctxt_switches/ {s += $2} END {print s + 0}')
    t=$((t + n))
  done
  echo "$t"
}

bench() { # bench TEST N: "req/s p50 p99"; retried up to 3 times when redis-benchmark stops at an error
  local mode=() attempt out
  [[ $STORES == 3 ]] && mode=(--cluster)
  for attempt in 1 2 3; do
    out=$(redis-benchmark -h 127.0.0.1 -p "${PREFIX}611" -c 256 -r 10000 -d 128 -n "$2" -P 1 ${mode[@]+"${mode[@]}"} \
        -t "$1" --csv 2> "$WORK/bench.err" < /dev/null \
      | awk '/^"[A-Z]/ { gsub(/"/, ""); split($0, f, ","); print f[2], f[5], f[7] }' | tail -1) || true
    if [[ -n $out ]]; then echo "$out"; return 0; fi
    # E.g. a leader moved between redis-benchmark's CLUSTER NODES and its first command.
    echo "ab-resp: redis-benchmark failed (attempt $attempt): $(grep -v '^WARNING' "$WORK/bench.err" | tail -c 300)" >&2
    sleep 2
  done
  echo "0 0 0"
}

native() { # native JAR FLAGS TEST: the same load through the native protocol, measured as above
  local ratio=0 load c0 s0 c1 s1 ops
  [[ $3 == get ]] && ratio=1
  load=$(cut -d' ' -f1 /proc/loadavg)
  c0=$(cpu_ticks)
  s0=$(switches)
  "$JAVA" -jar "$1" bench kv --cluster "$WORK/conf" --clients 256 --keys 10000 --value-size 128 --read-ratio "$ratio" \
      --duration "${NATIVE_DURATION:-15s}" > "$WORK/native.txt" 2>&1 || die "bench kv failed: $(tail -c 500 "$WORK/native.txt")"
  c1=$(cpu_ticks)
  s1=$(switches)
  # CPU over the whole run (preload and warm-up too) per measured operation: a few percent high.
  ops=$(awk '/^  operations/ {print $2; exit}' "$WORK/native.txt")
  [[ -n $ops && $ops -gt 0 ]] || die "no operation count in bench kv's report: $(head -c 500 "$WORK/native.txt")"
  echo "$(date -u +%H:%M:%S) $(basename "$1")${2:+ $2} x$STORES native $3: $(awk '/^  throughput/ {print $2, $3; exit}' "$WORK/native.txt"); load $load;" \
    "server CPU $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / ops )) us/op; $(( (s1 - s0) * 100 / ops )) thread switches/100 op"
}

for spec in "$@"; do
  jar=${spec%%@*}
  flags=""
  [[ $spec == *@* ]] && flags=${spec#*@}
  configs
  start "$jar" "$flags"
  for t in $TESTS; do bench "$t" "$WARM_N" > /dev/null; done
  for t in $TESTS; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(cpu_ticks)
    s0=$(switches)
    if [[ -n ${PERF:-} ]]; then
      perf stat -x, -e context-switches,raw_syscalls:sys_enter -p "$(IFS=,; echo "${PIDS[*]}")" -o "$WORK/perf.txt" &
      perf_pid=$!
    fi
    read -r rps p50 p99 < <(bench "$t" "$N")
    c1=$(cpu_ticks)
    s1=$(switches)
    perf=""
    if [[ -n ${PERF:-} ]]; then
      kill -INT "$perf_pid"
      wait "$perf_pid" || true
      perf="; perf: $(awk -F, -v n="$N" '/context-switches|sys_enter/ { printf "%s %.2f/req ", $3, $1 / n }' "$WORK/perf.txt")"
    fi
    echo "$(date -u +%H:%M:%S) $(basename "$jar")${flags:+ $flags} x$STORES $t: $rps req/s, p50 $p50 p99 $p99 ms; load $load;" \
      "server CPU $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) / N )) us/req; $(( (s1 - s0) * 100 / N )) thread switches/100 req$perf"
  done
  if [[ -n ${NATIVE:-} ]]; then
    for t in $TESTS; do native "$jar" "$flags" "$t"; done
  fi
  stop
done
