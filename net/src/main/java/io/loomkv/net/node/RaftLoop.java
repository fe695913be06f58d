package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.SoftState;
import io.loomkv.core.replica.AppliedConfChange;
import io.loomkv.core.replica.CommittedEntries;
import io.loomkv.core.replica.Durability;
import io.loomkv.core.replica.ReplicaDriver;
import io.loomkv.core.replica.ReplicaIo;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.snap.SnapshotReceiver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.SpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the group's {@link RaftNode} (no locks around it). Each turn it hands
 * the {@link ReplicaDriver} the ticks due, the peer messages that arrived and the client inputs
 * (writes batched into one log entry, reads batched into one ReadIndex); the driver handles the
 * Readies in the order Raft requires (see its class comment, which the simulator's seeds test).
 * This class is the driver's I/O (WAL, transport, apply thread), the batching of KV inputs, and
 * the membership bookkeeping (addresses, removed nodes, learner promotion).
 */
final class RaftLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftLoop.class);
    static final int INPUT_QUEUE_CAPACITY = 16_384;
    static final int INBOX_CAPACITY = 8_192;
    static final int APPLY_QUEUE_CAPACITY = 1_024;
    static final int MAX_COMMANDS_PER_ENTRY = 512;
    static final int MAX_ENTRY_BYTES = 1 << 20;
    static final int MAX_INPUTS_PER_TURN = 4_096;
    static final int MAX_MESSAGES_PER_TURN = 4_096;
    /** A learner whose log is this close to the leader's is promoted to voter. */
    static final long PROMOTE_GAP_ENTRIES = 64;
    static final int PROMOTE_CHECK_TICKS = 5;

    private final NodeConfig config;
    private final RaftNode node;
    private final GroupStorage storage;
    private final PeerTransport transport;
    private final Membership membership;
    private final ProposalTracker tracker;
    private final NodeState state;
    private final MpscArrayQueue<LoopInput> inputs = new MpscArrayQueue<>(INPUT_QUEUE_CAPACITY);
    private final MpscArrayQueue<Message> inbox = new MpscArrayQueue<>(INBOX_CAPACITY);
    private final SpscArrayQueue<ApplyTask> applyQueue;
    private final Thread applyThread;
    private final PointReads pointReads;
    private final long tickNanos;
    private final Map<ByteString, List<LoopInput.Read>> pendingReads = new HashMap<>();
    private volatile Thread thread;
    private volatile LoopTicker ticker;
    private final ReplicaDriver driver;
    private volatile boolean running = true;
    private final Map<Long, MemberAddress> removedAddresses = new HashMap<>();
    private final Map<Long, Long> lastNoticeTick = new HashMap<>();
    private ConfState confState;
    private SnapshotReceiver receiver;
    private long readCounter;
    private long lastTimestampMillis;
    private long ticks;
    /** Written only by the loop thread. */
    private volatile long leaseReadsServed;

    RaftLoop(NodeConfig config, RaftNode node, GroupStorage storage, PeerTransport transport, Membership membership,
            ProposalTracker tracker, NodeState state, SpscArrayQueue<ApplyTask> applyQueue, Thread applyThread,
            PointReads pointReads) {
        this.config = config;
        this.node = node;
        this.storage = storage;
        this.transport = transport;
        this.membership = membership;
        this.tracker = tracker;
        this.state = state;
        this.applyQueue = applyQueue;
        this.applyThread = applyThread;
        this.pointReads = pointReads;
        this.tickNanos = TimeUnit.MILLISECONDS.toNanos(config.tickIntervalMillis());
        this.confState = node.status().confState();
        this.driver = new ReplicaDriver(node, new LoopIo());
    }

    void start(Thread loopThread) {
        this.thread = loopThread;
        LoopTicker loopTicker = new LoopTicker(loopThread, tickNanos, System.nanoTime() + tickNanos);
        this.ticker = loopTicker;
        loopThread.start();
        Thread.ofVirtual().name("raft-ticker-" + config.nodeId()).start(loopTicker);
    }

    /** Hands an input to the loop; false when the queue is full (the caller answers "overloaded"). */
    boolean submit(LoopInput input) {
        if (!running || !inputs.offer(input)) {
            return false;
        }
        LockSupport.unpark(thread);
        return true;
    }

    /** A Raft message from a peer; dropped (Raft resends) when the inbox is full. */
    boolean deliver(Message message) {
        if (!running || !inbox.offer(message)) {
            return false;
        }
        LockSupport.unpark(thread);
        return true;
    }

    void stop() {
        running = false;
        LoopTicker loopTicker = ticker;
        if (loopTicker != null) {
            loopTicker.stop();
        }
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void run() {
        long nextTickNanos = System.nanoTime() + tickNanos;
        ticker.nextTickAt(nextTickNanos);
        try {
            while (running) {
                long dueTicks = 0;
                long now = System.nanoTime();
                if (now - nextTickNanos >= 0) {
                    // A burst is bounded: past two election timeouts every timer has expired anyway
                    // (the driver's class comment says why all due ticks go in at once).
                    dueTicks = Math.min((now - nextTickNanos) / tickNanos + 1, 2L * config.electionTimeoutTicks());
                    nextTickNanos += dueTicks * tickNanos;
                    if (now - nextTickNanos >= 0) {
                        nextTickNanos = now + tickNanos;
                    }
                    ticker.nextTickAt(nextTickNanos);
                }
                long ticksToNode = state.removed() ? 0 : dueTicks;
                boolean worked = driver.turn(ticksToNode, this::nextMessage, node -> drainInputs());
                if (ticksToNode > 0) {
                    long before = ticks;
                    ticks += ticksToNode;
                    if (before / PROMOTE_CHECK_TICKS != ticks / PROMOTE_CHECK_TICKS && state.isLeader()) {
                        promoteCaughtUpLearners();
                    }
                }
                if (!worked && dueTicks == 0 && !driver.hasWork()) {
                    // Untimed: the ticker wakes us when a tick is due, inputs and the WAL's
                    // completion of an in-flight persist unpark us too (see LoopTicker for why).
                    LockSupport.park(this);
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("node {}: Raft loop stopped by a failure; the node stops serving", config.nodeId(), e);
            state.fail(e);
        } finally {
            running = false;
            ticker.stop();
            failQueuedInputs();
            closeReceiver();
        }
    }

    /** The next peer message for the node, skipping all of them once this node was removed. */
    private Message nextMessage() {
        Message message;
        while ((message = inbox.poll()) != null) {
            if (state.removed()) {
                continue;
            }
            if (!isMember(message.getFrom())) {
                noticeRemoved(message.getFrom());
            }
            return message;
        }
        return null;
    }

    private boolean drainInputs() {
        List<LoopInput.Propose> writes = new ArrayList<>();
        List<LoopInput.Read> reads = new ArrayList<>();
        int drained = 0;
        LoopInput input;
        while (drained < MAX_INPUTS_PER_TURN && (input = inputs.poll()) != null) {
            drained++;
            switch (input) {
                case LoopInput.Propose p -> writes.add(p);
                case LoopInput.Read r -> reads.add(r);
                case LoopInput.Control c -> runControl(c);
            }
        }
        if (!writes.isEmpty()) {
            propose(writes);
        }
        if (!reads.isEmpty()) {
            read(reads);
        }
        return drained > 0;
    }

    private boolean isMember(long id) {
        return confState.getVotersList().contains(id) || confState.getLearnersList().contains(id)
                || confState.getVotersOutgoingList().contains(id);
    }

    /**
     * A node we removed is still talking to us: it never saw its removal commit, so tell it (at most
     * once per election timeout per node).
     */
    private void noticeRemoved(long id) {
        MemberAddress address = removedAddresses.get(id);
        if (address == null || !state.isLeader()) {
            return;
        }
        Long last = lastNoticeTick.get(id);
        if (last != null && ticks - last < config.electionTimeoutTicks()) {
            return;
        }
        lastNoticeTick.put(id, ticks);
        transport.sendRemovedNotice(id, config.nodeId(), address);
    }

    /** A peer told us we were removed from the cluster. */
    void onRemovedNotice(long from) {
        submit(new LoopInput.Control(n -> {
            if (!isMember(config.nodeId())) {
                return;
            }
            LOG.warn("node {}: node {} says this node was removed from the cluster; it stops serving", config.nodeId(), from);
            state.markRemoved();
        }));
    }

    private void runControl(LoopInput.Control control) {
        try {
            control.action().accept(node);
        } catch (RuntimeException e) {
            LOG.warn("node {}: control action failed: {}", config.nodeId(), e.toString());
        }
    }

    private void propose(List<LoopInput.Propose> writes) {
        // Ask the core, not only the published flag: a message stepped earlier in this turn may have
        // deposed us before the Ready that updates the flag, and a follower's RaftNode forwards a
        // proposal instead of appending it (which the check in proposeBatch would take for a bug).
        if (!state.isLeader() || node.softState().role() != Role.LEADER) {
            KvReply redirect = notLeader();
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
            proposeBatch(batch.build(), replies);
        }
    }

    private void proposeBatch(CommandBatch batch, List<CompletableFuture<KvReply>> replies) {
        long before = node.status().lastIndex();
        try {
            node.propose(batch.toByteString());
        } catch (RequestDroppedException e) {
            KvReply unavailable = KvReplies.error(Status.UNAVAILABLE, "proposal dropped: " + e.getMessage());
            replies.forEach(r -> r.complete(unavailable));
            return;
        }
        var status = node.status();
        if (status.lastIndex() != before + 1) {
            throw new IllegalStateException("node " + config.nodeId() + ": a proposal moved the last index from "
                    + before + " to " + status.lastIndex() + " instead of by one");
        }
        tracker.register(status.lastIndex(), status.term(), replies);
    }

    private void read(List<LoopInput.Read> reads) {
        List<LoopInput.Read> now = new ArrayList<>();
        List<LoopInput.Read> confirmed = new ArrayList<>();
        List<LoopInput.Read> leased = new ArrayList<>();
        for (LoopInput.Read read : reads) {
            ReadConsistency consistency = read.request().getConsistency();
            if (consistency == ReadConsistency.SERIALIZABLE) {
                now.add(read);
            } else if (consistency == ReadConsistency.LEASE && state.isLeader() && node.leaseValid()
                    && committedInCurrentTerm()) {
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
            serveOrHandOn(node.status().commitIndex(), leased);
        }
        if (!confirmed.isEmpty()) {
            // One ReadIndex round (one heartbeat broadcast) confirms every read waiting right now.
            ByteString context = ByteString.copyFromUtf8(config.nodeId() + "-" + (++readCounter));
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
     * Answers the single-key GETs among {@code reads} right here when the applied index already
     * covers {@code readIndex} (usual for a ReadIndex round, which takes longer than applying);
     * the others, and all of them while apply lags, wait on the apply thread.
     */
    private void serveOrHandOn(long readIndex, List<LoopInput.Read> reads) {
        if (!pointReads.applied(readIndex)) {
            toApply(new ApplyTask.Reads(readIndex, reads));
            return;
        }
        List<LoopInput.Read> rest = null;
        for (LoopInput.Read read : reads) {
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
            toApply(new ApplyTask.Reads(readIndex, rest));
        }
    }

    /**
     * A new leader's commit index may still lag what its predecessor committed until it commits an
     * entry of its own term; only then does its commit index cover every acknowledged write, so
     * only then may it serve lease reads at that index (the Raft thesis, 6.4).
     */
    private boolean committedInCurrentTerm() {
        var status = node.status();
        try {
            return status.commitIndex() > 0 && storage.term(status.commitIndex()) == status.term();
        } catch (RuntimeException e) {
            return false; // Compacted or not yet stored: take the ReadIndex path.
        }
    }

    private void onReadStates(List<ReadState> readStates) {
        for (ReadState readState : readStates) {
            List<LoopInput.Read> reads = pendingReads.remove(readState.context());
            if (reads != null) {
                serveOrHandOn(readState.index(), reads);
            }
        }
    }

    private void onSoftState(long leaderId, Role role) {
        Role previous = state.role();
        state.setLeadership(leaderId, role);
        LOG.info("node {}: role {} (leader {}), term {}", config.nodeId(), role, leaderId, node.status().term());
        if (previous == Role.LEADER && role != Role.LEADER || leaderId == 0) {
            // Reads waiting for a leadership confirmation will not get one: let the clients retry.
            KvReply retry = KvReplies.error(Status.UNAVAILABLE, "leadership changed before the read was confirmed; retry");
            pendingReads.values().forEach(list -> list.forEach(r -> r.reply().complete(retry)));
            pendingReads.clear();
        }
    }

    private void stage(SnapshotChunk chunk) throws IOException {
        if (chunk.offsetBytes() == 0) {
            closeReceiver();
            receiver = storage.receiveSnapshot(chunk.metadata());
        }
        if (receiver == null) {
            throw new IllegalStateException("node " + config.nodeId() + ": snapshot chunk at offset "
                    + chunk.offsetBytes() + " without a transfer started at offset 0");
        }
        receiver.append(chunk.offsetBytes(), chunk.data());
    }

    private void install(SnapshotMetadata metadata) throws IOException {
        if (receiver == null) {
            throw new IllegalStateException("node " + config.nodeId() + ": snapshot " + metadata.getIndex()
                    + " to install but no chunks were staged");
        }
        SnapshotMetadata finished = receiver.finish();
        receiver = null;
        if (finished.getIndex() != metadata.getIndex() || finished.getTerm() != metadata.getTerm()) {
            throw new IllegalStateException("node " + config.nodeId() + ": staged snapshot " + finished.getIndex()
                    + "/" + finished.getTerm() + " is not the one to install " + metadata.getIndex() + "/" + metadata.getTerm());
        }
        storage.installSnapshot(finished);
        LOG.info("node {}: installed snapshot at index {} term {} from the leader", config.nodeId(),
                finished.getIndex(), finished.getTerm());
        toApply(new ApplyTask.Restore(finished));
        confState = finished.getConfState();
    }

    /** Membership bookkeeping for the conf changes the driver applied to the node; returns the membership after each. */
    private Map<Long, ConfState> onConfChanges(List<AppliedConfChange> changes) {
        Map<Long, ConfState> confStates = new HashMap<>();
        for (AppliedConfChange applied : changes) {
            if (applied.refused()) {
                LOG.warn("node {}: conf change at {} refused: {}", config.nodeId(), applied.index(), applied.refusal());
                continue;
            }
            ConfState after = applied.after();
            confStates.put(applied.index(), after);
            confState = after;
            recordAddresses(applied.change(), after);
            LOG.info("node {}: membership now voters={} learners={} (entry {})", config.nodeId(),
                    after.getVotersList(), after.getLearnersList(), applied.index());
        }
        return confStates;
    }

    /** The driver's I/O: the WAL, the peer transport, the apply thread, all on the loop thread. */
    private final class LoopIo implements ReplicaIo {
        @Override
        public boolean send(Message message) {
            return transport.send(message);
        }

        @Override
        public Durability persist(HardState hardState, List<Entry> entries, boolean mustSync) {
            CompletableFuture<Long> durable = storage.append(hardState, entries);
            if (!durable.isDone()) {
                Thread loopThread = thread;
                durable.whenComplete((index, failure) -> LockSupport.unpark(loopThread));
            }
            return () -> {
                if (!durable.isDone()) {
                    return false;
                }
                if (durable.isCompletedExceptionally()) {
                    throw new IllegalStateException("WAL write failed; the node must stop", durable.exceptionNow());
                }
                return true;
            };
        }

        @Override
        public void stageSnapshotChunk(SnapshotChunk chunk) {
            try {
                stage(chunk);
            } catch (IOException e) {
                throw new UncheckedIOException("staging a snapshot chunk at offset " + chunk.offsetBytes(), e);
            }
        }

        @Override
        public void installSnapshot(SnapshotMetadata metadata) {
            try {
                install(metadata);
            } catch (IOException e) {
                throw new UncheckedIOException("installing snapshot " + metadata.getIndex(), e);
            }
        }

        @Override
        public void apply(CommittedEntries committed) {
            toApply(new ApplyTask.Committed(committed.entries(), onConfChanges(committed.confChanges())));
        }

        @Override
        public void readsConfirmed(List<ReadState> readStates) {
            onReadStates(readStates);
        }

        @Override
        public void softStateChanged(SoftState softState) {
            onSoftState(softState.leaderId(), softState.role());
        }

        @Override
        public void messageRejected(Message message, IllegalArgumentException reason) {
            LOG.warn("node {}: dropped a bad {} from {}: {}", config.nodeId(), message.getType(), message.getFrom(),
                    reason.getMessage());
        }
    }

    private void recordAddresses(ConfChange change, ConfState after) {
        for (ConfChangeSingle single : change.getChangesList()) {
            long id = single.getNodeId();
            if (single.getType() == ConfChangeType.CONF_CHANGE_REMOVE_NODE) {
                if (!after.getVotersList().contains(id) && !after.getLearnersList().contains(id)
                        && !after.getVotersOutgoingList().contains(id)) {
                    if (id == config.nodeId()) {
                        LOG.warn("node {}: removed from the cluster; it stops serving", id);
                        state.markRemoved();
                    } else {
                        MemberAddress address = membership.get(id);
                        if (address != null) {
                            removedAddresses.put(id, address);
                            if (state.isLeader()) {
                                transport.sendRemovedNotice(id, config.nodeId(), address);
                            }
                        }
                        membership.remove(id);
                    }
                }
            } else if (!change.getContext().isEmpty()) {
                try {
                    membership.put(MemberAddress.parseAddresses(id, change.getContext().toString(StandardCharsets.UTF_8)));
                } catch (IllegalArgumentException e) {
                    LOG.warn("node {}: conf change for {} carries bad addresses: {}", config.nodeId(), id, e.getMessage());
                }
            }
        }
    }

    private void promoteCaughtUpLearners() {
        var status = node.status();
        if (status.confState().getVotersOutgoingCount() > 0 || status.confState().getLearnersCount() == 0) {
            return;
        }
        for (long learner : status.confState().getLearnersList()) {
            var progress = status.progress().get(learner);
            if (progress == null || progress.state() != io.loomkv.core.raft.tracker.ProgressState.REPLICATE
                    || progress.match() == 0 || progress.match() + PROMOTE_GAP_ENTRIES < status.lastIndex()) {
                continue;
            }
            MemberAddress address = membership.get(learner);
            ConfChange.Builder change = ConfChange.newBuilder().addChanges(ConfChangeSingle.newBuilder()
                    .setType(ConfChangeType.CONF_CHANGE_ADD_NODE).setNodeId(learner));
            if (address != null) {
                change.setContext(ByteString.copyFrom(address.toContext()));
            }
            try {
                node.proposeConfChange(change.build());
                LOG.info("node {}: learner {} caught up (match {} of {}); proposing it as a voter", config.nodeId(),
                        learner, progress.match(), status.lastIndex());
            } catch (RequestDroppedException e) {
                LOG.debug("node {}: promotion of {} not proposed now: {}", config.nodeId(), learner, e.getMessage());
            }
            return; // One change at a time.
        }
    }

    long leaseReadsServed() {
        return leaseReadsServed;
    }

    KvReply notLeader() {
        long leader = state.leaderId();
        MemberAddress address = leader == 0 ? null : membership.get(leader);
        return KvReplies.notLeader(leader, address == null ? "" : MemberAddress.format(address.clientAddress()));
    }

    private void toApply(ApplyTask task) {
        while (!applyQueue.offer(task)) {
            // Back-pressure: the apply thread is behind; wait for room rather than grow without bound.
            LockSupport.unpark(applyThread);
            LockSupport.parkNanos(50_000);
            if (!running) {
                throw new IllegalStateException("node " + config.nodeId() + " stopping with the apply queue full");
            }
        }
        LockSupport.unpark(applyThread);
    }

    private void failQueuedInputs() {
        KvReply stopping = KvReplies.error(Status.UNAVAILABLE, "node is stopping");
        LoopInput input;
        while ((input = inputs.poll()) != null) {
            switch (input) {
                case LoopInput.Propose p -> p.reply().complete(stopping);
                case LoopInput.Read r -> r.reply().complete(stopping);
                case LoopInput.Control c -> { }
            }
        }
        pendingReads.values().forEach(list -> list.forEach(r -> r.reply().complete(stopping)));
        pendingReads.clear();
    }

    private void closeReceiver() {
        if (receiver != null) {
            try {
                receiver.close();
            } catch (IOException e) {
                LOG.debug("closing a snapshot receiver", e);
            }
            receiver = null;
        }
    }
}
