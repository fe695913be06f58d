#!/usr/bin/env bash
# Time to move one slot of about 100 MB, and the peer bytes it takes (issue #15's benchmark): a
# 3-store cluster with 2 data groups (conf/sharded-3node with data-groups=2; fsync on), 25,600
# random (incompressible) values of 4 KB under one hash tag (so one slot), written through the RESP port of the store
# leading the slot's group (redis-cli --pipe); then `ctl config move SLOT OTHER` and
# `ctl config wait`. Prints the seconds from the move to settled (the old copy deleted too) and
# the peer bytes the stores sent meanwhile (loomkv_network_peer_sent_bytes_total, summed), and
# each store's peak resident memory (VmHWM) with its heap limit, so a move larger than the heap
# (VALUES=262144 ENGINE=rocksdb: 1 GiB) shows that neither side holds the slot in memory.
#
# usage: bench/scripts/move-100mb.sh
# env:   VALUES (25600), VALUE_BYTES (4096), ENGINE (memory; rocksdb, btree or bitcask for a slot
#        larger than the stores' 512 MB heaps)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
VALUES="${VALUES:-25600}"
VALUE_BYTES="${VALUE_BYTES:-4096}"
ENGINE="${ENGINE:-memory}"
bench/scripts/ensure-redis-tools.sh > /dev/null
./loomkv build > /dev/null

folder="run/bench-move-conf"
rm -rf "$folder"; mkdir -p "$folder"
for f in conf/sharded-3node/*.properties; do
  sed -e "s/^data-groups=.*/data-groups=2/" -e "s|^data-dir=run/sharded-3node/|data-dir=run/move-bench/|" "$f" > "$folder/$(basename "$f")"
  echo "engine=$ENGINE" >> "$folder/$(basename "$f")"
done
./loomkv cluster down "$folder" > /dev/null 2>&1 || true
rm -rf run/move-bench
./loomkv cluster up "$folder" > /dev/null
trap './loomkv cluster down "$folder" > /dev/null 2>&1 || true' EXIT
C=(--cluster "$folder")

slot=$(./loomkv ctl "${C[@]}" slot '{big}' | grep -oE 'slot [0-9]+' | grep -oE '[0-9]+')
group=$(./loomkv ctl "${C[@]}" slot '{big}' | grep -oE 'group [0-9]+' | grep -oE '[0-9]+')
other=$(( group == 1 ? 2 : 1 ))
leader=$(./loomkv ctl "${C[@]}" slot '{big}' | grep -oE 'leader (store )?[0-9]+' | grep -oE '[0-9]+$')
resp_port=$(grep -h "^resp-address" "$folder/node$leader.properties" | cut -d: -f2)
echo "slot $slot of group $group (leader store $leader, RESP port $resp_port) -> group $other"

python3 - "$VALUES" "$VALUE_BYTES" <<'PY' | redis-cli -p "$resp_port" --pipe
import random, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(42)
out = sys.stdout.buffer
for i in range(n):
    key = ("{big}%08d" % i).encode()
    value = rng.randbytes(size)  # incompressible: the frames are compressed on the wire
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
PY

sent_bytes() {
  local total=0 port
  for port in $(grep -h '^metrics-address' "$folder"/*.properties | cut -d: -f2); do
    total=$(( total + $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^loomkv_network_peer_sent_bytes_total/ {s += $2} END {printf "%d", s}') ))
  done
  echo "$total"
}
b0=$(sent_bytes); t0=$(date +%s.%N)
./loomkv ctl "${C[@]}" config move "$slot" "$other" > /dev/null
./loomkv ctl "${C[@]}" config wait --wait-seconds 600 > /dev/null
t1=$(date +%s.%N); b1=$(sent_bytes)
echo "moved $VALUES values of $VALUE_BYTES B ($(( VALUES * VALUE_BYTES / 1048576 )) MiB) in $(echo "$t1 - $t0" | bc | cut -c1-6) s;" \
     "peer bytes sent meanwhile: $(( (b1 - b0) / 1048576 )) MiB (the move, Raft replication of the installed chunks and the deletes, heartbeats)"
./loomkv ctl "${C[@]}" get '{big}00000042' > /dev/null # exits 1 if the key were lost
for pidfile in "run/$(basename "$folder")"/node*.pid; do
  echo "$(basename "$pidfile" .pid): peak RSS $(( $(awk '/^VmHWM/{print $2}' "/proc/$(cat "$pidfile")/status") / 1024 )) MiB" \
       "(heap limit 512 MiB, engine $ENGINE), data directory $(( $(du -sb "run/move-bench/store$(basename "$pidfile" .pid | tr -dc 0-9)" | cut -f1) / 1048576 )) MiB"
done
echo "check: {big}00000042 is there, slot $slot served by $(./loomkv ctl "${C[@]}" slot '{big}' | grep -oE 'group [0-9]+')"
