package io.loomkv.persist.raft;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.wal.WalTestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The child process of {@link StorageCrashTest}: appends through a {@link StoreLog} to
 * {@link #GROUPS} groups in turn (group 0 among them), takes a snapshot of a group and compacts
 * it every few thousand of its entries (so segments are released and snapshot files pruned while
 * it may be killed), now and then rewrites a group's log, and prints "ACK group index" once
 * entries are durable.
 */
public final class StorageCrashChild {
    static final ConfState VOTERS = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).build();
    static final int GROUPS = 4;
    static final long SEGMENT_BYTES = 256 * 1024;

    private StorageCrashChild() {
    }

    /** The snapshot data for a snapshot at {@code index} of {@code groupId}: a function of both, a few KiB. */
    static byte[] snapshotData(long groupId, long index) {
        byte[] data = new byte[4096 + (int) (index % 4096)];
        new Random(index * 1_000_003 + groupId).nextBytes(data);
        return data;
    }

    static StoreLogOptions options(Path dir) {
        return StoreLogOptions.defaults(dir).withSegmentSizeBytes(SEGMENT_BYTES);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Random random = new Random(Long.parseLong(args[1]));
        StoreLog log = StoreLog.open(options(dir));
        GroupStorage[] groups = new GroupStorage[GROUPS];
        long[] next = new long[GROUPS];
        long[] lastSnapshot = new long[GROUPS];
        for (int g = 0; g < GROUPS; g++) {
            groups[g] = log.groups().containsKey((long) g) ? log.group(g) : log.createGroup(g);
            next[g] = groups[g].lastIndex() + 1;
            lastSnapshot[g] = groups[g].snapshotMetadata().getIndex();
        }
        System.out.println("READY");
        System.out.flush();
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        for (long round = 0; ; round++) {
            int g = (int) (round % GROUPS);
            GroupStorage storage = groups[g];
            int batch = 1 + random.nextInt(30);
            List<Entry> entries = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                entries.add(WalTestSupport.entry(next[g] + i, 1, 10 + random.nextInt(400)));
            }
            CompletableFuture<Long> durable = storage.append(HardState.newBuilder().setTerm(1).setCommit(next[g] + batch - 1).build(), entries);
            next[g] += batch;
            long groupId = g;
            durable.thenAccept(index -> {
                synchronized (System.out) {
                    System.out.println("ACK " + groupId + " " + index);
                    System.out.flush();
                }
            });
            inFlight.add(durable);
            if (inFlight.size() >= 4) {
                inFlight.remove(0).join();
            }
            if (next[g] - 1 - lastSnapshot[g] >= 2000 + 500 * g) {
                for (CompletableFuture<Long> pending : inFlight) {
                    pending.join();
                }
                inFlight.clear();
                long index = next[g] - 1 - random.nextInt(100);
                byte[] data = snapshotData(g, index);
                storage.createSnapshot(index, VOTERS, out -> out.write(data));
                storage.compact(index);
                lastSnapshot[g] = index;
            } else if (random.nextInt(20) == 0 && storage.lastIndex() - storage.firstIndex() < 300) {
                // Only a short log: a rewrite is one WAL append, and a long one must be a snapshot instead.
                storage.rewrite();
            }
        }
    }
}
