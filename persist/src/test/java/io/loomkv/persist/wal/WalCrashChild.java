package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.GROUP;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The child process of {@link WalCrashTest}: reopens the WAL, then appends batches as fast as it
 * can with several batches in flight, printing "ACK index" once each is durable, until killed.
 * Arguments: the WAL directory, a seed, and "virtual" or "platform" for the writer thread.
 */
public final class WalCrashChild {
    private WalCrashChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        Random random = new Random(seed);
        boolean virtualWriter = switch (args[2]) {
            case "virtual" -> true;
            case "platform" -> false;
            default -> throw new IllegalArgumentException("writer must be virtual or platform, got " + args[2]);
        };
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(256 * 1024).withVirtualWriter(virtualWriter);
        Wal wal = Wal.open(options, WalTestSupport.keepAbove(Long.MAX_VALUE));
        long next = wal.lastIndex(GROUP) + 1;
        System.out.println("READY " + wal.lastIndex(GROUP));
        System.out.flush();
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        while (true) {
            int batch = 1 + random.nextInt(20);
            List<Entry> entries = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                entries.add(WalTestSupport.entry(next + i, 1, 10 + random.nextInt(600)));
            }
            HardState hardState = HardState.newBuilder().setTerm(1).setCommit(next + batch - 1).build();
            CompletableFuture<Long> durable = wal.append(GROUP, hardState, entries, true);
            next += batch;
            durable.thenAccept(index -> {
                synchronized (System.out) {
                    System.out.println("ACK " + index);
                    System.out.flush();
                }
            });
            inFlight.add(durable);
            if (inFlight.size() >= 8) {
                inFlight.remove(0).join();
            }
        }
    }
}
