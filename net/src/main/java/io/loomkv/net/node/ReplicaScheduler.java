package io.loomkv.net.node;

import io.loomkv.net.metrics.StoreMetrics;

/**
 * Runs replicas' turns on a fixed, small set of {@link RaftWorker}s: threads do not grow with the
 * number of groups (TiKV polls ready peers on a pool of 2, Dragonboat pins shards to 16 workers by
 * id). A replica with work asks to be scheduled; it is queued once however often it asks before
 * its turn starts, and always on the worker its group id picks, so its turns run one at a time
 * and in order without a lock.
 */
final class ReplicaScheduler implements AutoCloseable {
    private final RaftWorker[] workers;

    ReplicaScheduler(String storeName, int workerCount, StoreTransport transport, StoreMetrics metrics) {
        if (workerCount < 1 || workerCount > 256) {
            throw new IllegalArgumentException("raft workers must be in 1..256, got " + workerCount);
        }
        workers = new RaftWorker[workerCount];
        for (int i = 0; i < workerCount; i++) {
            workers[i] = new RaftWorker("raft-worker-" + storeName + "-" + i, transport, metrics.raftTurns(), metrics.raftPasses());
        }
    }

    void start() {
        for (RaftWorker worker : workers) {
            worker.start();
        }
    }

    /** Asks for a turn of {@code replica}; cheap when it is already queued. */
    void schedule(Replica replica) {
        if (replica.markScheduled()) {
            workers[(int) Math.floorMod(replica.groupId(), (long) workers.length)].enqueue(replica);
        }
    }

    @Override
    public void close() {
        for (RaftWorker worker : workers) {
            worker.stop();
        }
        for (RaftWorker worker : workers) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
