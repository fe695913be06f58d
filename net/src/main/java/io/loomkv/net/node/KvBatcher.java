package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.Storage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jctools.queues.MessagePassingQueue;

/**
 * Turns a replica's queued client inputs into Raft inputs, on its turn: every write waiting
 * becomes part of one proposal (one log entry of up to {@value #MAX_COMMANDS_PER_ENTRY} commands),
 * every linearizable read waiting shares one ReadIndex round (one heartbeat broadcast), lease and
 * serializable reads are served as soon as the applied index allows. Keeps the reads waiting for
 * their ReadIndex confirmation and answers them when it comes (or fails them when leadership moves).
 */
final class KvBatcher {
    static final int MAX_COMMANDS_PER_ENTRY = 512;
    static final int MAX_ENTRY_BYTES = 1 << 20;
    static final int MAX_INPUTS_PER_TURN = 4_096;

    /** What the batcher needs from its replica. */
    interface Host {
        /** Hands a task to the apply stage (blocking while its queue is full: back-pressure). */
        void toApply(ApplyTask task);

        /** The NOT_LEADER reply naming the leader we know of. */
        KvReply notLeader();

        /** Whether the leader's lease may serve reads now (it has been awake for a full election timeout). */
        boolean leaseUsable();
    }

    private final String name;
    private final ReplicaState state;
    private final ProposalTracker tracker;
    private final PointReads pointReads;
    private final Storage storage;
    private final Host host;
    private final Map<ByteString, List<LoopInput.Read>> pendingReads = new HashMap<>();
    private final List<LoopInput.Propose> writes = new ArrayList<>();
    private final List<LoopInput.Read> reads = new ArrayList<>();
    private long readCounter;
    private long lastTimestampMillis;
    /** Written only by the replica's turns. */
    private volatile long leaseReadsServed;

    /** @param name identifies the replica in read contexts and logs, e.g. "s1-g7" */
    KvBatcher(String name, ReplicaState state, ProposalTracker tracker, PointReads pointReads, Storage storage, Host host) {
        this.name = name;
        this.state = state;
        this.tracker = tracker;
        this.pointReads = pointReads;
        this.storage = storage;
        this.host = host;
    }

    /** Drains up to {@value #MAX_INPUTS_PER_TURN} inputs into {@code node}; returns whether there were any. */
    boolean drain(MessagePassingQueue<LoopInput> inputs, RaftNode node, Consumer<LoopInput.Control> controls) {
        int drained = 0;
        LoopInput input;
        while (drained < MAX_INPUTS_PER_TURN && (input = inputs.poll()) != null) {
            drained++;
            switch (input) {
                case LoopInput.Propose p -> writes.add(p);
                case LoopInput.Read r -> reads.add(r);
                case LoopInput.Control c -> controls.accept(c);
            }
        }
        if (!writes.isEmpty()) {
            propose(node);
            writes.clear();
        }
        if (!reads.isEmpty()) {
            read(node);
            reads.clear();
        }
        return drained > 0;
    }

    int pendingReadRounds() {
        return pendingReads.size();
    }

    long leaseReadsServed() {
        return leaseReadsServed;
    }

    private void propose(RaftNode node) {
        // A follower's RaftNode forwards a proposal instead of appending it (which the check in
        // proposeBatch would take for a bug).
        if (!state.leadsNow(node)) {
            KvReply redirect = host.notLeader();
            writes.forEach(w -> w.reply().complete(redirect));
            return;
        }
        long nowMillis = Math.max(System.currentTimeMillis(), lastTimestampMillis);
        lastTimestampMillis = nowMillis;
        int from = 0;
        while (from < writes.size()) {
            CommandBatch.Builder batch = CommandBatch.newBuilder();
            List<CompletableFuture<KvReply>> replies = new ArrayList<>();
            int bytes = 0;
            int i = from;
            for (; i < writes.size() && replies.size() < MAX_COMMANDS_PER_ENTRY; i++) {
                LoopInput.Propose write = writes.get(i);
                // The leader stamps the log clock; replicas expire sessions by it, never by their own clock.
                var command = write.command().toBuilder().setTimestampMillis(nowMillis).build();
                int size = command.getSerializedSize();
                if (!replies.isEmpty() && bytes + size > MAX_ENTRY_BYTES) {
                    break;
                }
                batch.addCommands(command);
                replies.add(write.reply());
                bytes += size;
            }
            from = i;
            proposeBatch(node, batch.build(), replies);
        }
    }

