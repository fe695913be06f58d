package io.loomkv.net.node;

import io.loomkv.net.log.LogContext;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store's apply stage: a few {@link ApplyWorker} threads shared by all replicas (each replica
 * on the worker its group id picks), and a small pool that writes local snapshots from
 * point-in-time views while apply goes on. Neither grows with the number of groups.
 */
final class ApplyStage implements AutoCloseable {
    /** Snapshots being written at once, store-wide; more wait their turn (each is long, CPU-bound compression). */
    static final int SNAPSHOT_THREADS = 2;
    static final int MAX_QUEUED_SNAPSHOTS = 4_096;

    private final ApplyWorker[] workers;
    private final ExecutorService snapshotWriters;

    ApplyStage(String storeName, int threads) {
        if (threads < 1 || threads > 64) {
            throw new IllegalArgumentException("apply threads must be in 1..64, got " + threads);
        }
        workers = new ApplyWorker[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new ApplyWorker("apply-" + storeName + "-" + i);
        }
        AtomicInteger counter = new AtomicInteger();
        snapshotWriters = new ThreadPoolExecutor(SNAPSHOT_THREADS, SNAPSHOT_THREADS, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(MAX_QUEUED_SNAPSHOTS),
                task -> Thread.ofPlatform().daemon().name("snapshot-" + storeName + "-" + counter.incrementAndGet())
                        .unstarted(LogContext.inheritNode(task)));
    }

    void start() {
        for (ApplyWorker worker : workers) {
            worker.start();
        }
    }

    void schedule(ReplicaApplier applier) {
        if (applier.markScheduled()) {
            workers[(int) Math.floorMod(applier.groupId(), (long) workers.length)].enqueue(applier);
        }
    }

    /** Where local snapshots are written (bounded: a full queue refuses, and the replica tries again later). */
    ExecutorService snapshotWriters() {
        return snapshotWriters;
    }

    @Override
    public void close() {
        for (ApplyWorker worker : workers) {
            worker.stop();
        }
        for (ApplyWorker worker : workers) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        snapshotWriters.shutdown();
        try {
            snapshotWriters.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
