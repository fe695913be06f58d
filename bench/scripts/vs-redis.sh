#!/usr/bin/env bash
# loomkv's Redis-protocol endpoint against Redis itself, with redis-benchmark for both (docs/resp.md).
#
# Three targets, one after another, each driven by the same redis-benchmark runs
# (-c 256 -r 10000 -d 128 -t set,get,incr,mset -n N), once without pipelining and once with -P 16:
#   redis       Debian's redis-server, one process, `--appendonly yes --appendfsync always` (every
#               write fsynced before the reply, as loomkv's fsync=true), in a temporary directory on
#               a free port, no snapshots;
#   loomkv x3   a 3-store cluster from conf/sharded-3node (16 groups, 3 replicas each, fsync on),
#               driven with --cluster through store 1's RESP port: redis-benchmark reads CLUSTER
#               NODES and spreads its clients over the stores by slot, as it does for Redis Cluster;
#   loomkv x1   one store of the same config alone (every group on it, so no -MOVED): the single
#               server counterpart of the redis target (a write is one local fsync, no quorum).
#               Without --cluster (redis-benchmark wants 3 masters for it); a store is a Redis
#               Cluster node and answers -CROSSSLOT to an MSET of keys in several slots, so its
#               MSET is a command line of 10 keys with one hash tag (one slot, one group). In
#               cluster mode (x3) redis-benchmark gives the 10 keys of each MSET one hash tag too
#               (a random slot of the node each time).
# Prints one table per pipelining setting: requests/s, p50 and p99 (ms) per test and target, as
# redis-benchmark's --csv reports them. redis-benchmark stops at the first error a server answers
# (other than -MOVED/-ASK in cluster mode), and so does this script, naming it.
# redis-benchmark warns "Could not fetch server CONFIG" on loomkv: its CONFIG GET answers nothing.
#
# usage: bench/scripts/vs-redis.sh [-n REQUESTS] [--warm REQUESTS] [--only redis|loomkv3|loomkv1]...
#   -n N        requests per test (default 100000)
#   --warm N    before a target's measured runs, the four tests once with N requests each at -P 1,
#               unmeasured (default 0: fresh servers, as a user's first run meets them). loomkv's
#               JIT needs 30-45 s of load to settle (docs/performance.md); Redis needs none, and
#               gets the same warm-up for symmetry
#   --only T    run only target T (may be repeated); the table shows '-' for the others
# env: NATIVE_DURATION (20s): with the x3 target, the same SET and GET loads through loomkv's own
#      protocol (bench kv --read-ratio 0, then 1) on the same cluster, so the RESP layer's cost shows
# Installs Debian's redis-server and redis-tools when missing (needs apt-get and root or a
# password-less sudo; says so otherwise). Everything it starts is stopped on exit, failure, Ctrl-C
# or TERM, and its temporary directory (Redis's and the stores' data) removed.
# Outputs (redis-benchmark's CSV and errors, server logs, the tables): run/vs-redis/<date>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

