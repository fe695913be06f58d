#!/usr/bin/env bash
# loomkv against etcd on the same machine, as a user of each would drive it (issue 19).
#
# For each side in turn: a new 3-member cluster on loopback (fsync on; data under run/vs-etcd/ and
# run/<config folder>/), the same closed-loop load (N clients, K uniform keys, values of V bytes,
# 50/50 linearizable reads and puts, every key written once first, a warm-up, then the measured
# phase), then the cluster is stopped. etcd (Debian's etcd-server, 3.4) is driven by
# bench/etcd-load, a load generator written on etcd's own Go client (clientv3); loomkv by
# './loomkv bench kv'. Prints one table: throughput, latency, the client's and the servers' CPU
# per operation, and the loomkv/etcd ratio, with the date and the load average.
#
# The CPU columns come from /proc/PID/stat (utime + stime) of the load generator and of the three
# server processes, sampled at the first and at the last progress line of the measured phase
# (both generators print one a second), divided by the operations completed between them. The
# same method for both sides.
#
# usage: bench/scripts/vs-etcd.sh [options]
#   --clients N        closed-loop clients (default 256)
#   --keys N           uniform keys (default 10000)
#   --value-size B     value bytes (default 128; the seed workload is 4096)
#   --read-ratio R     fraction of reads (default 0.5)
#   --duration D       measured phase, e.g. 20s, 2m (default 20s)
#   --warmup D         warm-up before it, not measured (default 3s, as bench kv)
#   --fresh            servers started just before the run (the default)
#   --warmed           a WARM_SERVERS (default 60s) unmeasured run of the same load first, then
#                      the measured run without a second preload
#   --sharded          loomkv on conf/sharded-3node instead of conf/local-3node
#   --rounds N         alternate the sides N times (etcd first in odd rounds; default 1)
#   --only etcd|loomkv run one side only
# Every round starts both clusters on new data directories.
# Outputs (each run's report, progress and server logs): run/vs-etcd/<date>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

die() { echo "vs-etcd: error: $*" >&2; exit 1; }
usage() { sed -n '/^# usage:/,/^# Outputs/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

CLIENTS=256
KEYS=10000
VALUE_SIZE=128
READ_RATIO=0.5
DURATION=20s
WARMUP=3s
MODE=fresh
WARM_SERVERS="${WARM_SERVERS:-60s}"
FOLDER=conf/local-3node
ROUNDS=1
ONLY=

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) need_value "$@"; CLIENTS=$2; shift 2 ;;
    --keys) need_value "$@"; KEYS=$2; shift 2 ;;
    --value-size) need_value "$@"; VALUE_SIZE=$2; shift 2 ;;
    --read-ratio) need_value "$@"; READ_RATIO=$2; shift 2 ;;
    --duration) need_value "$@"; DURATION=$2; shift 2 ;;
    --warmup) need_value "$@"; WARMUP=$2; shift 2 ;;
    --fresh) MODE=fresh; shift ;;
    --warmed) MODE=warmed; shift ;;
    --sharded) FOLDER=conf/sharded-3node; shift ;;
    --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
    --only) need_value "$@"; ONLY=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "vs-etcd: unknown option '$1'" >&2; usage ;;
  esac
done

