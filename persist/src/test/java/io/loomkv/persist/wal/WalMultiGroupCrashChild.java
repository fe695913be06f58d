package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The child process of {@link WalMultiGroupCrashTest}: reopens the WAL, then {@link #THREADS}
 * threads append to {@link #GROUPS} groups at once (each thread owns some groups), with several
 * batches in flight, commit-only hard states that need no sync, releases and rewrites now and
 * then, until killed. It prints "ACK group index" once an append is durable and "REL group index"
 * before it releases. Arguments: the WAL directory, a seed, and "virtual" or "platform" for the
 * writer thread.
 */
public final class WalMultiGroupCrashChild {
    static final int GROUPS = 40;
    static final int THREADS = 8;
    static final long SEGMENT_BYTES = 256 * 1024;

    private WalMultiGroupCrashChild() {
    }

    /** The id of the i-th group: 0 (the controller), small ids, and one beyond 2^40. */
    static long groupId(int i) {
        return i == GROUPS - 1 ? (1L << 40) + 3 : i;
    }

    /** The entries are a function of their index, so that the child can rewrite them and the parent check them. */
    static Entry entryAt(long index) {
        return WalTestSupport.entry(index, 1);
    }

    static WalOptions options(Path dir, boolean virtualWriter) {
        return WalOptions.defaults(dir).withSegmentSizeBytes(SEGMENT_BYTES).withVirtualWriter(virtualWriter);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        boolean virtualWriter = switch (args[2]) {
            case "virtual" -> true;
            case "platform" -> false;
            default -> throw new IllegalArgumentException("writer must be virtual or platform, got " + args[2]);
        };
        Wal wal = Wal.open(options(dir, virtualWriter), WalTestSupport.keepAbove(Long.MAX_VALUE));
        WalContents recovered = wal.takeRecovered();
        System.out.println("READY");
        System.out.flush();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    appendForever(wal, recovered, thread, new Random(seed * 31 + thread));
                } catch (RuntimeException e) {
                    // A refused append is a bug, not a crash: die at once, so the parent sees the child gone before it killed it.
                    e.printStackTrace();
                    Runtime.getRuntime().halt(3);
                }
            }));
        }
        for (Thread thread : threads) {
            thread.join();
        }
    }

    private static void appendForever(Wal wal, WalContents recovered, int thread, Random random) {
        List<Long> groups = new ArrayList<>();
        for (int i = thread; i < GROUPS; i += THREADS) {
            groups.add(groupId(i));
        }
        long[] next = new long[groups.size()];
        long[] released = new long[groups.size()];
        for (int i = 0; i < groups.size(); i++) {
            GroupContents contents = recovered.group(groups.get(i));
            next[i] = contents == null ? 1 : contents.lastIndex() + 1;
            released[i] = contents == null ? 0 : contents.logStartIndex();
        }
        List<CompletableFuture<Long>> inFlight = new ArrayList<>();
        while (true) {
            int i = random.nextInt(groups.size());
            long group = groups.get(i);
            int batch = 1 + random.nextInt(10);
            List<Entry> entries = new ArrayList<>(batch);
            for (int k = 0; k < batch; k++) {
                entries.add(entryAt(next[i] + k));
            }
            if (random.nextInt(8) == 0 && next[i] > 1) {
                wal.append(group, HardState.newBuilder().setTerm(1).setCommit(next[i] - 1).build(), List.of(), false);
            }
            CompletableFuture<Long> durable = wal.append(group, null, entries, true);
            next[i] += batch;
            durable.thenAccept(index -> print("ACK " + group + " " + index));
            inFlight.add(durable);
            if (inFlight.size() >= 4) {
                inFlight.remove(0).join();
            }
            long last = next[i] - 1;
            if (random.nextInt(10) == 0 && last - released[i] > 50) {
                released[i] = last - random.nextInt(50);
                print("REL " + group + " " + released[i]);
                wal.releaseTo(group, released[i]);
            } else if (random.nextInt(150) == 0 && last - released[i] < 400) {
                List<Entry> retained = new ArrayList<>();
                for (long index = released[i] + 1; index <= last; index++) {
                    retained.add(entryAt(index));
                }
                wal.rewrite(group, HardState.newBuilder().setTerm(1).setCommit(last).build(), retained);
            }
        }
    }

    private static void print(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }
}
