#!/usr/bin/env bash
# Adding a group to a loaded cluster (issue #15's benchmark): a 3-store cluster with 2 data groups
# (conf/sharded-3node with data-groups=2; fsync on; linearizable reads) under 256 closed-loop
# clients, 10,000 keys, 128 B values, 50/50; 10 s into a 60 s run, `ctl config add-group 3 1 2 3`;
# prints the seconds until `ctl config wait` says every group is at the new configuration with no
# slot moving (the slots balanced over 3 groups), and the run's report (its per-second progress
# lines show the throughput before, during and after).
#
# usage: bench/scripts/join-under-load.sh
# env:   CLIENTS (256), WARM (30s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CLIENTS="${CLIENTS:-256}"
WARM="${WARM:-30s}"
OUT="run/bench-join-out"
mkdir -p "$OUT"
./loomkv build > /dev/null

folder="run/bench-join-conf"
rm -rf "$folder"; mkdir -p "$folder"
for f in conf/sharded-3node/*.properties; do
  sed -e "s/^data-groups=.*/data-groups=2/" -e "s|^data-dir=run/sharded-3node/|data-dir=run/join-bench/|" "$f" > "$folder/$(basename "$f")"
done
./loomkv cluster down "$folder" > /dev/null 2>&1 || true
rm -rf run/join-bench
./loomkv cluster up "$folder" > /dev/null
./loomkv bench stores --cluster "$folder" --await-leaders > /dev/null
trap './loomkv cluster down "$folder" > /dev/null 2>&1 || true' EXIT

load() {
  ./loomkv bench kv --cluster "$folder" --keys 10000 --value-size 128 --read-ratio 0.5 --clients "$CLIENTS" "$@"
}
load --warmup 0s --duration "$WARM" > /dev/null 2>&1 # preload and warm: not measured
load --warmup 0s --duration 60s --no-preload > "$OUT/report.txt" 2> "$OUT/progress.txt" &
bench=$!
sleep 10
t0=$(date +%s.%N)
./loomkv ctl --cluster "$folder" config add-group 3 1 2 3
./loomkv ctl --cluster "$folder" config wait --wait-seconds 300 > /dev/null
t1=$(date +%s.%N)
echo "group 3 joined under load; slots balanced over 3 groups after $(echo "$t1 - $t0" | bc | cut -c1-5) s"
wait $bench
grep -E '^(  throughput|latency|  read|  update)' "$OUT/report.txt" | sed 's/^/   /'
echo "   per second (ops/s; the join came at about 10 s):"
grep -oE '^\[ *[0-9]+s\] run +[0-9]+ ops/s' "$OUT/progress.txt" | sed 's/^/     /' | paste -sd' ' | fold -w 120
