package io.loomkv.bench.wal;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.persist.wal.Wal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How bench appenders hand records to the WAL. Every record becomes its own entry (own index,
 * own CRC-framed WAL record); entries must reach the WAL in index order, so some ordering is needed.
 *
 * <ul>
 *   <li>{@code direct}: each appender takes a lock, numbers its record and calls {@code Wal.append}
 *       with that one entry.
 *   <li>{@code combined}: each appender queues its record; whoever finds the lock free numbers all
 *       queued records and appends them in one call (flat combining), as the Raft loop appends the
 *       entries of a batch of proposals. Appenders do not wait for each other on the lock.
 * </ul>
 */
abstract sealed class RecordSubmitter permits RecordSubmitter.Direct, RecordSubmitter.Combined {
    /** The most records one combined append carries. */
    static final int MAX_COMBINED_RECORDS = 4096;

    final Wal wal;
    final ByteString data;
    final ReentrantLock order = new ReentrantLock();
    long nextIndex; // guarded by order

    RecordSubmitter(Wal wal, ByteString data) {
        this.wal = wal;
        this.data = data;
        this.nextIndex = wal.lastIndex() + 1;
    }

    static RecordSubmitter create(String mode, Wal wal, ByteString data) {
        return switch (mode) {
            case "direct" -> new Direct(wal, data);
            case "combined" -> new Combined(wal, data);
            default -> throw new IllegalArgumentException("--submit must be direct or combined, got " + mode);
        };
    }

    /** Submits one record; completes with the durable last index once it is durable. */
    abstract CompletableFuture<Long> submit();

    Entry nextEntry() {
        return Entry.newBuilder().setTerm(1).setIndex(nextIndex++).setData(data).build();
    }

    static final class Direct extends RecordSubmitter {
        Direct(Wal wal, ByteString data) {
            super(wal, data);
        }

        @Override
        CompletableFuture<Long> submit() {
            order.lock();
            try {
                return wal.append(null, List.of(nextEntry()));
            } finally {
                order.unlock();
            }
        }
    }

    static final class Combined extends RecordSubmitter {
        private final ConcurrentLinkedQueue<CompletableFuture<Long>> waiting = new ConcurrentLinkedQueue<>();

        Combined(Wal wal, ByteString data) {
            super(wal, data);
        }

        @Override
        CompletableFuture<Long> submit() {
            CompletableFuture<Long> done = new CompletableFuture<>();
            waiting.add(done);
            // Whoever holds the lock re-checks the queue after releasing it, so a record queued
            // while the lock was busy is always picked up by someone.
            while (!waiting.isEmpty() && order.tryLock()) {
                try {
                    appendQueued();
                } finally {
                    order.unlock();
                }
            }
            return done;
        }

        private void appendQueued() {
            List<CompletableFuture<Long>> batch = new ArrayList<>();
            List<Entry> entries = new ArrayList<>();
            CompletableFuture<Long> next;
            while (batch.size() < MAX_COMBINED_RECORDS && (next = waiting.poll()) != null) {
                batch.add(next);
                entries.add(nextEntry());
            }
            if (batch.isEmpty()) {
                return;
            }
            CompletableFuture<Long> durable;
            try {
                durable = wal.append(null, entries);
            } catch (RuntimeException e) {
                batch.forEach(waiter -> waiter.completeExceptionally(e));
                return;
            }
            durable.whenComplete((index, error) -> {
                for (CompletableFuture<Long> waiter : batch) {
                    if (error == null) {
                        waiter.complete(index);
                    } else {
                        waiter.completeExceptionally(error);
                    }
                }
            });
        }
    }
}
