package io.loomkv.bench.wal;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.persist.wal.Wal;
import io.loomkv.persist.wal.WalTicket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How bench appenders hand records to one group of the WAL. Every record becomes its own entry
 * (own index, own CRC-framed WAL record); a group's entries must reach the WAL in index order, so
 * some ordering is needed: one lock per group, as each group's Raft loop appends on its own.
 *
 * <ul>
 *   <li>{@code direct}: each appender takes a lock, numbers its record and calls {@code Wal.submit}
 *       with that one entry, then (outside the lock) waits on the returned ticket.
 *   <li>{@code future}: as {@code direct}, through {@code Wal.append} and its future (to compare
 *       the two ways of learning that a record is durable).
 *   <li>{@code combined}: each appender queues its record; whoever finds the lock free numbers all
 *       queued records and appends them in one call (flat combining), as the Raft loop appends the
 *       entries of a batch of proposals. Appenders do not wait for each other on the lock. The
 *       batch's first appender waits on the WAL's ticket and then releases the rest of the batch.
 * </ul>
 */
abstract sealed class RecordSubmitter permits RecordSubmitter.Direct, RecordSubmitter.ViaFuture, RecordSubmitter.Combined {
    /** The most records one combined append carries. */
    static final int MAX_COMBINED_RECORDS = 4096;

    final Wal wal;
    final long groupId;
    final ByteString data;
    final ReentrantLock order = new ReentrantLock();
    long nextIndex; // guarded by order

    RecordSubmitter(Wal wal, long groupId, ByteString data) {
        this.wal = wal;
        this.groupId = groupId;
        this.data = data;
        this.nextIndex = wal.lastIndex(groupId) + 1;
    }

    static RecordSubmitter create(String mode, Wal wal, long groupId, ByteString data) {
        return switch (mode) {
            case "direct" -> new Direct(wal, groupId, data);
            case "future" -> new ViaFuture(wal, groupId, data);
            case "combined" -> new Combined(wal, groupId, data);
            default -> throw new IllegalArgumentException("--submit must be direct, future or combined, got " + mode);
        };
    }

    /** Appends one record and returns once it is durable, with the durable last index. */
    abstract long appendDurably() throws InterruptedException;

    Entry nextEntry() {
        return Entry.newBuilder().setTerm(1).setIndex(nextIndex++).setData(data).build();
    }

    static final class Direct extends RecordSubmitter {
        Direct(Wal wal, long groupId, ByteString data) {
            super(wal, groupId, data);
        }

        @Override
        long appendDurably() throws InterruptedException {
            WalTicket ticket;
            order.lock();
            try {
                ticket = wal.submit(groupId, null, List.of(nextEntry()), true);
            } finally {
                order.unlock();
            }
            return ticket.await();
        }
    }

    static final class ViaFuture extends RecordSubmitter {
        ViaFuture(Wal wal, long groupId, ByteString data) {
            super(wal, groupId, data);
        }

        @Override
        long appendDurably() {
            CompletableFuture<Long> durable;
            order.lock();
            try {
                durable = wal.append(groupId, null, List.of(nextEntry()), true);
            } finally {
                order.unlock();
            }
            return durable.join();
        }
    }

    static final class Combined extends RecordSubmitter {
        private final ConcurrentLinkedQueue<Waiter> waiting = new ConcurrentLinkedQueue<>();

        Combined(Wal wal, long groupId, ByteString data) {
            super(wal, groupId, data);
        }

        @Override
        long appendDurably() {
            Waiter me = new Waiter(Thread.currentThread());
            waiting.add(me);
            // Whoever holds the lock re-checks the queue after releasing it, so a record queued
            // while the lock was busy is always picked up by someone.
            while (!waiting.isEmpty() && order.tryLock()) {
                try {
                    appendQueued();
                } finally {
                    order.unlock();
                }
            }
            return me.awaitDurable();
        }

        private void appendQueued() {
            List<Waiter> batch = new ArrayList<>();
            List<Entry> entries = new ArrayList<>();
            Waiter next;
            while (batch.size() < MAX_COMBINED_RECORDS && (next = waiting.poll()) != null) {
                batch.add(next);
                entries.add(nextEntry());
            }
            if (batch.isEmpty()) {
                return;
            }
            WalTicket ticket;
            try {
                ticket = wal.submit(groupId, null, entries, true);
            } catch (RuntimeException e) {
                batch.forEach(waiter -> waiter.finish(-1, e));
                return;
            }
            batch.get(0).lead(ticket, batch);
        }
    }

    /**
     * One appender of a combined batch. The batch's first appender waits on the WAL ticket and then
     * releases the others, so the WAL writer wakes one thread per batch, not one per record.
     */
    static final class Waiter {
        private final Thread thread;
        private volatile WalTicket ticket; // set for the batch's leader
        private List<Waiter> batch;        // written before ticket, read after it
        private volatile boolean done;
        private long index;                // written before done, read after it
        private RuntimeException error;    // written before done, read after it

        Waiter(Thread thread) {
            this.thread = thread;
        }

        void lead(WalTicket walTicket, List<Waiter> members) {
            batch = members;
            ticket = walTicket;
            LockSupport.unpark(thread);
        }

        void finish(long durableIndex, RuntimeException failure) {
            index = durableIndex;
            error = failure;
            done = true;
            LockSupport.unpark(thread);
        }

        long awaitDurable() {
            while (!done && ticket == null) {
                LockSupport.park(this);
            }
            if (!done) {
                long durableIndex = -1;
                RuntimeException failure = null;
                try {
                    durableIndex = awaitUninterruptibly(ticket);
                } catch (RuntimeException e) {
                    failure = e;
                }
                for (Waiter member : batch) {
                    member.finish(durableIndex, failure);
                }
            }
            if (error != null) {
                throw error;
            }
            return index;
        }

        private static long awaitUninterruptibly(WalTicket ticket) {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return ticket.await();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
