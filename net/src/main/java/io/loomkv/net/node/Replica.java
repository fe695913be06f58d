package io.loomkv.net.node;

import io.loomkv.core.engine.KvEngine;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.SoftState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.replica.CommittedEntries;
import io.loomkv.core.replica.Durability;
import io.loomkv.core.replica.LeaderMessages;
import io.loomkv.core.replica.RemovalNotices;
import io.loomkv.core.replica.ReplicaDriver;
import io.loomkv.core.replica.ReplicaIo;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.rpc.DeferredUnparks;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.snap.SnapshotReceiver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscChunkedArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This store's replica of one Raft group: the pure {@link RaftNode} with its {@link ReplicaDriver},
 * the group's durable log view, its state machine (on the apply stage) and its pending requests.
 * It owns no thread: a {@link RaftWorker} runs a turn whenever it has work (messages, requests,
 * ticks, a persist that became durable), one turn at a time; see {@link #runTurn}.
 *
 * <p>This class is the driver's I/O (the shared WAL, the store transport, the apply stage) and
 * the turn's bookkeeping; the batching of requests is {@link KvBatcher}'s, the membership policy
 * {@link GroupMembership}'s, going quiet {@link Quiescence}'s. Over 600 lines: the driver's
 * I/O callbacks (an inner class) need the turn's private state; they are the part to move out next.
 */
final class Replica {
    private static final Logger LOG = LoggerFactory.getLogger(Replica.class);
    static final int INPUT_QUEUE_CAPACITY = 16_384;
    static final int INBOX_CAPACITY = 8_192;
    /** Largest snapshot read back on restart or from the leader. */
    static final long MAX_SNAPSHOT_BYTES = 64L << 30;

    private record PendingQuiesce(long from, long term, long lastIndex) {
    }

    private final long groupId;
    private final String name;
    private final StoreContext store;
    private final GroupStorage storage;
    private final RaftNode node;
    private final ReplicaDriver driver;
    private final ReplicaState state = new ReplicaState();
    private final ProposalTracker tracker;
    /** The state machine's engine, whose sizes the store's gauges read at scrape time. */
    private final KvEngine engine;
    private final MpscChunkedArrayQueue<LoopInput> inputs = new MpscChunkedArrayQueue<>(16, INPUT_QUEUE_CAPACITY);
    private final MpscChunkedArrayQueue<Message> inbox = new MpscChunkedArrayQueue<>(16, INBOX_CAPACITY);
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Messages that wake the replica ({@link #wakes}), delivered and taken from the inbox: they differ while one waits. */
    private final AtomicLong wakingDelivered = new AtomicLong();
    /** Turns only. */
    private long wakingTaken;
    /** Ticks to hand over beyond what the clock says: a quiet follower woken because its leader's store died. */
    private final AtomicLong extraTicks = new AtomicLong();
    private final long tickNanos;
    /** When the next tick is due; turns only. */
    private long nextTickNanos;
    private final AtomicReference<PendingQuiesce> quiesceNotice = new AtomicReference<>();
    /** Set when a request or control action woke the replica from quiet; the turn then wakes the leader. */
    private volatile boolean wokeLocally;
    private final ReplicaApplier applier;
    private final PointReads pointReads;
    private final KvBatcher batcher;
    private final GroupMembership membership;
    private final Quiescence quiescence;
    private SnapshotReceiver receiver;
    private volatile boolean running = true;
    /** Ticks delivered while this replica led without interruption (0 when not leading). */
    private long leaderTicks;

    /** The term {@link #termLabel} holds, and the label; turns only (handed between workers like the turn itself). */
    private long labelledTerm = -1;
    private String termLabel = "";

    /** For status views only (published values); the applier owns the machine. */
    private final KvStateMachine machine;

    private Replica(long groupId, StoreContext store, GroupStorage storage, KvStateMachine stateMachine,
            KvEngine engine, boolean createdForLeader) {
        this.groupId = groupId;
        this.engine = engine;
        this.tracker = new ProposalTracker(store.metrics().proposalsFailed());
        this.name = "store " + store.storeId() + " group " + groupId;
        this.store = store;
        this.storage = storage;
        NodeConfig config = store.config();
        // Raft hands over the committed log from the snapshot on, even where a persistent engine has
        // applied further: the driver must re-apply the membership changes in it (the applier skips
        // the entries the state machine already has).
        this.node = new RaftNode(raftConfig(config, groupId, storage.snapshotMetadata().getIndex(), createdForLeader), storage);
        this.tickNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(config.tickIntervalMillis());
        this.nextTickNanos = System.nanoTime() + tickNanos;
        this.membership = new GroupMembership(name, store.storeId(), groupId, store.addresses(), store.transport(), state,
                config.electionTimeoutTicks(), node.status().confState(), node.lastIndex());
        this.applier = new ReplicaApplier(store.storeId(), groupId, stateMachine, storage, tracker, state,
                store.applyStage(), membership.confState(), config.snapshotThresholdEntries(),
                store.snapshotThresholdBytes(), MAX_SNAPSHOT_BYTES,
                (index, keepEntries) -> submit(new LoopInput.Control(n -> storage.compact(index - keepEntries))),
                store.metrics());
        // A follower that needs a snapshot the log's checkpoint cannot give makes the applier write a file.
        storage.onSnapshotFileWanted(applier::requestSnapshotFile);
        this.pointReads = new PointReads(name, stateMachine, state);
        this.machine = stateMachine;
        this.quiescence = new Quiescence(2L * config.electionTimeoutTicks(), config.electionTimeoutTicks());
        this.batcher = new KvBatcher("s" + store.storeId() + "-g" + groupId, state, tracker, pointReads, storage,
                new KvBatcher.Host() {
                    @Override
                    public void toApply(ApplyTask task) {
                        Replica.this.toApply(task);
                    }

                    @Override
                    public KvReply notLeader() {
                        return Replica.this.notLeader();
                    }

                    @Override
                    public boolean leaseUsable() {
                        return quiescence.leaseUsable();
                    }
                });
        this.driver = new ReplicaDriver(node, new Io());
    }

    /**
     * Recovers (or creates) this store's replica of {@code groupId} from {@code storage} and its
     * engine ({@link GroupEngines#open}), then the log after what that restored.
     */
    static Replica open(long groupId, StoreContext store, GroupStorage storage, SlotSet ownedSlots) throws IOException {
        return open(groupId, store, storage, ownedSlots, false);
    }

    /**
     * As {@link #open(long, StoreContext, GroupStorage, SlotSet)}; {@code createdForLeader} when the
     * storage was created empty just now for a leader's message ({@link RaftConfig#createdForLeader()}).
     */
    static Replica open(long groupId, StoreContext store, GroupStorage storage, SlotSet ownedSlots, boolean createdForLeader)
            throws IOException {
        KvStateMachine stateMachine = store.engines().open(groupId, store.limits(), ownedSlots, storage, MAX_SNAPSHOT_BYTES);
        return new Replica(groupId, store, storage, stateMachine, stateMachine.engine(), createdForLeader);
    }

    private static RaftConfig raftConfig(NodeConfig config, long groupId, long appliedIndex, boolean createdForLeader) {
        RaftConfig.Builder builder = RaftConfig.builder(config.nodeId())
                .electionTimeoutTicks(config.electionTimeoutTicks())
                .heartbeatTicks(config.heartbeatTicks())
                // The core's only randomness; seeding it per run (and per group) is the runtime's business.
                .randomSeed(System.nanoTime() ^ (config.nodeId() * 0x9E3779B97F4A7C15L) ^ (groupId * 0xC2B2AE3D27D4EB4FL))
                .preVote(true)
                .checkQuorum(true)
                .appliedIndex(appliedIndex)
                .createdForLeader(createdForLeader);
        if (config.leaseReads()) {
            // Shorter than the election timeout, so a new leader cannot be elected while the old lease holds.
            builder.leaseReads(Math.max(1, config.electionTimeoutTicks() * 8 / 10));
        }
        return builder.build();
    }

    long groupId() {
        return groupId;
    }

    String name() {
        return name;
    }

    ReplicaState state() {
        return state;
    }

    PointReads pointReads() {
        return pointReads;
    }

    long lastSnapshotIndex() {
        return applier.lastSnapshotIndex();
    }

    long leaseReadsServed() {
        return batcher.leaseReadsServed();
    }

    boolean isQuiet() {
        return quiescence.isQuiet();
    }

    /** The configuration number the group's state machine has applied and how many slots it moves; any thread. */
    long configNumber() {
        return machine.configNumber();
    }

    int movingSlots() {
        return machine.movingSlotCount();
    }

    /** See {@link KvStateMachine#straySlots}: slots whose keys this replica holds but does not serve. */
    List<Integer> straySlots(int max) {
        return machine.straySlots(max);
    }

    /**
     * Whether this replica leads a data group and serves (not removed, not failed): the groups a
     * store's drivers act for. From published state, so asking wakes nothing.
     */
    boolean leadsDataGroup() {
        return groupId != io.loomkv.core.shard.GroupIds.CONTROLLER_GROUP_ID && state().isLeader() && !state().removed()
                && state().unavailableReason() == null;
    }

    /** The client sessions the group keeps; read off the apply thread, so approximate while it applies. */
    int sessionCount() {
        return machine.sessionCount();
    }

    /** Whether the group may hold key deadlines (active expiry skips groups that hold none); any thread. */
    boolean mayHoldDeadlines() {
        return machine.deadlinesMayExist();
    }

    /** Group 0: the newest configuration its machine has applied, or null; any thread, wakes nothing. */
    io.loomkv.core.shard.SlotLayout latestControllerConfig() {
        return machine.latestConfig();
    }

    /** The state machine's engine, for its sizes ({@link EngineSizeProbe}). */
    KvEngine engine() {
        return engine;
    }

    /** Requests proposed here waiting for their entry to apply; any thread (walks a map: for scrapes, not hot paths). */
    int pendingProposals() {
        return tracker.size();
    }

    /** The group's membership as this replica last applied it; any thread. */
    io.loomkv.core.raft.proto.ConfState confState() {
        return membership.confState();
    }

    /** Learners a replica move is bringing in: the leader's automatic promotion leaves them to the move's joint change. Turns only. */
    void holdPromotion(java.util.Set<Long> learners) {
        membership.holdPromotion(learners);
    }

    /** The group's voters as this replica last applied them; any thread. */
    List<Long> voters() {
        return membership.confState().getVotersList();
    }

    GroupStorage storage() {
        return storage;
    }

    ReplicaApplier applier() {
        return applier;
    }

    // ---- from other threads ----

    /** Hands an input to the replica; false when its queue is full or it stopped (the caller answers "overloaded"). */
    boolean submit(LoopInput input) {
        if (!running || !inputs.offer(input)) {
            return false;
        }
        if (wakeFromQuiet()) {
            wokeLocally = true;
        }
        store.scheduler().schedule(this);
        return true;
    }

    /**
     * A Raft message from a peer store; dropped (Raft resends) when the inbox is full. Any message
     * wakes a quiet replica except a heartbeat response: a leader goes quiet in the turn whose tick
     * sent its last heartbeats, so their responses arrive after it and would wake it within a tick,
     * every time (with heartbeat-ticks=1 no group ever stayed quiet). The turn still steps the
     * response into the node, which answers a follower that turns out to be behind with an append,
     * and the append's response wakes the leader.
     */
    boolean deliver(Message message) {
        if (!running || !inbox.offer(message)) {
            return false;
        }
        if (wakes(message)) {
            wakingDelivered.incrementAndGet();
            wakeFromQuiet();
        }
        store.scheduler().schedule(this);
        return true;
    }

    /**
     * There is work: a quiet replica wakes and the store's ticker ticks it again from the next tick
     * on. Returns whether it was quiet.
     */
    private boolean wakeFromQuiet() {
        if (!quiescence.wake()) {
            return false;
        }
        store.ticker().replicaWoke();
        return true;
    }

    /** Its leader's store says a follower of the group woke on its own (see {@link #wakeLeaderIfWokenLocally}). */
    void deliverWake() {
        if (running && wakeFromQuiet()) {
            store.scheduler().schedule(this);
        }
    }

    /**
     * On the turn: a follower that woke for a request or a control action on this store, not for a
     * message, tells its leader. Its leader may still be quiet; a follower that ticks without
     * hearing from it calls an election after its timeout, and another follower woken the same way
     * grants the pre-vote (`ctl status` of a 1,000-group cluster set off hundreds of elections).
     */
    private void wakeLeaderIfWokenLocally() {
        if (!wokeLocally) {
            return;
        }
        wokeLocally = false;
        long leader = state.leaderId();
        if (!state.isLeader() && leader != 0 && leader != store.storeId() && !state.removed()) {
            store.transport().sendWake(groupId, leader);
        }
    }

    private static boolean wakes(Message message) {
        return message.getType() != MessageType.MSG_HEARTBEAT_RESP;
    }

    /** The leader says the group is quiet; checked on the next turn against our own log. */
    void deliverQuiesce(long from, long term, long lastIndex) {
        if (running) {
            quiesceNotice.set(new PendingQuiesce(from, term, lastIndex));
            store.scheduler().schedule(this);
        }
    }

    /** The store ticker: a tick may be due (only for replicas that are not quiet); the turn reads the clock. */
    void tickDue() {
        store.scheduler().schedule(this);
    }

    /**
     * Store liveness: {@code storeId} was not heard from for {@code silentTicks}. A quiet follower
     * whose leader is there wakes, with the time that passed since as ticks, so that it elects a
     * new leader as soon as a follower of a busy group would.
     */
    void onStoreDown(long storeId, long silentTicks) {
        if (quiescence.isQuiet() && state.leaderId() == storeId && !state.isLeader()) {
            wakeFromQuiet();
            LOG.info("{}: the leader's store {} is silent; waking up to elect a new leader", name, storeId);
            extraTicks.addAndGet(Math.min(silentTicks, store.config().electionTimeoutTicks() - 1L));
            store.scheduler().schedule(this);
        }
    }

    /** Store liveness: {@code storeId} is back; a quiet leader wakes to catch its replica up. */
    void onStoreUp(long storeId) {
        if (quiescence.isQuiet() && state.isLeader() && membership.isMember(storeId)) {
            wakeFromQuiet();
            store.scheduler().schedule(this);
        }
    }

    boolean markScheduled() {
        return scheduled.compareAndSet(false, true);
    }

    void clearScheduled() {
        scheduled.set(false);
    }

    // ---- the turn (one RaftWorker at a time) ----

    /** One turn: ticks due, messages, requests, Readies; then maybe go quiet; asks for another turn if work is left. */
    void runTurn() {
        if (!running) {
            return;
        }
        LogContext.term(termLabel(node.term()));
        try {
            long due = Math.min(dueTicks() + extraTicks.getAndSet(0), 2L * store.config().electionTimeoutTicks());
            long ticks = state.removed() ? 0 : due;
            wakeLeaderIfWokenLocally();
            driver.turn(ticks, this::nextMessage, n -> batcher.drain(inputs, n, this::runControl));
            if (ticks > 0) {
                quiescence.onTicks(ticks);
                membership.onTicks(ticks, node);
                leaderTicks = state.isLeader() ? leaderTicks + ticks : 0;
                maybeQuiesce(ticks);
            }
            checkQuiesceNotice();
            if (!inbox.isEmpty() || !inputs.isEmpty() || driver.hasWork()) {
                store.scheduler().schedule(this);
            }
        } catch (RuntimeException | Error e) {
            LOG.error("{}: stopped by a failure; the replica stops serving", name, e);
            state.fail(e);
            stop();
        }
    }

    /**
     * The ticks due by the clock, read at the start of the turn: time that passed while the replica
     * did not run (a GC pause, SIGSTOP of the process) reaches the core before any message or
     * request of this turn (see {@link ReplicaDriver}); had the ticker counted them, a request
     * could win the race against it after a pause, and a leader frozen past its lease would serve
     * a stale LEASE read (./loomkv chaos found exactly that). A quiet replica gets none, and one
     * just woken starts counting afresh: time spent quiet is not time without a leader.
     */
    private long dueTicks() {
        long now = System.nanoTime();
        if (quiescence.takeWake()) {
            nextTickNanos = now + tickNanos;
            return 0;
        }
        if (quiescence.isQuiet() || now - nextTickNanos < 0) {
            return 0;
        }
        long due = Math.min((now - nextTickNanos) / tickNanos + 1, 2L * store.config().electionTimeoutTicks());
        nextTickNanos += due * tickNanos;
        if (now - nextTickNanos >= 0) {
            nextTickNanos = now + tickNanos; // Far behind (a long pause): start afresh.
        }
        return due;
    }

    /** The next peer message for the node, skipping all of them once this store was removed from the group. */
    private Message nextMessage() {
        Message message;
        while ((message = inbox.poll()) != null) {
            if (wakes(message)) {
                wakingTaken++;
            }
            if (state.removed()) {
                continue;
            }
            if (LeaderMessages.isLeaderMessage(message.getType())) {
                membership.heardFromLeader();
            }
            membership.noticeRemoved(message.getFrom(), this::appliedPoint);
            return message;
        }
        return null;
    }

    /**
     * The last entry handed to the applier, as a removed notice names it for a store the
     * membership does not list (see {@link RemovalNotices#noticeDue}); null if there is none.
     */
    private RemovalNotices.Removal appliedPoint() {
        long applied = node.status().appliedIndex();
        try {
            long term = applied > 0 ? storage.term(applied) : 0;
            return term > 0 ? new RemovalNotices.Removal(applied, term, false) : null;
        } catch (RuntimeException e) {
            return null; // Compacted or not yet in the log: say nothing this time.
        }
    }

    private void runControl(LoopInput.Control control) {
        try {
            control.action().accept(node);
        } catch (RuntimeException e) {
            LOG.warn("{}: control action failed: {}", name, e.toString());
        }
    }

    private void maybeQuiesce(long ticks) {
        if (!state.isLeader() || quiescence.isQuiet()) {
            return;
        }
        boolean busy = !inputs.isEmpty() || driver.persistInFlight() || batcher.pendingReadRounds() > 0 || tracker.size() > 0;
        long now = System.nanoTime();
        var status = node.status();
        if (!quiescence.leaderShouldQuiesce(status, state.appliedIndex(), ticks, busy, id -> store.liveness().isLive(id, now))) {
            return;
        }
        for (long voter : status.confState().getVotersList()) {
            if (voter != store.storeId() && store.liveness().isLive(voter, now)) {
                store.transport().sendQuiesce(groupId, voter, status.term(), status.lastIndex());
            }
        }
        goQuiet();
        LOG.debug("{}: quiet at index {} term {}", name, status.lastIndex(), status.term());
    }

    private void checkQuiesceNotice() {
        PendingQuiesce notice = quiesceNotice.getAndSet(null);
        if (notice == null || quiescence.isQuiet() || driver.persistInFlight()) {
            return;
        }
        if (Quiescence.followerMayQuiesce(node.status(), notice.from(), notice.term(), notice.lastIndex())) {
            goQuiet();
        }
    }

    private void goQuiet() {
        quiescence.goQuiet();
        // A message or request queued meanwhile found the replica awake and did not wake it: do it now.
        if (wakingDelivered.get() != wakingTaken || !inputs.isEmpty()) {
            if (wakeFromQuiet() && !inputs.isEmpty()) {
                wokeLocally = true;
            }
        }
    }

    private void toApply(ApplyTask task) {
        while (!applier.offer(task)) {
            // Back-pressure: the apply stage is behind on this group; wait for room rather than grow without bound.
            DeferredUnparks.releaseCurrent(); // The apply thread may not have been woken yet.
            LockSupport.parkNanos(50_000);
            if (!running) {
                throw new IllegalStateException(name + " stopping with the apply queue full");
            }
        }
    }

    KvReply notLeader() {
        return membership.notLeader();
    }

    /**
     * Hands leadership to {@code target} (the group's preferred store) if this replica has led for
     * two election timeouts and the target's replica has the whole log; decided on the turn.
     * Returns whether the request was queued.
     */
    boolean handOverLeadership(long target) {
        long electionTicks = store.config().electionTimeoutTicks();
        return submit(new LoopInput.Control(n -> {
            if (!state.isLeader() || leaderTicks < 2 * electionTicks) {
                return;
            }
            var status = n.status();
            if (status.leadTransferee() != 0 || !status.confState().getVotersList().contains(target)) {
                return;
            }
            var progress = status.progress().get(target);
            if (progress == null || progress.match() != status.lastIndex()) {
                return;
            }
            LOG.info("{}: handing leadership to store {} to even out the leaders", name, target);
            n.transferLeader(target);
        }));
    }

    /**
     * At start, the group's preferred store campaigns at once instead of waiting for an election
     * timeout: after a start of the whole cluster each store then leads about its share of the
     * groups without transfers. Where a leader is already known (only this store restarted) the
     * others refuse the pre-vote, and the balancer moves leadership back later.
     */
    void campaignIfLeaderless() {
        submit(new LoopInput.Control(n -> {
            if (state.leaderId() == 0 && !state.removed() && membership.isMember(store.storeId())) {
                n.campaign();
            }
        }));
    }

    /** On the replica's turn: see {@link GroupMembership#retireIfAbandoned}. */
    void retireIfAbandoned() {
        membership.retireIfAbandoned();
    }

    /** Store {@code from} asks whether this group removed it: answered as if its Raft message had arrived. */
    void onRemovalQuery(long from) {
        submit(new LoopInput.Control(n -> {
            if (!state.removed()) {
                membership.noticeRemoved(from, this::appliedPoint);
            }
        }));
    }

    void onRemovedNotice(long from, RemovalNotices.Removal removal) {
        submit(new LoopInput.Control(n -> membership.onRemovedNotice(from, removal, n.status().appliedIndex(), storage)));
    }

    /** Stops taking work and answers everything still queued or waiting. Call from the replica's turn or after the workers stopped. */
    void stop() {
        running = false;
        KvReply stopping = KvReplies.error(Status.UNAVAILABLE, "replica " + name + " is stopping");
        LoopInput input;
        while ((input = inputs.poll()) != null) {
            switch (input) {
                case LoopInput.Propose p -> p.reply().complete(stopping);
                case LoopInput.Read r -> r.reply().complete(stopping);
                case LoopInput.Control c -> { }
            }
        }
        batcher.failPendingReads(stopping);
    }

    /**
     * Retires a replica the store drops while running (removed from its group): stops its turns,
     * waits until its state machine applies and snapshots nothing more, then fails what waits. The
     * engine and storage may be closed and deleted afterwards.
     */
    void retire() throws InterruptedException {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        if (submit(new LoopInput.Control(n -> {
            stop();
            stopped.complete(null);
        }))) {
            try {
                stopped.get(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("{}: did not stop on its turn within 5 s; retiring it anyway", name);
            }
        }
        running = false;
        applier.retire();
        close();
    }

    /** After the store's workers stopped: fails what still waits and releases the snapshot receiver. */
    void close() {
        stop();
        tracker.failAll(name + " is shutting down");
        applier.close();
        closeReceiver();
    }

    // ---- snapshots from the leader ----

    private void stage(SnapshotChunk chunk) throws IOException {
        if (chunk.offsetBytes() == 0) {
            closeReceiver();
            receiver = storage.receiveSnapshot(chunk.metadata());
        }
        if (receiver == null) {
            throw new IllegalStateException(name + ": snapshot chunk at offset " + chunk.offsetBytes()
                    + " without a transfer started at offset 0");
        }
        receiver.append(chunk.offsetBytes(), chunk.data());
    }

    private void install(SnapshotMetadata metadata) throws IOException {
        if (receiver == null) {
            throw new IllegalStateException(name + ": snapshot " + metadata.getIndex() + " to install but no chunks were staged");
        }
        SnapshotMetadata finished = receiver.finish();
        receiver = null;
        if (finished.getIndex() != metadata.getIndex() || finished.getTerm() != metadata.getTerm()) {
            throw new IllegalStateException(name + ": staged snapshot " + finished.getIndex() + "/" + finished.getTerm()
                    + " is not the one to install " + metadata.getIndex() + "/" + metadata.getTerm());
        }
        storage.installSnapshot(finished);
        LOG.info("{}: installed snapshot at index {} term {} from the leader", name, finished.getIndex(), finished.getTerm());
        toApply(new ApplyTask.Restore(finished));
        membership.onSnapshot(finished.getConfState());
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

    /** The term as an MDC label, made once per term (turns only). */
    private String termLabel(long term) {
        if (term != labelledTerm) {
            labelledTerm = term;
            termLabel = Long.toString(term);
        }
        return termLabel;
    }

    private void onSoftState(SoftState soft) {
        Role previous = state.role();
        state.setLeadership(soft.leaderId(), soft.role());
        LogContext.term(termLabel(node.term()));
        LOG.info("{}: role {} (leader {}), term {}", name, soft.role(), soft.leaderId(), node.term());
        if (previous == Role.LEADER && soft.role() != Role.LEADER || soft.leaderId() == 0) {
            batcher.onLeadershipLost();
        }
    }

    /** The driver's I/O: the shared WAL, the store transport, the apply stage; all on this replica's turn. */
    private final class Io implements ReplicaIo {
        @Override
        public boolean send(Message message) {
            return store.transport().send(groupId, message);
        }

        @Override
        public Durability persist(HardState hardState, List<Entry> entries, boolean mustSync) {
            CompletableFuture<Long> durable = storage.append(hardState, entries, mustSync);
            if (!durable.isDone()) {
                durable.whenComplete((index, failure) -> store.scheduler().schedule(Replica.this));
            }
            return () -> {
                if (!durable.isDone()) {
                    return false;
                }
                if (durable.isCompletedExceptionally()) {
                    throw new IllegalStateException(name + ": WAL write failed; the replica must stop", durable.exceptionNow());
                }
                return true;
            };
        }

        @Override
        public void stageSnapshotChunk(SnapshotChunk chunk) {
            try {
                stage(chunk);
            } catch (IOException e) {
                throw new UncheckedIOException(name + ": staging a snapshot chunk at offset " + chunk.offsetBytes(), e);
            }
        }

        @Override
        public void installSnapshot(SnapshotMetadata metadata) {
            try {
                install(metadata);
            } catch (IOException e) {
                throw new UncheckedIOException(name + ": installing snapshot " + metadata.getIndex(), e);
            }
        }

        @Override
        public void apply(CommittedEntries committed) {
            store.metrics().proposalsCommitted().inc(committed.entries().size());
            toApply(new ApplyTask.Committed(committed.entries(), membership.onConfChanges(committed.confChanges(),
                    storage)));
        }

        @Override
        public void readsConfirmed(List<ReadState> readStates) {
            batcher.onReadStates(readStates);
        }

        @Override
        public void softStateChanged(SoftState softState) {
            onSoftState(softState);
        }

        @Override
        public void messageRejected(Message message, IllegalArgumentException reason) {
            LOG.warn("{}: dropped a bad {} from {}: {}", name, message.getType(), message.getFrom(), reason.getMessage());
        }
    }
}
