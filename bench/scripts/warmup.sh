#!/usr/bin/env bash
# Fresh servers with and without the AOT caches (docs/warmup.md): run it in alternation, e.g.
#   for m in aot off aot off; do bench/scripts/warmup.sh start1 $m; done
#
#   start1 MODE    one store of conf/sharded-3node alone: ms from its JVM's start to its first log
#                  line and to its 'serving' line
#   cluster MODE   'cluster up' of conf/sharded-3node (3 stores, 16 groups): per store, ms from its
#                  JVM's start to 'serving'; ms until 'cluster up' returned (every group led)
#   first60 MODE   'cluster up' of a fresh conf/local-3node, then 60 s of bench kv (256 clients,
#                  10,000 keys, 128 B, 50/50, no warm-up): ops/s per second and in windows
#
# MODE: aot (the caches 'build' trained), off (LOOMKV_AOT=off) or before (off, with the command
# line of the launcher before the caches: --enable-native-access=ALL-UNNAMED, which turns off the
# JDK's archived module graph). env: SERVER_OPTS, JVM flags for the servers only (they replace the
# default -Xmx512m of 'cluster up', as LOOMKV_JVM_OPTS does). The clusters are
# copies of the conf folders on ports 5xxxx (7101 -> 57101), so they do not meet a cluster another
# checkout runs on the usual ports; each run starts from empty data and stops its servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ $# -eq 2 ]] || { sed -n '2,17p' "$0" >&2; exit 2; }
what="$1" mode="$2"
client_opts=""
server_opts="${SERVER_OPTS:-}"
case "$mode" in
  aot) aot=on ;;
  off) aot=off ;;
  before) aot=off; client_opts="--enable-native-access=ALL-UNNAMED"; server_opts="$client_opts ${server_opts:--Xmx512m}" ;;
  *) echo "MODE is aot, off or before" >&2; exit 2 ;;
esac
OUT="run/warmup-out"
mkdir -p "$OUT"
stamp="$(date -u +%H%M%S)"

# A copy of conf/$1 as run/warmup-conf/$2 on ports 5xxxx, with data under run/$2-data.
conf_copy() {
  local source="conf/$1" name="$2" f
  local folder="run/warmup-conf/$name"
  rm -rf "$folder" "run/$name-data" "run/$name"
  mkdir -p "$folder"
  for f in "$source"/*.properties; do
    sed -e 's/127\.0\.0\.1:7\([0-9][0-9][0-9]\)\b/127.0.0.1:57\1/g' \
        -e "s|^data-dir=run/[^/]*/|data-dir=run/$name-data/|" "$f" > "$folder/$(basename "$f")"
  done
  echo "$folder"
}

now_ms() { date +%s%3N; }

# CPU ms (user + system) process $1 has used so far; less disturbed by neighbours than wall time.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"; }
# CPU ms one thread has used: from /proc/PID/task/TID/stat. (/proc/TID/stat, without the task/
# part, reports the whole process's CPU, which made every thread look as busy as its process.)
task_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "$1/stat"; }

# Epoch ms when process $1 started (from /proc: clock ticks after boot; 10 ms resolution).
start_ms() {
  local ticks boot
  ticks="$(awk '{print $22}' "/proc/$1/stat")"
  boot="$(awk '/^btime/ {print $2}' /proc/stat)"
  echo $(( boot * 1000 + ticks * 1000 / $(getconf CLK_TCK) ))
}