die() { echo "vs-redis: error: $*" >&2; exit 1; }
usage() { sed -n '/^# usage:/,/^# Outputs/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

REQUESTS=100000
WARM=0
NATIVE_DURATION="${NATIVE_DURATION:-20s}"
ONLY=()
CLIENTS=256
KEYSPACE=10000
VALUE_BYTES=128
TESTS=set,get,incr,mset
PIPELINES=(1 16)
# One redis-benchmark run may take this long at most (a stuck server must not hang the script).
RUN_TIMEOUT_SECONDS="${RUN_TIMEOUT_SECONDS:-900}"
CONF=conf/sharded-3node

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) need_value "$@"; REQUESTS=$2; shift 2 ;;
    --warm) need_value "$@"; WARM=$2; shift 2 ;;
    --only) need_value "$@"; ONLY+=("$2"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "vs-redis: unknown option '$1'" >&2; usage ;;
  esac
done
[[ "$REQUESTS" =~ ^[0-9]+$ && "$REQUESTS" -ge 1 && "$REQUESTS" -le 100000000 ]] || die "-n must be in 1..100000000, got '$REQUESTS'"
[[ "$WARM" =~ ^[0-9]+$ && "$WARM" -le 100000000 ]] || die "--warm must be in 0..100000000, got '$WARM'"
for target in ${ONLY[@]+"${ONLY[@]}"}; do
  [[ "$target" == redis || "$target" == loomkv3 || "$target" == loomkv1 ]] || die "--only takes redis, loomkv3 or loomkv1, got '$target'"
done
wanted() { [[ ${#ONLY[@]} -eq 0 ]] || printf '%s\n' "${ONLY[@]}" | grep -qx "$1"; }
[[ -f "$CONF/node1.properties" && -f "$CONF/node2.properties" && -f "$CONF/node3.properties" ]] \
  || die "$CONF/node1..3.properties are missing"

OUT="$ROOT/run/vs-redis/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/vs-redis.XXXXXX")"
# The stores' config folders live in TMP; 'cluster up' keeps pid files and logs in run/<folder name>.
SHARDED="$TMP/vs-redis-sharded-3node"
SINGLE="$TMP/vs-redis-single-store"

# ---------------------------------------------------------------------------------------------
# Cleanup: everything started here is stopped on exit, failure, Ctrl-C or TERM.
REDIS_PID=
BENCH_PID=
LOOMKV_UP=()

stop_pid() { # TERM, up to 15 s for a clean exit, then KILL
  local pid=$1 waited=0
  kill -TERM "$pid" 2> /dev/null || return 0
  while kill -0 "$pid" 2> /dev/null && [[ $waited -lt 150 ]]; do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

stop_redis() {
  if [[ -n "$REDIS_PID" ]]; then stop_pid "$REDIS_PID"; REDIS_PID=; fi
}

stop_loomkv() { # stop_loomkv FOLDER: the servers, then their logs into OUT and their run folder away
  local folder=$1 name run
  name=$(basename "$folder")
  run="$ROOT/run/$name"
  ./loomkv cluster down "$folder" > /dev/null 2>&1 || echo "vs-redis: warning: './loomkv cluster down $folder' failed" >&2
  if [[ -d "$run" ]]; then
    mkdir -p "$OUT/$name"
    cp "$run"/*.log "$OUT/$name/" 2> /dev/null || true
    rm -rf "$run"
  fi
  local left=()
  for f in ${LOOMKV_UP[@]+"${LOOMKV_UP[@]}"}; do [[ "$f" == "$folder" ]] || left+=("$f"); done
  LOOMKV_UP=(${left[@]+"${left[@]}"})
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$BENCH_PID" ]]; then stop_pid "$BENCH_PID"; fi
  stop_redis
  for folder in ${LOOMKV_UP[@]+"${LOOMKV_UP[@]}"}; do stop_loomkv "$folder"; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "vs-redis: interrupted" >&2; exit 130' INT
trap 'echo "vs-redis: terminated" >&2; exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Prerequisites: Debian's redis-server and redis-tools (redis-benchmark), installed when missing.
install_redis() {
  local missing=()
  if wanted redis; then command -v redis-server > /dev/null 2>&1 || missing+=(redis-server); fi
  command -v redis-benchmark > /dev/null 2>&1 || missing+=(redis-tools)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get > /dev/null 2>&1 \
    || die "missing ${missing[*]} and there is no apt-get: install Debian's (or your system's) ${missing[*]} by hand"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null \
      || die "missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}' (this script is not root and cannot sudo without a password)"
    sudo=(sudo -n)
  fi
  echo "vs-redis: installing ${missing[*]}" >&2
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
    "${sudo[@]}" apt-get update -q >&2 || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed (see above)"
  fi
  # Debian's package starts a redis-server service on 6379; it is not the one measured here.
}

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

free_port() { # a free loopback port from $1 up
  local port=$1
  while [[ $port -lt 65000 ]]; do
    if port_free "$port"; then echo "$port"; return 0; fi
    port=$((port + 1))
  done
  die "no free port from $1 up"
}

start_redis() {
  REDIS_PORT=$(free_port 26379)
  mkdir -p "$TMP/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no --logfile "$OUT/redis-server.log" < /dev/null > /dev/null 2>&1 &
  REDIS_PID=$!
  local waited=0
  until redis-cli -p "$REDIS_PORT" ping 2> /dev/null | grep -q PONG; do
    kill -0 "$REDIS_PID" 2> /dev/null || die "redis-server exited; its log ($OUT/redis-server.log) ends with:
$(tail -n 15 "$OUT/redis-server.log" 2> /dev/null)"
    [[ $waited -lt 100 ]] || die "redis-server did not answer PING within 10 s"
    sleep 0.1
    waited=$((waited + 1))
  done
}

# The config folders: conf/sharded-3node with the data in TMP, and store 1 of it alone.
write_configs() {
  mkdir -p "$SHARDED" "$SINGLE"
  local i
  for i in 1 2 3; do
    sed -e "s|^data-dir=.*|data-dir=$TMP/loomkv3/store$i|" "$CONF/node$i.properties" > "$SHARDED/node$i.properties"
  done
  local members
  members=$(sed -n 's/^members=//p' "$CONF/node1.properties" | tr ',' '\n' | grep '^1=') \
    || die "$CONF/node1.properties has no member 1 in 'members'"
  sed -e "s|^data-dir=.*|data-dir=$TMP/loomkv1/store1|" -e "s|^members=.*|members=$members|" \
    -e "s|^replicas-per-group=.*|replicas-per-group=0|" -e "s|^cluster-id=.*|cluster-id=vs-redis-single|" \
    "$CONF/node1.properties" > "$SINGLE/node1.properties"
}

start_loomkv() { # start_loomkv FOLDER
  local folder=$1 name
  name=$(basename "$folder")
  LOOMKV_UP+=("$folder") # so a failed start still gets 'cluster down'
  ./loomkv cluster up "$folder" > "$OUT/$name-up.txt" 2>&1 \
    || die "'./loomkv cluster up $folder' failed:
$(tail -n 20 "$OUT/$name-up.txt")"
}

resp_port() { # the RESP port of FOLDER/node1.properties
  sed -n 's/^resp-address=.*:\([0-9][0-9]*\)$/\1/p' "$1/node1.properties"
}

# ---------------------------------------------------------------------------------------------
# run_benchmark FILE PORT PIPELINE ARGS...: one redis-benchmark run with the common options and
# ARGS; its CSV in FILE.csv, what it printed to stderr (warnings, a server's error) in FILE.err.
run_benchmark() {
  local file=$1 port=$2 pipeline=$3 rc=0 shown
  shift 3
  shown="$*"
  [[ ${#shown} -le 60 ]] || shown="${shown:0:60}..."
  echo "   redis-benchmark -p $port -c $CLIENTS -r $KEYSPACE -d $VALUE_BYTES -n $REQUESTS -P $pipeline $shown;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  timeout --kill-after=10 "$RUN_TIMEOUT_SECONDS" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -r "$KEYSPACE" \
    -d "$VALUE_BYTES" -n "$REQUESTS" -P "$pipeline" --csv "$@" > "$file.csv" 2> "$file.err" < /dev/null &
  BENCH_PID=$!
  wait "$BENCH_PID" || rc=$?
  BENCH_PID=
  [[ $rc -ne 124 && $rc -ne 137 ]] || die "$(basename "$file"): redis-benchmark did not finish within $RUN_TIMEOUT_SECONDS s"
  [[ $rc -eq 0 ]] || die "$(basename "$file"): redis-benchmark exited with $rc:
$(tail -n 5 "$file.err")"
  grep -q '^"test"' "$file.csv" || die "$(basename "$file"): no CSV from redis-benchmark; it said:
$(tail -n 5 "$file.err")"
}

# bench NAME PORT PIPELINE MODE: the four tests against one target into OUT/NAME-pPIPELINE.csv.
# MODE cluster: redis-benchmark --cluster (it needs at least 3 masters); plain: a single server.
# single-store: SET, GET, INCR as plain, and MSET as a command of its own whose 10 keys share one
# hash tag: a loomkv store is a Redis Cluster node and answers -CROSSSLOT to keys of several slots
# (so these MSETs all go to one slot, i.e. one of the store's groups).
bench() {
  local name=$1 port=$2 pipeline=$3 mode=$4 file="$OUT/$1-p$3"
  case "$mode" in
    cluster) run_benchmark "$file" "$port" "$pipeline" --cluster -t "$TESTS" ;;
    plain) run_benchmark "$file" "$port" "$pipeline" -t "$TESTS" ;;
    single-store)
      run_benchmark "$file" "$port" "$pipeline" -t set,get,incr
      local value i mset=(MSET)
      value=$(head -c "$VALUE_BYTES" /dev/zero | tr '\0' x)
      for i in 0 1 2 3 4 5 6 7 8 9; do mset+=("{mset}:__rand_int__:$i" "$value"); done
      run_benchmark "$file-mset" "$port" "$pipeline" "${mset[@]}"
      grep -v '^"test"' "$file-mset.csv" | grep '^"' | sed 's/^"MSET[^"]*"/"MSET (10 keys, one hash tag)"/' >> "$file.csv"
      ;;
    *) die "bench: unknown mode '$mode'" ;;
  esac
}

# warm_up NAME PORT MODE: with --warm, the four tests once at -P 1 with WARM requests each, into
# OUT/NAME-warmup-p1.csv, not shown in the tables.
warm_up() {
  [[ $WARM -gt 0 ]] || return 0
  local measured=$REQUESTS
  echo "   (warm-up, not measured:)" >&2
  REQUESTS=$WARM
  bench "$1-warmup" "$2" 1 "$3"
  REQUESTS=$measured
}

# cell NAME PIPELINE TEST: "rps p50 p99" from the run's CSV ("- - -" when it did not run).
# redis-benchmark 7's CSV: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
# "p95_latency_ms","p99_latency_ms","max_latency_ms", one line per test ("MSET (10 keys)" for
# -t mset); in cluster mode the list of masters comes first.
cell() {
  local file="$OUT/$1-p$2.csv"
  [[ -f "$file" ]] || { echo "- - -"; return; }
  awk -F'","' -v test="$3" '
    !/^"/ { next }
    { gsub(/^"|"$/, "", $0) }
    $1 == "test" { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { split($1, name, " ") }
    name[1] == test && ("rps" in col) { printf "%.0f %s %s\n", $col["rps"], $col["p50_latency_ms"], $col["p99_latency_ms"]; found = 1 }
    END { if (!found) print "- - -" }' "$file"
}

print_table() { # print_table PIPELINE
  local pipeline=$1 test target
  printf '\n%-8s %-26s %-26s %-26s\n' "-P $pipeline" "redis, appendfsync always" "loomkv, 3 stores" "loomkv, 1 store"
  printf '%-8s' "test"
  for target in redis loomkv3 loomkv1; do printf ' %10s %7s %7s' "req/s" "p50 ms" "p99 ms"; done
  printf '\n'
  for test in SET GET INCR MSET; do
    printf '%-8s' "$test"
    for target in redis loomkv3 loomkv1; do
      # shellcheck disable=SC2046
      printf ' %10s %7s %7s' $(cell "$target" "$pipeline" "$test")
    done
    printf '\n'
  done
}

# ---------------------------------------------------------------------------------------------
install_redis
write_configs
{
  echo "vs-redis: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  $(redis-benchmark --version)$(if wanted redis; then echo "; $(redis-server --version | cut -d' ' -f1-3)"; fi)"
  echo "  redis-benchmark -c $CLIENTS -r $KEYSPACE -d $VALUE_BYTES -t $TESTS -n $REQUESTS, then the same with -P 16;" \
    "loomkv from $CONF (fsync on)"
  if [[ $WARM -gt 0 ]]; then
    echo "  each target warmed first: the four tests with $WARM requests each at -P 1, not measured"
  else
    echo "  fresh servers: no warm-up (--warm N adds one)"
  fi
} | tee "$OUT/summary.txt"

if wanted redis; then
  start_redis
  warm_up redis "$REDIS_PORT" plain
  for p in "${PIPELINES[@]}"; do bench redis "$REDIS_PORT" "$p" plain; done
  stop_redis
fi
if wanted loomkv3 || wanted loomkv1; then
  # The launcher builds the jar when the sources changed: done here, before anything is measured.
  echo "vs-redis: building loomkv if its sources changed (log: $OUT/loomkv-build.txt)" >&2
  ./loomkv cluster status "$SHARDED" > "$OUT/loomkv-build.txt" 2>&1 || true
fi
native() { # native NAME READ_RATIO: the same load through loomkv's own protocol (bench kv), for the RESP layer's cost
  local name="$1" ratio="$2"
  ./loomkv bench kv --cluster "$SHARDED" --clients "$CLIENTS" --keys 10000 --value-size 128 --read-ratio "$ratio" \
      --duration "$NATIVE_DURATION" > "$OUT/native-$name.txt" 2>&1 || die "bench kv ($name) failed: see $OUT/native-$name.txt"
  printf 'native %-4s %s; %s\n' "$name" "$(grep -m1 '^  throughput' "$OUT/native-$name.txt" | xargs)" \
      "$(grep -m1 '^  latency' "$OUT/native-$name.txt" | awk '{printf "p50 %.2f ms, p99 %.2f ms", $4/1000, $8/1000}')" \
      >> "$OUT/native.txt"
}
if wanted loomkv3; then
  start_loomkv "$SHARDED"
  warm_up loomkv3 "$(resp_port "$SHARDED")" cluster
  for p in "${PIPELINES[@]}"; do bench loomkv3 "$(resp_port "$SHARDED")" "$p" cluster; done
  # SET and GET through the native protocol beside them: puts only, then linearizable gets only.
  native set 0
  native get 1
  stop_loomkv "$SHARDED"
fi
if wanted loomkv1; then
  start_loomkv "$SINGLE"
  warm_up loomkv1 "$(resp_port "$SINGLE")" single-store
  for p in "${PIPELINES[@]}"; do bench loomkv1 "$(resp_port "$SINGLE")" "$p" single-store; done
  stop_loomkv "$SINGLE"
fi

{
  for p in "${PIPELINES[@]}"; do print_table "$p"; done
  echo
  echo "(req/s, p50 and p99 as redis-benchmark --csv reports them; '-': not run)"
  if [[ -f "$OUT/native.txt" ]]; then
    echo
    echo "loomkv x3 through its own protocol (bench kv, $CLIENTS clients, 10,000 keys, 128 B, $NATIVE_DURATION):"
    cat "$OUT/native.txt"
  fi
} | tee -a "$OUT/summary.txt"
echo "redis-benchmark's CSV and errors, server logs: $OUT/"
