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
 * The child process of {@link StorageCrashTest}: appends through {@link DurableStorage}, takes a
 * snapshot and compacts every few thousand entries (so segments are released and snapshot files
 * pruned while it may be killed), and prints "ACK index" once entries are durable.
 */
public final class StorageCrashChild {
    static final ConfState VOTERS = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).build();

    private StorageCrashChild() {
    }

    /** The snapshot data for a snapshot at {@code index}: a function of the index, a few KiB. */
    static byte[] snapshotData(long index) {
        byte[] data = new byte[4096 + (int) (index % 4096)];
        new Random(index).nextBytes(data);
        return data;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Random random = new Random(Long.parseLong(args[1]));
        DurableStorage storage = DurableStorage.open(DurableStorageOptions.defaults(dir).withSegmentSizeBytes(256 * 1024));
        long next = storage.lastIndex() + 1;
        long lastSnapshot = storage.snapshotMetadata().getIndex();
        System.out.println("READY " + storage.lastIndex());
        System.out.flush();
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        while (true) {
            int batch = 1 + random.nextInt(30);
            List<Entry> entries = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                entries.add(WalTestSupport.entry(next + i, 1, 10 + random.nextInt(400)));
            }
            CompletableFuture<Long> durable = storage.append(HardState.newBuilder().setTerm(1).setCommit(next + batch - 1).build(), entries);
            next += batch;
            durable.thenAccept(index -> {
                synchronized (System.out) {
                    System.out.println("ACK " + index);
                    System.out.flush();
                }
            });
            inFlight.add(durable);
            if (inFlight.size() >= 4) {
                inFlight.remove(0).join();
            }
            long durableIndex = next - 1;
            if (durableIndex - lastSnapshot >= 2000) {
                for (CompletableFuture<Long> pending : inFlight) {
                    pending.join();
                }
                inFlight.clear();
                long index = durableIndex - random.nextInt(100);
                byte[] data = snapshotData(index);
                storage.createSnapshot(index, VOTERS, out -> out.write(data));
                storage.compact(index);
                lastSnapshot = index;
            }
        }
    }
}