# Validation here only covers what this script itself relies on; both load generators check their
# own bounds (the same ones) and exit 2 with the reason.
[[ "$CLIENTS" =~ ^[0-9]+$ && "$CLIENTS" -ge 1 ]] || die "--clients must be a positive integer, got '$CLIENTS'"
[[ "$KEYS" =~ ^[0-9]+$ && "$KEYS" -ge 1 ]] || die "--keys must be a positive integer, got '$KEYS'"
[[ "$VALUE_SIZE" =~ ^[0-9]+$ && "$VALUE_SIZE" -ge 1 ]] || die "--value-size must be a positive integer, got '$VALUE_SIZE'"
[[ "$READ_RATIO" =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || die "--read-ratio must be in 0..1, got '$READ_RATIO'"
[[ "$ROUNDS" =~ ^[0-9]+$ && "$ROUNDS" -ge 1 && "$ROUNDS" -le 100 ]] || die "--rounds must be in 1..100, got '$ROUNDS'"
[[ -z "$ONLY" || "$ONLY" == etcd || "$ONLY" == loomkv ]] || die "--only must be etcd or loomkv, got '$ONLY'"

# bench kv's duration syntax (500ms, 3s, 2m, or bare seconds) -> seconds (for checks) and Go's syntax.
duration_ms() {
  [[ "$2" =~ ^([0-9]{1,9})(ms|s|m)?$ ]] || die "$1 must look like 500ms, 3s or 2m, got '$2'"
  case "${BASH_REMATCH[2]}" in
    ms) echo "${BASH_REMATCH[1]}" ;;
    m) echo $(( BASH_REMATCH[1] * 60000 )) ;;
    *) echo $(( BASH_REMATCH[1] * 1000 )) ;;
  esac
}
DURATION_MS=$(duration_ms --duration "$DURATION")
WARMUP_MS=$(duration_ms --warmup "$WARMUP")
WARM_SERVERS_MS=$(duration_ms WARM_SERVERS "$WARM_SERVERS")
# The CPU window runs from the first to the last progress line of the measured phase: it needs two.
[[ $DURATION_MS -ge 3000 ]] || die "--duration must be at least 3s (the CPU window needs two progress lines in it)"

RUN_ROOT="$ROOT/run/vs-etcd"
OUT="$RUN_ROOT/$(date -u +%Y%m%dT%H%M%SZ)"
ETCD_DATA="$RUN_ROOT/etcd-data"
LOOMKV_RUN="$ROOT/run/$(basename "$FOLDER")"
LOAD_BIN="$RUN_ROOT/etcd-load"
mkdir -p "$OUT"

# ---------------------------------------------------------------------------------------------
# Cleanup: everything this script starts is stopped on exit, failure, Ctrl-C or TERM.
ETCD_PIDS=()
CLIENT_PID=
LOOMKV_UP=0