    private void proposeBatch(RaftNode node, CommandBatch batch, List<CompletableFuture<KvReply>> replies) {
        long before = node.lastIndex();
        try {
            node.propose(batch.toByteString());
        } catch (RequestDroppedException e) {
            KvReply unavailable = KvReplies.error(Status.UNAVAILABLE, "proposal dropped: " + e.getMessage());
            replies.forEach(r -> r.complete(unavailable));
            return;
        }
        long after = node.lastIndex();
        if (after != before + 1) {
            throw new IllegalStateException(name + ": a proposal moved the last index from " + before + " to " + after
                    + " instead of by one");
        }
        tracker.register(after, node.term(), replies);
    }

    private void read(RaftNode node) {
        List<LoopInput.Read> now = new ArrayList<>();
        List<LoopInput.Read> confirmed = new ArrayList<>();
        List<LoopInput.Read> leased = new ArrayList<>();
        for (LoopInput.Read read : reads) {
            ReadConsistency consistency = read.request().getConsistency();
            if (consistency == ReadConsistency.SERIALIZABLE) {
                now.add(read);
            } else if (consistency == ReadConsistency.LEASE && state.isLeader() && node.leaseValid()
                    && host.leaseUsable() && committedInCurrentTerm(node)) {
                leased.add(read);
            } else {
                confirmed.add(read);
            }
        }
        if (!now.isEmpty()) {
            serveOrHandOn(0, now);
        }
        if (!leased.isEmpty()) {
            leaseReadsServed += leased.size();
            serveOrHandOn(node.commitIndex(), leased);
        }
        if (!confirmed.isEmpty()) {
            // One ReadIndex round (one heartbeat broadcast) confirms every read waiting right now.
            ByteString context = ByteString.copyFromUtf8(name + "-" + (++readCounter));
            try {
                node.readIndex(context);
                pendingReads.put(context, confirmed);
            } catch (RequestDroppedException e) {
                KvReply reply = state.leaderId() == 0
                        ? KvReplies.error(Status.UNAVAILABLE, "no leader to confirm the read; retry")
                        : KvReplies.error(Status.UNAVAILABLE, "read dropped: " + e.getMessage());
                confirmed.forEach(r -> r.reply().complete(reply));
            }
        }
    }

    /**
     * A new leader's commit index may still lag what its predecessor committed until it commits an
     * entry of its own term; only then does its commit index cover every acknowledged write, so
     * only then may it serve lease reads at that index (the Raft thesis, 6.4).
     */
    private boolean committedInCurrentTerm(RaftNode node) {
        long commit = node.commitIndex();
        try {
            return commit > 0 && storage.term(commit) == node.term();
        } catch (RuntimeException e) {
            return false; // Compacted or not yet stored: take the ReadIndex path.
        }
    }

    /**
     * Answers the single-key GETs among {@code reads} right here when the applied index already
     * covers {@code readIndex} (usual for a ReadIndex round, which takes longer than applying);
     * the others, and all of them while apply lags, wait on the apply stage.
     */
    private void serveOrHandOn(long readIndex, List<LoopInput.Read> toServe) {
        if (!pointReads.applied(readIndex)) {
            host.toApply(new ApplyTask.Reads(readIndex, toServe));
            return;
        }
        List<LoopInput.Read> rest = null;
        for (LoopInput.Read read : toServe) {
            if (PointReads.isPointRead(read.request())) {
                read.reply().complete(pointReads.read(read.request()));
            } else {
                if (rest == null) {
                    rest = new ArrayList<>();
                }
                rest.add(read);
            }
        }
        if (rest != null) {
            host.toApply(new ApplyTask.Reads(readIndex, rest));
        }
    }

    /** ReadIndex rounds that a quorum confirmed. */
    void onReadStates(List<ReadState> readStates) {
        for (ReadState readState : readStates) {
            List<LoopInput.Read> confirmed = pendingReads.remove(readState.context());
            if (confirmed != null) {
                serveOrHandOn(readState.index(), confirmed);
            }
        }
    }

    /** Reads waiting for a leadership confirmation will not get one once leadership moved: let the clients retry. */
    void onLeadershipLost() {
        failPendingReads(KvReplies.error(Status.UNAVAILABLE, "leadership changed before the read was confirmed; retry"));
    }

    void failPendingReads(KvReply reply) {
        pendingReads.values().forEach(list -> list.forEach(r -> r.reply().complete(reply)));
        pendingReads.clear();
    }
}
