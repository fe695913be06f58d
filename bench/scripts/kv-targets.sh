#!/usr/bin/env bash
# Issue 6's bench kv targets, each on a fresh local cluster (3 nodes, fsync on, linearizable reads):
#   128 B values 50/50 with 256 clients (3 s and 15 s warm-up), the seed workload (4 KB records
#   50/50) with 256 clients, and 128 B values 50/50 with 1 client.
# Prints `uptime` before and after each run (the figures depend on what else the machine runs)
# and the CPU seconds the three server processes used during it.
#
# usage: bench/scripts/kv-targets.sh [CONFIG_FOLDER] (default conf/local-3node)
# env:   DURATION (20s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
FOLDER="${1:-conf/local-3node}"
DURATION="${DURATION:-20s}"
RUN_DIR="run/$(basename "$FOLDER")"
OUT="$RUN_DIR-bench"

cleanup() { ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true; }
trap cleanup EXIT
./loomkv build > /dev/null

server_cpu_ticks() {
  local total=0 pidfile
  for pidfile in "$RUN_DIR"/node*.pid; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$(cat "$pidfile")/stat")))
  done
  echo "$total"
}

run() { # run NAME BENCH_ARGS...   (WARM_SERVERS=60s env: an unmeasured run of that length first)
  local name=$1; shift
  ./loomkv cluster down "$FOLDER" > /dev/null 2>&1 || true
  rm -rf "$RUN_DIR"
  ./loomkv cluster up "$FOLDER" > /dev/null
  mkdir -p "$OUT"
  if [[ -n "${WARM_SERVERS:-}" ]]; then
    ./loomkv bench kv --cluster "$FOLDER" --keys 10000 --duration "$WARM_SERVERS" "$@" > /dev/null 2>&1
    set -- "$@" --no-preload
  fi
  echo "== $name: bench kv $*"
  echo "   before: $(uptime)"
  local before; before=$(server_cpu_ticks)
  ./loomkv bench kv --cluster "$FOLDER" --keys 10000 --duration "$DURATION" --json "$@" \
      --plot "$OUT/$name.svg" > "$OUT/$name.txt" 2> "$OUT/$name.progress.txt"
  local after; after=$(server_cpu_ticks)
  echo "   after:  $(uptime)"
  echo "   servers' CPU during the run (preload, warm-up and measured phase): $(( (after - before) / $(getconf CLK_TCK) )) s"
  grep -E '^(preload|latency|  read|  update|  throughput|  latency)' "$OUT/$name.txt" | sed 's/^/   /'
  tail -n 1 "$OUT/$name.txt" | sed 's/^/   /'
}

run 128b-256c --value-size 128 --read-ratio 0.5 --clients 256 --warmup 3s
run 128b-256c-warm15 --value-size 128 --read-ratio 0.5 --clients 256 --warmup 15s
run seed-256c --workload seed --clients 256 --warmup 3s
run 128b-1c --value-size 128 --read-ratio 0.5 --clients 1 --warmup 3s
WARM_SERVERS=60s run 128b-256c-warmed --value-size 128 --read-ratio 0.5 --clients 256 --warmup 3s
WARM_SERVERS=60s run seed-256c-warmed --workload seed --clients 256 --warmup 3s
WARM_SERVERS=30s run 128b-1c-writes-warmed --value-size 128 --read-ratio 0 --clients 1 --warmup 3s
WARM_SERVERS=30s run 128b-1c-reads-warmed --value-size 128 --read-ratio 1 --clients 1 --warmup 3s
echo "outputs and plots: $OUT/"
