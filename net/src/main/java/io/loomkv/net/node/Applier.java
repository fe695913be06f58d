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
import io.loomkv.persist.raft.GroupStorage;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.SpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The apply thread: owns the {@link KvStateMachine}. Applies committed entries in log order and
 * completes the requests waiting for them, serves reads once the applied index reaches theirs,
 * restores snapshots installed from the leader, and starts a local snapshot when enough entries
 * were applied since the last one (written out on a separate thread from a point-in-time view,
 * so apply goes on meanwhile).
 */
final class Applier implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Applier.class);

    private record PendingRead(long index, LoopInput.Read read) {
    }

    /** Told when a local snapshot is durable: the log up to {@code index - keepEntries} may be compacted. */
    interface SnapshotSaved {
        void saved(long index, long keepEntries);
    }

    private final long nodeId;
    private final KvStateMachine stateMachine;
    private final GroupStorage storage;
    private final ProposalTracker tracker;
    private final NodeState state;
    private final SpscArrayQueue<ApplyTask> queue;
    private final long snapshotThresholdEntries;
    private final long snapshotThresholdBytes;
    private final long maxSnapshotBytes;
    private final SnapshotSaved onSnapshotSaved;
    private final PriorityQueue<PendingRead> waitingReads =
            new PriorityQueue<>((a, b) -> Long.compare(a.index(), b.index()));
    private final AtomicBoolean snapshotInProgress = new AtomicBoolean();
    private volatile boolean running = true;
    private volatile Thread applyThread; // set when run() starts; woken by stop() and by a finished snapshot
    private volatile long lastSnapshotIndex;
    /** Entry bytes applied since the last snapshot was started. */
    private long bytesSinceSnapshot;
    private long entriesSinceSnapshot;
    private ConfState confState;

    Applier(long nodeId, KvStateMachine stateMachine, GroupStorage storage, ProposalTracker tracker, NodeState state,
            SpscArrayQueue<ApplyTask> queue, ConfState initialConfState, long snapshotThresholdEntries,
            long snapshotThresholdBytes, long maxSnapshotBytes, SnapshotSaved onSnapshotSaved) {
        this.nodeId = nodeId;
        this.stateMachine = stateMachine;
        this.storage = storage;
        this.tracker = tracker;
        this.state = state;
        this.queue = queue;
        this.confState = initialConfState;
        this.snapshotThresholdEntries = snapshotThresholdEntries;
        this.snapshotThresholdBytes = snapshotThresholdBytes;
        this.maxSnapshotBytes = maxSnapshotBytes;
        this.onSnapshotSaved = onSnapshotSaved;
        this.lastSnapshotIndex = storage.snapshotMetadata().getIndex();
        state.setAppliedIndex(stateMachine.lastAppliedIndex());
    }

    void stop() {
        running = false;
        wake();
    }

    private void wake() {
        Thread thread = applyThread;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }

    long lastSnapshotIndex() {
        return lastSnapshotIndex;
    }

    @Override
    public void run() {
        applyThread = Thread.currentThread();
        try {
            while (running) {
                ApplyTask task = queue.poll();
                if (task == null) {
                    // A threshold may have been crossed while the previous snapshot was still being
                    // written; without this, a log that stops growing would keep it until the next write.
                    maybeSnapshot();
                    // Untimed: the Raft loop unparks this thread after every task it queues, stop()
                    // and a finished snapshot do too; an idle node then costs no wake-ups here.
                    if (running && queue.isEmpty()) {
                        LockSupport.park(this);
                    }
                    continue;
                }
                switch (task) {
                    case ApplyTask.Committed committed -> apply(committed);
                    case ApplyTask.Reads reads -> reads.reads().forEach(r -> waitingReads.add(new PendingRead(reads.index(), r)));
                    case ApplyTask.Restore restore -> restore(restore.metadata());
                }
                serveReads();
            }
        } catch (IOException | RuntimeException | Error e) {
            LOG.error("node {}: apply thread stopped by a failure; the node stops serving", nodeId, e);
            state.fail(e);
        } finally {
            KvReply stopping = KvReplies.error(Status.UNAVAILABLE, "node is stopping");
            waitingReads.forEach(r -> r.read().reply().complete(stopping));
            waitingReads.clear();
        }
    }

    private void apply(ApplyTask.Committed committed) {
        for (Entry entry : committed.entries()) {
            long index = entry.getIndex();
            if (index <= stateMachine.lastAppliedIndex()) {
                continue; // Covered by a snapshot restored meanwhile.
            }
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
        maybeSnapshot();
    }

    private void serveReads() {
        long applied = stateMachine.lastAppliedIndex();
        while (!waitingReads.isEmpty() && waitingReads.peek().index() <= applied) {
            LoopInput.Read read = waitingReads.poll().read();
            KvReply reply;
            try {
                reply = stateMachine.read(read.request());
            } catch (RuntimeException e) {
                LOG.warn("node {}: read failed", nodeId, e);
                reply = KvReplies.error(Status.INTERNAL, "read failed: " + e);
            }
            read.reply().complete(reply);
        }
    }

    private void restore(SnapshotMetadata metadata) throws IOException {
        if (metadata.getIndex() <= stateMachine.lastAppliedIndex()) {
            return;
        }
        try (InputStream in = storage.openSnapshotData(maxSnapshotBytes)) {
            stateMachine.restore(in);
        }
        if (stateMachine.lastAppliedIndex() < metadata.getIndex()) {
            throw new IllegalStateException("node " + nodeId + ": snapshot " + metadata.getIndex()
                    + " restored the state machine only to " + stateMachine.lastAppliedIndex());
        }
        confState = metadata.getConfState();
        lastSnapshotIndex = metadata.getIndex();
        tracker.failUpTo(stateMachine.lastAppliedIndex());
        state.setAppliedIndex(stateMachine.lastAppliedIndex());
        LOG.info("node {}: state machine restored from snapshot at {}", nodeId, stateMachine.lastAppliedIndex());
    }

    /**
     * Snapshots once enough entries or enough bytes of entries were applied since the last one:
     * the entry count alone would let a log of large entries (big batches, multi-puts, large
     * values) grow in memory and on disk without bound between snapshots, and make a restart
     * replay all of it.
     */
    private void maybeSnapshot() {
        long applied = stateMachine.lastAppliedIndex();
        boolean due = applied - lastSnapshotIndex >= snapshotThresholdEntries || bytesSinceSnapshot >= snapshotThresholdBytes;
        if (!due || !snapshotInProgress.compareAndSet(false, true)) {
            return;
        }
        long keepEntries = keepEntriesAfterSnapshot();
        bytesSinceSnapshot = 0;
        entriesSinceSnapshot = 0;
        KvSnapshot snapshot = stateMachine.snapshot();
        ConfState membership = confState;
        // A platform thread: compressing the whole state is long CPU-bound work that would hold a
        // carrier the Raft loop and the connections need.
        Thread.ofPlatform().daemon().name("snapshot-" + nodeId + "-" + applied)
                .start(() -> writeSnapshot(snapshot, applied, membership, keepEntries));
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

    private void writeSnapshot(KvSnapshot snapshot, long index, ConfState membership, long keepEntries) {
        try (snapshot) {
            SnapshotMetadata saved = storage.createSnapshot(index, membership, snapshot::writeTo);
            lastSnapshotIndex = saved.getIndex();
            LOG.info("node {}: snapshot saved at index {} term {}", nodeId, saved.getIndex(), saved.getTerm());
            onSnapshotSaved.saved(saved.getIndex(), keepEntries);
        } catch (IOException | RuntimeException e) {
            // Not fatal: the log simply stays longer; the next threshold crossing tries again.
            LOG.warn("node {}: snapshot at {} failed: {}", nodeId, index, e.toString());
        } finally {
            snapshotInProgress.set(false);
            wake(); // Entries applied meanwhile may already call for the next snapshot.
        }
    }
}
