package io.loomkv.net.node;

import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.KvSnapshot;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.net.metrics.StoreMetrics;
import io.loomkv.persist.raft.GroupStorage;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jctools.queues.SpscChunkedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica's apply side: owns its {@link KvStateMachine}. Applies committed entries in log
 * order and completes the requests waiting for them, serves reads once the applied index reaches
 * theirs, restores snapshots installed from the leader, and starts a local snapshot when enough
 * was applied since the last one (written on the stage's snapshot pool from a point-in-time
 * view, so apply goes on meanwhile). On a persistent engine that compaction point is a
 * checkpoint: the engine is synced and the point recorded, no file written (a file costs a read
 * of the whole group); a file is written only when a follower or a backup needs one. Runs on an {@link ApplyWorker}; its queue is filled only by
 * the replica's turns (single producer), bounded, so a slow apply pushes back on the replica.
 */
final class ReplicaApplier {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaApplier.class);
    static final int QUEUE_CAPACITY = 1_024;
    /** Tasks run per scheduling, so one busy group cannot hold an apply thread from the others for long. */
    static final int MAX_TASKS_PER_RUN = 64;

    private record PendingRead(long index, LoopInput.Read read) {
    }

    /** Told when a local snapshot is durable: the log up to {@code index - keepEntries} may be compacted. */
    interface SnapshotSaved {
        void saved(long index, long keepEntries);
    }

    private final long storeId;
    private final long groupId;
    private final KvStateMachine stateMachine;
    private final GroupStorage storage;
    private final ProposalTracker tracker;
    private final ReplicaState state;
    private final ApplyStage stage;
    private final SpscChunkedArrayQueue<ApplyTask> queue = new SpscChunkedArrayQueue<>(16, QUEUE_CAPACITY);
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final long snapshotThresholdEntries;
    private final long snapshotThresholdBytes;
    private final long maxSnapshotBytes;
    private final SnapshotSaved onSnapshotSaved;
    private final StoreMetrics metrics;
    private final PriorityQueue<PendingRead> waitingReads =
            new PriorityQueue<>((a, b) -> Long.compare(a.index(), b.index()));
    private final AtomicBoolean snapshotInProgress = new AtomicBoolean();
    private volatile boolean snapshotRequested;
    /** A backup needs a snapshot file (not just a compaction point) at or after the applied index. */
    private volatile boolean snapshotFileRequested;
    private volatile long lastSnapshotIndex;
    private long bytesSinceSnapshot;
    private long entriesSinceSnapshot;
    private ConfState confState;
    private boolean failed;
    /** Held while tasks run, so {@link #retire} can wait them out. */
    private final java.util.concurrent.locks.ReentrantLock runLock = new java.util.concurrent.locks.ReentrantLock();
    private volatile boolean retired;
    /** Entries the state machine applied since this replica opened (a restart replays only the log after the engine's index). */
    private volatile long entriesAppliedSinceOpen;

    ReplicaApplier(long storeId, long groupId, KvStateMachine stateMachine, GroupStorage storage, ProposalTracker tracker,
            ReplicaState state, ApplyStage stage, ConfState initialConfState, long snapshotThresholdEntries,
            long snapshotThresholdBytes, long maxSnapshotBytes, SnapshotSaved onSnapshotSaved, StoreMetrics metrics) {
        this.storeId = storeId;
        this.groupId = groupId;
        this.stateMachine = stateMachine;
        this.storage = storage;
        this.tracker = tracker;
        this.state = state;
        this.stage = stage;
        this.confState = initialConfState;
        this.snapshotThresholdEntries = snapshotThresholdEntries;
        this.snapshotThresholdBytes = snapshotThresholdBytes;
        this.maxSnapshotBytes = maxSnapshotBytes;
        this.onSnapshotSaved = onSnapshotSaved;
        this.metrics = metrics;
        this.lastSnapshotIndex = storage.snapshotMetadata().getIndex();
        state.setAppliedIndex(stateMachine.lastAppliedIndex());
    }

    long groupId() {
        return groupId;
    }

    boolean markScheduled() {
        return scheduled.compareAndSet(false, true);
    }

    void clearScheduled() {
        scheduled.set(false);
    }

    /** Queues a task from the replica's turn; false when the queue is full (the replica retries later). */
    boolean offer(ApplyTask task) {
        if (!queue.offer(task)) {
            stage.schedule(this);
            return false;
        }
        stage.schedule(this);
        return true;
    }

    long lastSnapshotIndex() {
        return lastSnapshotIndex;
    }

    long entriesAppliedSinceOpen() {
        return entriesAppliedSinceOpen;
    }

    /** Takes a snapshot at the next chance even below the thresholds (the shared WAL needs this group's old entries gone). */
    void requestSnapshot() {
        snapshotRequested = true;
        stage.schedule(this);
    }

    /**
     * Writes a snapshot file at the next chance: on a persistent engine compaction points are
     * checkpoints without one, and a backup or a follower needs the data. The storage also says
     * so itself when a follower needed one ({@link GroupStorage#snapshotFileWanted()}).
     */
    void requestSnapshotFile() {
        snapshotFileRequested = true;
        stage.schedule(this);
    }

    /** Runs on the apply worker; never while {@link #retire} waits or after it. */
    void runTasks() {
        runLock.lock();
        try {
            if (!retired) {
                runTasksLocked();
            }
        } finally {
            runLock.unlock();
        }
    }

    /**
     * The replica is being dropped: once this returns, no task runs and no snapshot is being
     * written (waits up to a minute for one in progress), so the engine can be closed.
     */
    void retire() throws InterruptedException {
        runLock.lock();
        try {
            retired = true;
        } finally {
            runLock.unlock();
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (snapshotInProgress.get() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        failWaitingReads("the replica left this store");
    }

    private void runTasksLocked() {
        if (failed) {
            return;
        }
        try {
            for (int i = 0; i < MAX_TASKS_PER_RUN; i++) {
                ApplyTask task = queue.poll();
                if (task == null) {
                    break;
                }
                switch (task) {
                    case ApplyTask.Committed committed -> apply(committed);
                    case ApplyTask.Reads reads -> reads.reads().forEach(r -> waitingReads.add(new PendingRead(reads.index(), r)));
                    case ApplyTask.Restore restore -> restore(restore.metadata());
                }
                serveReads();
            }
            maybeSnapshot();
        } catch (IOException | RuntimeException | Error e) {
            LOG.error("store {} group {}: apply stopped by a failure; the replica stops serving", storeId, groupId, e);
            failed = true;
            state.fail(e);
            failWaitingReads("the replica failed: " + e);
            return;
        }
        if (!queue.isEmpty()) {
            stage.schedule(this);
        }
    }

    /** The store is stopping: answers the reads still waiting. Call after the apply workers stopped. */
    void close() {
        failWaitingReads("node is stopping");
    }

    private void failWaitingReads(String why) {
        KvReply stopping = KvReplies.error(Status.UNAVAILABLE, why);
        waitingReads.forEach(r -> r.read().reply().complete(stopping));
        waitingReads.clear();
        ApplyTask task;
        while ((task = queue.poll()) != null) {
            if (task instanceof ApplyTask.Reads reads) {
                reads.reads().forEach(r -> r.reply().complete(stopping));
            }
        }
    }

    private void apply(ApplyTask.Committed committed) {
        long startNanos = System.nanoTime();
        long appliedBefore = stateMachine.lastAppliedIndex();
        for (Entry entry : committed.entries()) {
            long index = entry.getIndex();
            if (index <= stateMachine.lastAppliedIndex()) {
                // Covered by a snapshot restored meanwhile, or (after a restart) by what a
                // persistent engine had applied; the membership of the latter is still news.
                ConfState after = committed.confStates().get(index);
                if (after != null && index > lastSnapshotIndex) {
                    confState = after;
                }
                continue;
            }
            entriesAppliedSinceOpen++;
            bytesSinceSnapshot += entry.getData().size();
            entriesSinceSnapshot++;
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                stateMachine.skip(index);
                ConfState after = committed.confStates().get(index);
                if (after != null) {
                    confState = after;
                }
                tracker.applied(index, entry.getTerm(), List.of());
            } else if (entry.getData().isEmpty()) {
                stateMachine.skip(index); // A new leader's empty entry.
                tracker.applied(index, entry.getTerm(), List.of());
            } else {
                List<KvReply> replies = stateMachine.applyEntry(index, entry.getData());
                tracker.applied(index, entry.getTerm(), replies);
            }
        }
        state.setAppliedIndex(stateMachine.lastAppliedIndex());
        metrics.proposalsApplied().inc(stateMachine.lastAppliedIndex() - appliedBefore);
        if (System.nanoTime() - startNanos > StoreMetrics.SLOW_NANOS) {
            metrics.slowApplies().inc();
        }
    }

    private void serveReads() {
        long applied = stateMachine.lastAppliedIndex();
        while (!waitingReads.isEmpty() && waitingReads.peek().index() <= applied) {
            LoopInput.Read read = waitingReads.poll().read();
            KvReply reply;
            try {
                reply = stateMachine.read(read.request(), System.currentTimeMillis());
            } catch (RuntimeException e) {
                LOG.warn("store {} group {}: read failed", storeId, groupId, e);
                reply = KvReplies.error(Status.INTERNAL, "read failed: " + e);
            }
            read.reply().complete(reply);
        }
    }

    private void restore(SnapshotMetadata metadata) throws IOException {
        if (metadata.getIndex() <= stateMachine.lastAppliedIndex()) {
            return;
        }
        long startNanos = System.nanoTime();
        try (InputStream in = storage.openSnapshotData(maxSnapshotBytes)) {
            stateMachine.restore(in);
        }
        metrics.snapshotApplySeconds().observe(StoreMetrics.seconds(System.nanoTime() - startNanos));
        if (stateMachine.lastAppliedIndex() < metadata.getIndex()) {
            throw new IllegalStateException("store " + storeId + " group " + groupId + ": snapshot " + metadata.getIndex()
                    + " restored the state machine only to " + stateMachine.lastAppliedIndex());
        }
        confState = metadata.getConfState();
        lastSnapshotIndex = metadata.getIndex();
        tracker.failUpTo(stateMachine.lastAppliedIndex());
        state.setAppliedIndex(stateMachine.lastAppliedIndex());
        LOG.info("store {} group {}: state machine restored from snapshot at {}", storeId, groupId,
                stateMachine.lastAppliedIndex());
    }

    /**
     * Takes a compaction point once enough entries or enough bytes of entries were applied since
     * the last one (the entry count alone would let a log of large entries grow without bound
     * between points, and make a restart replay all of it), or when the store asked for one: a
     * snapshot file on the memory engine, a checkpoint on a persistent one. A snapshot file is
     * also written when a follower or a backup needs one and the newest file is older than the
     * applied state.
     */
    private void maybeSnapshot() {
        long applied = stateMachine.lastAppliedIndex();
        boolean fileDue = (snapshotFileRequested || storage.snapshotFileWanted())
                && applied > storage.snapshotFileMetadata().getIndex();
        boolean due = applied - lastSnapshotIndex >= snapshotThresholdEntries || bytesSinceSnapshot >= snapshotThresholdBytes
                || (snapshotRequested && applied > lastSnapshotIndex) || fileDue;
        if (!due || !snapshotInProgress.compareAndSet(false, true)) {
            return;
        }
        snapshotRequested = false;
        boolean withFile = fileDue || !stateMachine.hasPersistentEngine();
        if (withFile) {
            snapshotFileRequested = false;
        }
        // The point lets the log be compacted up to it, and the log is what replays the writes a
        // power loss takes from a persistent engine: make the engine durable up to here first.
        long syncStartNanos = System.nanoTime();
        stateMachine.syncEngine();
        long keepEntries = keepEntriesAfterSnapshot();
        ConfState membership = confState;
        KvSnapshot snapshot = withFile ? stateMachine.snapshot() : null;
        try {
            if (withFile) {
                stage.snapshotWriters().execute(() -> writeSnapshot(snapshot, applied, membership, keepEntries));
            } else {
                stage.snapshotWriters().execute(() -> writeCheckpoint(applied, membership, keepEntries, syncStartNanos));
            }
            bytesSinceSnapshot = 0;
            entriesSinceSnapshot = 0;
        } catch (RejectedExecutionException e) {
            if (snapshot != null) {
                snapshot.close();
            }
            if (withFile && fileDue) {
                snapshotFileRequested = true; // Still wanted: asked again on the next apply.
            }
            snapshotInProgress.set(false); // The pool is saturated: the next apply tries again.
        }
    }

    /**
     * How many entries the log keeps behind a snapshot for followers that lag a little: a quarter
     * of the entry threshold, and no more than about a quarter of the byte threshold at the
     * average entry size seen since the last snapshot.
     */
    private long keepEntriesAfterSnapshot() {
        long byEntries = snapshotThresholdEntries / 4;
        if (entriesSinceSnapshot == 0 || bytesSinceSnapshot == 0) {
            return byEntries;
        }
        long averageEntryBytes = Math.max(1, bytesSinceSnapshot / entriesSinceSnapshot);
        return Math.min(byEntries, snapshotThresholdBytes / 4 / averageEntryBytes);
    }

    /** Records a checkpoint at {@code index}: the engine was synced up to it on the apply thread. */
    private void writeCheckpoint(long index, ConfState membership, long keepEntries, long syncStartNanos) {
        try {
            SnapshotMetadata saved = storage.recordCheckpoint(index, membership);
            metrics.checkpointSaveSeconds().observe(StoreMetrics.seconds(System.nanoTime() - syncStartNanos));
            lastSnapshotIndex = saved.getIndex();
            LOG.debug("store {} group {}: checkpoint at index {} term {}", storeId, groupId, saved.getIndex(), saved.getTerm());
            onSnapshotSaved.saved(saved.getIndex(), keepEntries);
        } catch (IOException | RuntimeException e) {
            // Not fatal: the log simply stays longer; the next threshold crossing tries again.
            LOG.warn("store {} group {}: checkpoint at {} failed: {}", storeId, groupId, index, e.toString());
        } finally {
            snapshotInProgress.set(false);
            stage.schedule(this);
        }
    }

    private void writeSnapshot(KvSnapshot snapshot, long index, ConfState membership, long keepEntries) {
        try (snapshot) {
            long startNanos = System.nanoTime();
            SnapshotMetadata saved = storage.createSnapshot(index, membership, snapshot::writeTo);
            metrics.snapshotSaveSeconds().observe(StoreMetrics.seconds(System.nanoTime() - startNanos));
            lastSnapshotIndex = saved.getIndex();
            LOG.info("store {} group {}: snapshot saved at index {} term {}", storeId, groupId, saved.getIndex(),
                    saved.getTerm());
            onSnapshotSaved.saved(saved.getIndex(), keepEntries);
        } catch (IOException | RuntimeException e) {
            // Not fatal: the log simply stays longer; the next threshold crossing tries again.
            LOG.warn("store {} group {}: snapshot at {} failed: {}", storeId, groupId, index, e.toString());
        } finally {
            snapshotInProgress.set(false);
            stage.schedule(this); // Entries applied meanwhile may already call for the next snapshot.
        }
    }
}
