#!/usr/bin/env bash
# Multi-Raft scaling on one machine: the same load against 3-store clusters with 1, 4, 16 and 64
# data groups (each group on all three stores; fsync on; linearizable reads): 256 closed-loop
# clients, 10,000 keys, 128 B values, 50/50, a 3 s warm-up, then DURATION measured. Every cluster
# starts from empty data directories. Prints per run: ops/s and latency from bench kv, the
# servers' CPU seconds, WAL forces (fdatasync) per second per store during the run, and the Raft
# workers' turns and passes per request (from the stores' metrics endpoints).
#
# usage: bench/scripts/groups.sh [GROUP_COUNTS...]   (default: 1 4 16 64)
# env:   DURATION (20s), CLIENTS (256), ROUNDS (1: with 2, the counts are run twice, alternated),
#        WARM (30s: an unmeasured run of the same load first, so the servers' JIT has settled; the
#        JIT takes the two cores for about a minute on fresh servers, more so with more groups)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
COUNTS=("$@")
[[ ${#COUNTS[@]} -gt 0 ]] || COUNTS=(1 4 16 64)
DURATION="${DURATION:-20s}"
CLIENTS="${CLIENTS:-256}"
WARM="${WARM:-30s}"
ROUNDS="${ROUNDS:-1}"
OUT="run/bench-groups-out"
mkdir -p "$OUT"
./loomkv build > /dev/null

# A config folder for N groups: conf/sharded-3node with data-groups=N and its own data dirs.
folder_for() {
  local n=$1
  local folder="run/bench-groups-conf/g$n"
  rm -rf "$folder"; mkdir -p "$folder"
  for f in conf/sharded-3node/*.properties; do
    sed -e "s/^data-groups=.*/data-groups=$n/" -e "s|^data-dir=run/sharded-3node/|data-dir=run/g$n/|" "$f" > "$folder/$(basename "$f")"
  done
  echo "$folder"
}

cpu_ticks() { # total user+system ticks of the servers whose pid files are in run/$1
  local total=0 pidfile
  for pidfile in "run/$1"/node*.pid; do total=$((total + $(awk '{print $14 + $15}' "/proc/$(cat "$pidfile")/stat"))); done
  echo "$total"
}

forces() { # WAL forces of every store, summed
  ./loomkv bench stores --cluster "$1" --json 2>/dev/null | grep -oE '"wal_forces":[0-9]+' | cut -d: -f2 | paste -sd+ | bc
}

counters() { # the stores' Raft worker turns and passes and the requests they served, summed: "TURNS PASSES REQUESTS"
  local addr
  for addr in $(grep -h '^metrics-address=' "$1"/*.properties | cut -d= -f2); do
    curl -sf "http://$addr/metrics" || true
  done | awk '$1 == "loomkv_raft_worker_turns_total" {t += $2} $1 == "loomkv_raft_worker_passes_total" {p += $2}
              $1 ~ /^loomkv_server_request_duration_seconds_count/ {r += $2} END {printf "%d %d %d\n", t, p, r}'
}

run_one() {
  local n=$1 folder; folder=$(folder_for "$n")
  local name; name=$(basename "$folder")
  ./loomkv cluster down "$folder" > /dev/null 2>&1 || true
  rm -rf "run/$name"
  ./loomkv cluster up "$folder" > /dev/null
  ./loomkv bench stores --cluster "$folder" --await-leaders > /dev/null
  echo "== $n data groups: $(uptime)"
  ./loomkv bench kv --cluster "$folder" --keys 10000 --value-size 128 --read-ratio 0.5 --clients "$CLIENTS" \
      --warmup 0s --duration "$WARM" > /dev/null 2>&1 # preload and warm the servers: not measured
  local cpu0 f0 t0 c0; cpu0=$(cpu_ticks "$name"); f0=$(forces "$folder"); t0=$(date +%s.%N); c0=$(counters "$folder")
  ./loomkv bench kv --cluster "$folder" --keys 10000 --value-size 128 --read-ratio 0.5 --clients "$CLIENTS" \
      --warmup 3s --duration "$DURATION" --no-preload > "$OUT/g$n.txt" 2> /dev/null
  local cpu1 f1 t1 c1; cpu1=$(cpu_ticks "$name"); f1=$(forces "$folder"); t1=$(date +%s.%N); c1=$(counters "$folder")
  grep -E '^(  throughput|latency|  read|  update)' "$OUT/g$n.txt" | sed 's/^/   /'
  echo "   servers' CPU: $(( (cpu1 - cpu0) / $(getconf CLK_TCK) )) s over $(echo "$t1 - $t0" | bc | cut -c1-5) s (warm-up included)"
  echo "   WAL forces per store per second: $(echo "($f1 - $f0) / 3 / ($t1 - $t0)" | bc)"
  echo "$c0 $c1" | awk '{r = $6 - $3; if (r > 0) printf "   Raft worker turns per request served %.3f, passes (flushes) per request %.3f, turns per pass %.2f\n", ($4 - $1) / r, ($5 - $2) / r, ($4 - $1) / ($5 - $2)}'
  ./loomkv cluster down "$folder" > /dev/null 2>&1 || true
}

for round in $(seq 1 "$ROUNDS"); do
  for n in "${COUNTS[@]}"; do run_one "$n"; done
done
echo "outputs: $OUT/"