# Epoch ms of the first log line of file $1 matching $2 (logback's HH:mm:ss.SSS, UTC, today).
line_ms() {
  local clock midnight
  clock="$(grep -m1 -E "$2" "$1" | grep -oE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}')" || return 1
  midnight="$(date -u -d "$(date -u +%F)" +%s)"
  echo $(( midnight * 1000 + 10#${clock:0:2} * 3600000 + 10#${clock:3:2} * 60000 + 10#${clock:6:2} * 1000 + 10#${clock:9:3} ))
}

cluster_up() { # FOLDER: 'cluster up' with the servers' options
  LOOMKV_AOT="$aot" LOOMKV_JVM_OPTS="$server_opts" ./loomkv cluster up "$1" > "$OUT/$stamp-up.txt" 2>&1
}
cluster_down() { LOOMKV_AOT="$aot" ./loomkv cluster down "$1" > /dev/null 2>&1 || true; }

label="$what $mode${SERVER_OPTS:+ [$SERVER_OPTS]} $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
case "$what" in
  start1)
    folder="$(conf_copy sharded-3node wstart)"
    log="$OUT/$stamp-start1.log"
    # shellcheck disable=SC2086
    LOOMKV_AOT="$aot" LOOMKV_JVM_OPTS="$client_opts ${SERVER_OPTS:-}" ./loomkv server --config "$folder/node1.properties" > "$log" 2>&1 &
    pid=$!
    waited=0
    until grep -q ' serving ' "$log" 2>/dev/null; do
      sleep 0.05; waited=$((waited + 1))
      [[ $waited -lt 1200 ]] || { kill "$pid"; echo "$label: no 'serving' line within 60 s" >&2; exit 1; }
    done
    cpu="$(cpu_ms "$pid")"
    began="$(start_ms "$pid")"
    echo "$label: first log line $(( $(line_ms "$log" '^[0-9]') - began )) ms, serving $(( $(line_ms "$log" ' serving ') - began )) ms, CPU $cpu ms"
    kill "$pid"; wait "$pid" || true
    ;;
  cluster)
    folder="$(conf_copy sharded-3node wsharded)"
    cluster_down "$folder"
    t0="$(now_ms)"
    cluster_up "$folder" || { cat "$OUT/$stamp-up.txt" >&2; cluster_down "$folder"; exit 1; }
    t1="$(now_ms)"
    stores="" cpu=0
    for pidfile in run/wsharded/node*.pid; do
      node="$(basename "$pidfile" .pid)"
      cpu=$(( cpu + $(cpu_ms "$(cat "$pidfile")") ))
      stores+=" ${node#node}:$(( $(line_ms "run/wsharded/$node.log" ' serving ') - $(start_ms "$(cat "$pidfile")") ))"
    done
    echo "$label: serving (ms after each store's JVM start)$stores; every group led $((t1 - t0)) ms after 'cluster up', the stores' CPU by then $cpu ms"
    cluster_down "$folder"
    ;;
  first60)
    folder="$(conf_copy local-3node wlocal)"
    cluster_down "$folder"
    cluster_up "$folder" || { cat "$OUT/$stamp-up.txt" >&2; cluster_down "$folder"; exit 1; }
    progress="$OUT/$stamp-first60-$mode.txt"
    servers_cpu() { local total=0 p; for p in run/wlocal/node*.pid; do total=$((total + $(cpu_ms "$(cat "$p")"))); done; echo "$total"; }
    cpu0="$(servers_cpu)"
    LOOMKV_AOT="$aot" LOOMKV_JVM_OPTS="$client_opts" ./loomkv bench kv --cluster "$folder" --clients 256 --keys 10000 --value-size 128 --read-ratio 0.5 \
        --warmup 0s --duration 60s > "$OUT/$stamp-first60-report.txt" 2> "$progress" || true
    cpu1="$(servers_cpu)"
    # CPU of the servers' JIT compiler threads ("C1 CompilerThre", "C2 CompilerThre") since they started.
    jit_ms=0
    for p in run/wlocal/node*.pid; do
      for task in /proc/"$(cat "$p")"/task/*; do
        if grep -q 'CompilerThre' "$task/comm" 2>/dev/null; then jit_ms=$(( jit_ms + $(task_cpu_ms "$task") )); fi
      done
    done
    cluster_down "$folder"
    # Progress lines: "[  12s] run  34567 ops/s ...": one per second of the measured run.
    awk -v label="$label" '/^\[ *[0-9]+s\] run/ { for (i = 2; i <= NF; i++) if ($i == "ops/s") { n++; v[n] = $(i - 1) } }
      function mean(a, b,   s, i) { s = 0; for (i = a; i <= b; i++) s += v[i]; return int(s / (b - a + 1)) }
      END {
        # The last progress line may land after the run ended: 58-60 lines for 60 s.
        if (n < 50) { print label ": only " n " seconds measured" > "/dev/stderr"; exit 1 }
        if (n > 60) n = 60
        printf "%s: ops/s s1-10 %d, s11-20 %d, s21-30 %d, s31-%d %d; s4-23 %d = %.0f%% of s41-%d %d\n", label,
            mean(1, 10), mean(11, 20), mean(21, 30), n, mean(31, n), mean(4, 23), 100 * mean(4, 23) / mean(41, n), n, mean(41, n)
        line = "   per second:"; for (i = 1; i <= n; i++) line = line " " v[i]; print line
      }' "$progress"
    grep -E '^  throughput' "$OUT/$stamp-first60-report.txt" | sed 's/^/   /'
    ops="$(awk '/^  operations/ {print $2}' "$OUT/$stamp-first60-report.txt")"
    [[ -n "$ops" && "$ops" -gt 0 ]] && echo "   servers' CPU $(( (cpu1 - cpu0) / 1000 )) s over the preload and the run; $(( (cpu1 - cpu0) * 1000 / ops )) us per measured op; JIT threads $(( jit_ms / 1000 )) s since start"
    ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