stop_pids() { # TERM, up to 15 s for a clean exit, then KILL
  local pid waited
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    waited=0
    while kill -0 "$pid" 2>/dev/null && [[ $waited -lt 150 ]]; do sleep 0.1; waited=$((waited + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

stop_etcd() {
  if [[ ${#ETCD_PIDS[@]} -gt 0 ]]; then stop_pids "${ETCD_PIDS[@]}"; fi
  ETCD_PIDS=()
}

stop_loomkv() {
  if [[ $LOOMKV_UP -eq 1 ]]; then
    ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || echo "vs-etcd: warning: './loomkv cluster down $FOLDER' failed" >&2
    LOOMKV_UP=0
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$CLIENT_PID" ]]; then stop_pids "$CLIENT_PID"; fi
  stop_etcd
  stop_loomkv
  rm -f "$OUT"/*.fifo
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "vs-etcd: interrupted" >&2; exit 130' INT
trap 'echo "vs-etcd: terminated" >&2; exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Prerequisites: Debian's etcd 3.4 (server, etcdctl, Go sources) and Go, installed when missing.
GOCODE=/usr/share/gocode
CLIENTV3_DIR="$GOCODE/src/go.etcd.io/etcd/clientv3"

install_packages() {
  local missing=()
  command -v etcd > /dev/null 2>&1 || missing+=(etcd-server)
  command -v etcdctl > /dev/null 2>&1 || missing+=(etcd-client)
  [[ -d "$CLIENTV3_DIR" ]] || missing+=(golang-etcd-server-dev)
  command -v go > /dev/null 2>&1 || missing+=(golang-go)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  command -v apt-get > /dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them (Debian package names) by hand"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null \
      || die "missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}' (this script is not root and cannot sudo without a password)"
    sudo=(sudo -n)
  fi
  echo "vs-etcd: installing ${missing[*]}" >&2
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; then
    "${sudo[@]}" apt-get update -q >&2 || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed"
  fi
  [[ -d "$CLIENTV3_DIR" ]] || die "golang-etcd-server-dev is installed but $CLIENTV3_DIR is missing (a different etcd version?)"
}

# The load generator, in GOPATH mode against the packaged sources: no module proxy, no network.
# The first build compiles etcd's client and gRPC (minutes on a loaded machine; Go's build cache,
# GOCACHE, keeps them for the next).
build_load() {
  local src="$ROOT/bench/etcd-load"
  if [[ -x "$LOAD_BIN" && -z "$(find "$src" -name '*.go' -newer "$LOAD_BIN")" ]]; then return 0; fi
  echo "vs-etcd: building bench/etcd-load with $(go version)" >&2
  mkdir -p "$RUN_ROOT"
  (cd "$src" && GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$RUN_ROOT/gopath:$GOCODE" \
      go build -o "$LOAD_BIN" .) \
    || die "building bench/etcd-load failed (see above)"
}

# ---------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Six free loopback ports (client and peer for three members), from 22379 up.
pick_etcd_ports() {
  ETCD_PORTS=()
  local port=22379
  while [[ ${#ETCD_PORTS[@]} -lt 6 && $port -lt 32000 ]]; do
    if port_free "$port"; then ETCD_PORTS+=("$port"); fi
    port=$((port + 1))
  done
  [[ ${#ETCD_PORTS[@]} -eq 6 ]] || die "no six free ports for etcd in 22379..32000"
}

start_etcd() {
  stop_etcd
  rm -rf "$ETCD_DATA"
  mkdir -p "$ETCD_DATA"
  pick_etcd_ports
  local i cluster="" endpoints=()
  for i in 1 2 3; do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${ETCD_PORTS[$((i + 2))]}"
    endpoints+=("127.0.0.1:${ETCD_PORTS[$((i - 1))]}")
  done
  ETCD_ENDPOINTS=$(IFS=,; echo "${endpoints[*]}")
  for i in 1 2 3; do
    local client="http://127.0.0.1:${ETCD_PORTS[$((i - 1))]}" peer="http://127.0.0.1:${ETCD_PORTS[$((i + 2))]}"
    # etcd's defaults (fsync on, snapshot-count, heartbeat 100 ms, election 1 s), with two changes a
    # user needs for long runs: etcd keeps every revision until compacted, so without compaction a
    # 4 KB 50/50 load fills the default 2 GB quota in a few minutes and etcd refuses writes.
    etcd --name "m$i" --data-dir "$ETCD_DATA/m$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-token "vs-etcd-$$" --initial-cluster-state new \
      --auto-compaction-mode periodic --auto-compaction-retention 1m --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
      --logger zap --log-outputs stderr \
      > "$OUT/etcd-m$i.log" 2>&1 < /dev/null &
    ETCD_PIDS+=($!)
  done
  local waited=0
  until ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout 2s endpoint health > /dev/null 2>&1; do
    for i in 0 1 2; do
      kill -0 "${ETCD_PIDS[$i]}" 2> /dev/null \
        || die "etcd member m$((i + 1)) exited; its log ($OUT/etcd-m$((i + 1)).log) ends with:
$(tail -n 15 "$OUT/etcd-m$((i + 1)).log")"
    done
    [[ $waited -lt 120 ]] || die "etcd not healthy after 60 s; logs: $OUT/etcd-m*.log"
    sleep 0.5
    waited=$((waited + 1))
  done
}

start_loomkv() {
  stop_loomkv
  ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true
  rm -rf "$LOOMKV_RUN"
  LOOMKV_UP=1 # so a failed start still gets 'cluster down'
  ./loomkv cluster up "$FOLDER" > "$OUT/loomkv-cluster-up.txt" 2>&1 \
    || die "'./loomkv cluster up $FOLDER' failed:
$(tail -n 20 "$OUT/loomkv-cluster-up.txt")"
}

loomkv_pids() {
  local f pids=()
  for f in "$LOOMKV_RUN"/node*.pid; do [[ -f "$f" ]] && pids+=("$(< "$f")"); done
  [[ ${#pids[@]} -gt 0 ]] || die "no pid files under $LOOMKV_RUN"
  echo "${pids[*]}"
}

# ---------------------------------------------------------------------------------------------
# TICKS = utime + stime (clock ticks) summed over the given pids; fails when one is gone.
# No forks: it runs once per progress line.
TICKS=0
proc_ticks() {
  local pid line fields
  TICKS=0
  for pid in "$@"; do
    read -r line 2> /dev/null < "/proc/$pid/stat" || return 1
    line=${line##*) } # the command name (field 2) may hold spaces; fields 3.. follow it
    read -r -a fields <<< "$line"
    TICKS=$((TICKS + fields[11] + fields[12]))
  done
}

# measured_run NAME SERVER_PIDS -- COMMAND...: runs the load generator with its report in
# $OUT/NAME.txt and progress in $OUT/NAME.progress.txt, sampling the CPU ticks at each progress
# line of the measured phase. Sets WIN_OPS, WIN_SECONDS, WIN_CLIENT_TICKS, WIN_SERVER_TICKS.
measured_run() {
  local name=$1 servers=() fifo="$OUT/$1.fifo" line first=1 t0= t1= s0 s1 c0 c1 ops=0 rc=0
  shift
  while [[ "$1" != -- ]]; do servers+=("$1"); shift; done
  shift
  rm -f "$fifo"
  mkfifo "$fifo"
  "$@" > "$OUT/$name.txt" 2> "$fifo" < /dev/null &
  CLIENT_PID=$!
  while IFS= read -r line; do
    printf '%s\n' "$line" >> "$OUT/$name.progress.txt"
    if [[ "$line" =~ ^\[\ *[0-9]+s\]\ run\ +([0-9]+)\ ops/s ]]; then
      local now=$EPOCHREALTIME
      proc_ticks "${servers[@]}" || die "a server process exited during the run (see $OUT)"
      local server_ticks=$TICKS
      proc_ticks "$CLIENT_PID" || continue # the client is exiting: its last line is not counted
      if [[ $first -eq 1 ]]; then
        first=0; t0=$now; s0=$server_ticks; c0=$TICKS
      else
        ops=$((ops + BASH_REMATCH[1])); t1=$now; s1=$server_ticks; c1=$TICKS
      fi
    fi
  done < "$fifo"
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=
  rm -f "$fifo"
  [[ $rc -eq 0 ]] || die "$name: the load generator exited with $rc; its output ($OUT/$name.txt, .progress.txt) ends with:
$(tail -n 5 "$OUT/$name.txt")
$(tail -n 5 "$OUT/$name.progress.txt")"
  [[ -n "$t1" && $ops -gt 0 ]] || die "$name: fewer than two progress lines in the measured phase; no CPU window"
  WIN_OPS=$ops
  WIN_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  WIN_CLIENT_TICKS=$((c1 - c0))
  WIN_SERVER_TICKS=$((s1 - s0))
}

CLK_TCK=$(getconf CLK_TCK)

# result_row SIDE NAME: one line of figures from $OUT/NAME.txt and the CPU window, appended to ROWS.
# Fields: side ops/s p50_us p99_us read_p50 read_p99 update_p50 update_p99 errors
#         client_us_per_op server_us_per_op client_cores server_cores
ROWS=()
result_row() {
  local side=$1 file="$OUT/$2.txt"
  local json; json=$(tail -n 1 "$file")
  [[ "$json" == \{* ]] || die "$2: no JSON summary at the end of $file"
  ROWS+=("$(awk -v side="$side" -v json="$json" -v ops="$WIN_OPS" -v secs="$WIN_SECONDS" -v ct="$WIN_CLIENT_TICKS" \
      -v st="$WIN_SERVER_TICKS" -v hz="$CLK_TCK" '
    function field(name,   m) { if (match(json, "\"" name "\":[0-9.]+")) { m = substr(json, RSTART, RLENGTH); sub(/.*:/, "", m); return m } return "-" }
    $1 == "read" && NF == 8 { rp50 = $3; rp99 = $5 }
    $1 == "update" && NF == 8 { up50 = $3; up99 = $5 }
    END {
      printf "%s %s %s %s %s %s %s %s %s %.1f %.1f %.2f %.2f\n", side, field("throughput_ops_s"), field("p50_us"), field("p99_us"),
        rp50 == "" ? "-" : rp50, rp99 == "" ? "-" : rp99, up50 == "" ? "-" : up50, up99 == "" ? "-" : up99, field("errors"),
        ct / hz * 1e6 / ops, st / hz * 1e6 / ops, ct / hz / secs, st / hz / secs
    }' "$file")")
}

GO_DURATION="${DURATION_MS}ms"
GO_WARMUP="${WARMUP_MS}ms"
GO_WARM_SERVERS="${WARM_SERVERS_MS}ms"

run_etcd() {
  local round=$1
  start_etcd
  local load=("$LOAD_BIN" --endpoints "$ETCD_ENDPOINTS" --clients "$CLIENTS" --keys "$KEYS" --value-size "$VALUE_SIZE"
    --read-ratio "$READ_RATIO" --json)
  if [[ $MODE == warmed ]]; then
    echo "   etcd: $WARM_SERVERS of unmeasured load first" >&2
    "${load[@]}" --warmup 0s --duration "$GO_WARM_SERVERS" > "$OUT/etcd-r$round-servers-warm.txt" 2>&1 \
      || die "the etcd warming run failed: $(tail -n 3 "$OUT/etcd-r$round-servers-warm.txt")"
    load+=(--no-preload)
  fi
  echo "   etcd $(etcd --version | head -n 1 | sed 's/^etcd Version: //') at $ETCD_ENDPOINTS; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  # shellcheck disable=SC2046
  measured_run "etcd-r$round" "${ETCD_PIDS[@]}" -- "${load[@]}" --warmup "$GO_WARMUP" --duration "$GO_DURATION"
  result_row etcd "etcd-r$round"
  stop_etcd
}

run_loomkv() {
  local round=$1
  start_loomkv
  local bench=(./loomkv bench kv --cluster "$FOLDER" --workload seed --clients "$CLIENTS" --keys "$KEYS" --value-size "$VALUE_SIZE"
    --read-ratio "$READ_RATIO" --consistency linearizable --json)
  if [[ $MODE == warmed ]]; then
    echo "   loomkv: $WARM_SERVERS of unmeasured load first" >&2
    "${bench[@]}" --warmup 0s --duration "$WARM_SERVERS" > "$OUT/loomkv-r$round-servers-warm.txt" 2>&1 \
      || die "the loomkv warming run failed: $(tail -n 3 "$OUT/loomkv-r$round-servers-warm.txt")"
    bench+=(--no-preload)
  fi
  echo "   loomkv $FOLDER; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  local pids; pids=$(loomkv_pids)
  # shellcheck disable=SC2086
  measured_run "loomkv-r$round" $pids -- "${bench[@]}" --warmup "$WARMUP" --duration "$DURATION"
  result_row loomkv "loomkv-r$round"
  stop_loomkv
}

print_table() { # print_table ROW_ETCD ROW_LOOMKV (either may be empty)
  awk -v e="$1" -v l="$2" '
    function ratio(a, b) { return (a == "-" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2fx", a / b) }
    function ms(us) { return us == "-" ? "-" : sprintf("%.2f", us / 1000) }
    function line(label, i, kind,   a, b, x, y) {
      x = ne ? E[i] : "-"; y = nl ? L[i] : "-"
      if (kind == "ms") { a = ms(x); b = ms(y) } else { a = x; b = y }
      printf "  %-28s %12s %12s %12s\n", label, a, b, (ne && nl) ? ratio(y, x) : "-"
    }
    BEGIN {
      ne = split(e, E, " "); nl = split(l, L, " ")
      printf "  %-28s %12s %12s %12s\n", "", "etcd", "loomkv", "loomkv/etcd"
      line("throughput (ops/s)", 2, "n")
      line("p50 (ms)", 3, "ms"); line("p99 (ms)", 4, "ms")
      line("read p50 (ms)", 5, "ms"); line("read p99 (ms)", 6, "ms")
      line("update p50 (ms)", 7, "ms"); line("update p99 (ms)", 8, "ms")
      line("errors", 9, "n")
      line("client CPU per op (us)", 10, "n"); line("servers CPU per op (us)", 11, "n")
      line("client CPU (cores busy)", 12, "n"); line("servers CPU (cores busy)", 13, "n")
    }'
}

# ---------------------------------------------------------------------------------------------
if [[ "$ONLY" != loomkv ]]; then install_packages; build_load; fi
if [[ "$ONLY" != etcd ]]; then
  # The launcher builds the jar (and its AOT caches) when the sources changed: done here, before
  # anything is measured ('cluster up' would say why if it failed).
  echo "vs-etcd: building loomkv if its sources changed (log: $OUT/loomkv-build.txt)" >&2
  ./loomkv cluster status "$FOLDER" > "$OUT/loomkv-build.txt" 2>&1 || true
fi

{
  echo "vs-etcd: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  workload: $CLIENTS closed-loop clients, $KEYS uniform keys of 16 B, values $VALUE_SIZE B, read ratio $READ_RATIO" \
    "(linearizable reads), warm-up $WARMUP, measured $DURATION, $MODE servers$([[ $MODE == warmed ]] && echo " ($WARM_SERVERS of load first)")," \
    "loomkv on $FOLDER, $ROUNDS round(s)"
} | tee "$OUT/summary.txt"

ALL_ETCD=()
ALL_LOOMKV=()
for round in $(seq 1 "$ROUNDS"); do
  ETCD_ROW=; LOOMKV_ROW=
  if (( round % 2 == 1 )); then order=(etcd loomkv); else order=(loomkv etcd); fi
  echo "round $round: ${order[*]}" >&2
  for side in "${order[@]}"; do
    [[ -z "$ONLY" || "$ONLY" == "$side" ]] || continue
    ROWS=()
    "run_$side" "$round"
    if [[ $side == etcd ]]; then ETCD_ROW=${ROWS[0]}; else LOOMKV_ROW=${ROWS[0]}; fi
  done
  {
    echo
    echo "round $round (${order[*]}), finished $(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    print_table "$ETCD_ROW" "$LOOMKV_ROW"
  } | tee -a "$OUT/summary.txt"
  ALL_ETCD+=("${ETCD_ROW:-}"); ALL_LOOMKV+=("${LOOMKV_ROW:-}")
done

# Across rounds: each side's throughput, p99 and servers' CPU per op in every round, with the
# spread (min / median / max).
round_spread() { # round_spread SIDE ROW...
  local side=$1; shift
  printf '%s\n' "$@" | awk -v side="$side" '
    function spread(label, col,   i, j, n, t, v, line) {
      n = 0; line = ""
      for (i = 1; i <= rows; i++) if (R[i, col] != "-") { v[++n] = R[i, col] + 0; line = line " " R[i, col] }
      if (n == 0) return
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      printf "  %-7s %-22s%s  (%s / %s / %s)\n", side, label, line, v[1], (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), v[n]
    }
    NF > 1 { rows++; for (i = 1; i <= NF; i++) R[rows, i] = $i }
    END { spread("throughput (ops/s)", 2); spread("p99 (us)", 4); spread("servers CPU/op (us)", 11) }'
}
if [[ $ROUNDS -gt 1 ]]; then
  {
    echo
    echo "across $ROUNDS rounds (per round, then min / median / max):"
    round_spread etcd "${ALL_ETCD[@]}"
    round_spread loomkv "${ALL_LOOMKV[@]}"
  } | tee -a "$OUT/summary.txt"
fi
echo
echo "reports, progress and server logs: $OUT/"
