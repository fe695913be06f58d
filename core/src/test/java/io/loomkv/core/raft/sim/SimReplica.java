package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.SoftState;
import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.replica.AppliedConfChange;
import io.loomkv.core.replica.CommittedEntries;
import io.loomkv.core.replica.Durability;
import io.loomkv.core.replica.LeaderMessages;
import io.loomkv.core.replica.ReplicaDriver;
import io.loomkv.core.replica.ReplicaInputs;
import io.loomkv.core.replica.ReplicaIo;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Predicate;

/**
 * One store's replica of one group, run by the same {@link ReplicaDriver} the server runs: the
 * simulator hands it turns (ticks and the messages that arrived), client calls go to the driver's
 * node followed by {@code process(true)}, and the store wakes it when an fsync completes. This
 * class is the driver's I/O: the network, the store's {@link SimWal}, the state machine (applied
 * synchronously, with an eager snapshot and compaction every
 * {@link SimOptions#snapshotIntervalEntries()} entries), and the {@link SafetyChecker}'s
 * observations of every Ready, persist and apply.
 *
 * <p>The durable log survives a crash of the store; the Raft node, the state machine, the staged
 * snapshot and the inbox do not. A retired replica ({@link #retire}) keeps nothing.
 *
 * <p>Over 600 lines because it is the whole of one replica's runtime I/O (every {@code ReplicaIo}
 * callback with the checks it feeds) plus its lifecycle; split, each half would need the other's
 * private state.
 */
public final class SimReplica implements ReplicaIo {

    /** Messages waiting for a turn (the runtime's inbox capacity): more are dropped, and Raft resends. */
    private static final int INBOX_CAPACITY = 8_192;

    private final SimStore store;
    private final SimGroup group;
    private final Simulator sim;
    private final int id;
    private final ArrayDeque<Message> inbox = new ArrayDeque<>();
    /** Reads asked of a paused store, handed to the node in its next turn, after the ticks and messages. */
    private final ArrayDeque<ByteString> queuedReads = new ArrayDeque<>();
    private ReplicaDriver driver;
    private SimMachine stateMachine;
    private ConfState confState;
    private ByteString.Output stagedSnapshot;
    private long stagedSnapshotIndex;
    private Predicate<Ready> holdWhen;
    /** The Ready being started matched {@link #holdWhen}: its persist holds the store's fsync. */
    private boolean holdAtPersist;
    private boolean holding;
    /** This incarnation's latest persist: committed entries handed on before it is durable were durable earlier. */
    private Durability lastPersist;

    // What this incarnation's Readies said last: Raft's view, as a runtime would see it.
    private Role role = Role.FOLLOWER;
    private long leaderId;
    private long term;
    private long commitIndex;
    private long leaderCheckedForTerm = -1;

    /** The highest index this replica applied in any incarnation (6.824 keeps applied logs across crashes). */
    private long highestAppliedEver;
    /**
     * Retired (see {@link #retire}): no Raft node, no state machine, no log; a restart of the store
     * leaves it so, and only a leader's message, when the simulator's {@link Simulator.ReplicaCreation}
     * allows, creates a new, empty replica in its place.
     */
    private boolean retired;
    /** The next start is of an empty replica created for a leader's message (the server's RaftConfig.createdForLeader). */
    private boolean createdForLeader;

    SimReplica(SimStore store, SimGroup group) {
        this.store = store;
        this.group = group;
        this.sim = store.sim();
        this.id = store.id();
    }

    /** The store's id, which is this replica's Raft node id. */
    public int id() {
        return id;
    }

    public int groupId() {
        return group.id();
    }

    public SimStore store() {
        return store;
    }

    public boolean alive() {
        return driver != null;
    }

    /** Whether this replica was retired and no new one has been created in its place (see {@link #retire}). */
    public boolean retired() {
        return retired;
    }

    /** The Raft node's status now (null while the replica is down or retired): what a runtime reads on the group's turn. */
    public Status status() {
        return driver == null ? null : driver.node().status();
    }

    public boolean isLeader() {
        return driver != null && role == Role.LEADER;
    }

    public Role role() {
        return role;
    }

    public long leaderId() {
        return leaderId;
    }

    public long term() {
        return term;
    }

    public long commitIndex() {
        return commitIndex;
    }

    public long appliedIndex() {
        return stateMachine == null ? 0 : stateMachine.appliedIndex();
    }

    public long incarnation() {
        return store.incarnation();
    }

    public ConfState confState() {
        return confState;
    }

    /** The log as the node reads it (every write, durable or not); the 6.824 snapshot tests measure it. */
    public MemoryStorage storage() {
        return store.wal().view(group.id());
    }

    /** Bytes of Raft state besides the snapshot: 6.824's {@code RaftStateSize()}. */
    public long raftStateSizeBytes() {
        MemoryStorage storage = storage();
        long bytes = storage.hardState().getSerializedSize();
        long first = storage.firstIndex();
        long last = storage.lastIndex();
        if (last >= first) {
            for (Entry entry : storage.entries(first, last + 1, Long.MAX_VALUE)) {
                bytes += entry.getSerializedSize();
            }
        }
        return bytes;
    }

    /** This incarnation's state machine (null while the store is down). */
    public SimMachine machine() {
        return stateMachine;
    }

    boolean hasApplied(long index) {
        return index <= highestAppliedEver;
    }

    /** Crashes the whole store at {@code point} of a coming Ready of any of its replicas. */
    public void armCrash(CrashPoint point) {
        store.armCrash(point);
    }

    // ---- lifecycle ----

    void start() {
        if (retired) {
            return; // The server keeps a list of the groups it dropped, so a restart does not bring one back.
        }
        if (driver != null) {
            throw new IllegalStateException("store " + id + " group " + group.id() + " is already running");
        }
        MemoryStorage storage = storage();
        stateMachine = sim.newMachine(group.id());
        SnapshotMetadata snapshot = storage.snapshotMetadata();
        if (snapshot.getIndex() > 0) {
            stateMachine.restore(storage.snapshotData(), snapshot.getIndex());
            group.checker().observeRestored(id, snapshot.getIndex(), stateMachine.stateHash());
            group.checker().checkSnapshotMembership(id, snapshot.getIndex(), snapshot.getConfState());
        }
        confState = storage.initialState().confState();
        HardState hardState = storage.initialState().hardState();
        role = Role.FOLLOWER;
        leaderId = 0;
        term = hardState.getTerm();
        commitIndex = hardState.getCommit();
        leaderCheckedForTerm = -1;
        SimOptions options = sim.options();
        RaftConfig.Builder config = RaftConfig.builder(id)
                .electionTimeoutTicks(options.electionTimeoutTicks())
                .heartbeatTicks(options.heartbeatIntervalTicks())
                .randomSeed(sim.random().nextLong())
                .preVote(options.preVote())
                .checkQuorum(options.checkQuorum())
                .maxSnapshotChunkBytes(1024);
        if (options.leaseReads()) {
            config.leaseReads(options.electionTimeoutTicks() * 2 / 3);
        }
        config.createdForLeader(createdForLeader);
        createdForLeader = false;
        driver = new ReplicaDriver(new RaftNode(config.build(), storage), this);
    }

    void stop() {
        driver = null;
        stateMachine = null;
        stagedSnapshot = null;
        holdWhen = null;
        holdAtPersist = false;
        holding = false;
        lastPersist = null;
        inbox.clear();
        queuedReads.clear();
        role = Role.FOLLOWER;
    }

    /**
     * Retires this replica, as a store whose replica was removed from a group does: it stops for
     * good (its state machine, its inbox and what it was doing go) and its log and snapshots are
     * deleted, durably. Called between events, by a scenario's driver.
     */
    public void retire() {
        if (retired) {
            return;
        }
        trace("retires: stopped, its log and snapshots deleted");
        stop();
        store.wal().wipe(group.id());
        retired = true;
    }

    /**
     * Stalls the store's fsync when this replica starts a Ready that matches {@code condition} and
     * must be synced (only such a Ready waits for an fsync), until {@link #releaseHeldReady()}.
     */
    public void holdReadyWhen(Predicate<Ready> condition) {
        holdWhen = condition;
    }

    /** Whether a Ready matched by {@link #holdReadyWhen} waits for the held fsync. */
    public boolean holdingReady() {
        return holding && driver != null && driver.persistInFlight() && store.fsyncHeld();
    }

    /** Lets the stalled fsync complete now. */
    public void releaseHeldReady() {
        if (!holdingReady()) {
            throw new IllegalStateException("store " + id + " group " + group.id() + " holds no Ready");
        }
        holding = false;
        store.releaseFsync();
    }

    /** Snapshots the state machine and compacts the log now (the runtime's periodic snapshot, on demand). */
    public void snapshotNow() {
        long applied = stateMachine.appliedIndex();
        MemoryStorage storage = storage();
        if (applied > storage.snapshotMetadata().getIndex() && applied <= storage.lastIndex()) {
            snapshotAndCompact(applied);
            trace("snapshotted and compacted up to " + applied + " (on demand)");
        }
    }

    // ---- inputs (the store runs each inside SimStore.run) ----

    /** A message arrived from the network; it waits in the inbox for the next turn. */
    void receive(Message message) {
        if (!group.delivered(id, message)) {
            trace("dropped " + SimTrace.describe(message) + ": the runtime knows this replica was removed");
            return;
        }
        if (retired && !recreateFor(message)) {
            return;
        }
        if (inbox.size() >= INBOX_CAPACITY) {
            trace("inbox full, dropped " + SimTrace.describe(message));
            return;
        }
        inbox.addLast(message);
    }

    /**
     * A leader's message for a retired replica creates a new, empty one (no membership, no log) for
     * the leader to fill, as the server's store does, when the scenario's creation rule allows it;
     * anything else for it is dropped. Returns whether the message now has a replica to go to.
     */
    private boolean recreateFor(Message message) {
        if (!LeaderMessages.isLeaderMessage(message.getType()) || !store.alive() || !sim.mayCreateReplica(id, group.id())) {
            return false;
        }
        retired = false;
        createdForLeader = true;
        store.run("creating a replica for its leader", this::start);
        trace("created an empty replica for its leader to fill");
        return driver != null;
    }

    boolean hasInput() {
        return !inbox.isEmpty() || !queuedReads.isEmpty();
    }

    void turn(long dueTicks) {
        if (driver == null) {
            return; // Retired.
        }
        driver.turn(dueTicks, inbox::pollFirst, queuedReads.isEmpty() ? ReplicaInputs.NONE : this::drainQueuedReads);
    }

    /** The store's wake-up after a write became durable: finishes what it allows. Returns whether there was work. */
    boolean wake() {
        if (driver == null || !driver.hasWork()) {
            return false;
        }
        driver.process(false);
        return true;
    }

    private boolean drainQueuedReads(RaftNode node) {
        boolean any = !queuedReads.isEmpty();
        while (!queuedReads.isEmpty()) {
            ByteString context = queuedReads.pollFirst();
            try {
                node.readIndex(context);
            } catch (RequestDroppedException e) {
                trace("dropped queued read " + decodeContext(context) + ": " + e.getMessage());
            }
        }
        return any;
    }

    Simulator.Start propose(SimCommand command) {
        if (driver == null) {
            return Simulator.Start.REJECTED;
        }
        RaftNode node = driver.node();
        // Like 6.824's Start(): ask Raft itself (the last Ready may be a few ticks old when fsyncs
        // are slow), and do not let a follower forward the proposal.
        if (node.softState().role() != Role.LEADER) {
            return Simulator.Start.REJECTED;
        }
        try {
            node.propose(command.encode());
        } catch (RequestDroppedException e) {
            trace("dropped proposal " + command.proposalId() + ": " + e.getMessage());
            return Simulator.Start.REJECTED;
        }
        // The leader appended the entry to its log: its index is the log's last index now.
        Status status = node.status();
        return new Simulator.Start(status.lastIndex(), status.term(), true, command.proposalId());
    }

    /** Proposes {@code data} as a leader (a follower does not forward it); the index and term it got, or REJECTED. */
    Simulator.Start proposeData(ByteString data) {
        if (driver == null) {
            return Simulator.Start.REJECTED;
        }
        RaftNode node = driver.node();
        if (node.softState().role() != Role.LEADER) {
            return Simulator.Start.REJECTED;
        }
        try {
            node.propose(data);
        } catch (RequestDroppedException e) {
            trace("dropped a proposal of " + data.size() + " bytes: " + e.getMessage());
            return Simulator.Start.REJECTED;
        }
        Status status = node.status();
        return new Simulator.Start(status.lastIndex(), status.term(), true, 0);
    }

    boolean proposeConfChange(ConfChange change) {
        if (driver == null) {
            return false;
        }
        try {
            driver.node().proposeConfChange(change);
            return true;
        } catch (RequestDroppedException e) {
            trace("dropped conf change: " + e.getMessage());
            return false;
        }
    }

    /** Asks for a read; a paused store queues it for its next turn (false when the node dropped it). */
    boolean readIndex(long context, boolean queue) {
        ByteString encoded = ByteString.copyFrom(ByteBuffer.allocate(Long.BYTES).putLong(context).flip());
        if (driver == null) {
            return false;
        }
        if (queue) {
            queuedReads.addLast(encoded);
            return true;
        }
        try {
            driver.node().readIndex(encoded);
            return true;
        } catch (RequestDroppedException e) {
            trace("dropped read " + context + ": " + e.getMessage());
            return false;
        }
    }

    void campaign() {
        if (driver != null) {
            driver.node().campaign();
        }
    }

    void transferLeader(int target) {
        if (driver == null) {
            return;
        }
        try {
            driver.node().transferLeader(target);
        } catch (RequestDroppedException e) {
            trace("dropped transfer to " + target + ": " + e.getMessage());
        }
    }

    /** After a client call on the node: the driver handles its output, as after a turn's local inputs. */
    void processInput() {
        if (driver == null) {
            return;
        }
        driver.process(true);
    }

    // ---- ReplicaIo ----

    @Override
    public boolean send(Message message) {
        if (driver.persistInFlight()) {
            sim.countEarlyOutput(1, 0);
        }
        sim.send(group.id(), message);
        return true;
    }

    @Override
    public Durability persist(HardState hardState, List<Entry> entries, boolean mustSync) {
        MemoryStorage storage = storage();
        long previousTerm = -1;
        if (!entries.isEmpty()) {
            long before = entries.get(0).getIndex() - 1;
            if (before >= storage.firstIndex() - 1 && before <= storage.lastIndex()) {
                previousTerm = storage.term(before);
            }
        }
        if (holdAtPersist && mustSync) {
            holdAtPersist = false;
            holding = true;
            store.holdFsync();
            trace("holds a Ready (its store's fsync is stalled)");
        }
        Durability durable = store.persist(group.id(), hardState, entries, mustSync);
        lastPersist = durable;
        if (!entries.isEmpty()) {
            group.checker().observePersisted(id, previousTerm, entries);
        }
        if (role == Role.LEADER && leaderCheckedForTerm != term) {
            leaderCheckedForTerm = term;
            group.checker().checkLeaderCompleteness(id, term, storage());
        }
        return durable;
    }

    @Override
    public void stageSnapshotChunk(SnapshotChunk chunk) {
        if (chunk.offsetBytes() == 0) {
            stagedSnapshot = ByteString.newOutput();
            stagedSnapshotIndex = chunk.metadata().getIndex();
        }
        if (stagedSnapshot == null || stagedSnapshotIndex != chunk.metadata().getIndex()
                || stagedSnapshot.size() != chunk.offsetBytes()) {
            throw sim.fail(name() + " got snapshot chunk at offset " + chunk.offsetBytes() + " of snapshot "
                    + chunk.metadata().getIndex() + " but has staged " + (stagedSnapshot == null ? "nothing"
                    : stagedSnapshot.size() + " bytes of snapshot " + stagedSnapshotIndex));
        }
        byte[] bytes = chunk.data().toByteArray();
        stagedSnapshot.write(bytes, 0, bytes.length);
    }

    @Override
    public void installSnapshot(SnapshotMetadata metadata) {
        if (stagedSnapshot == null || stagedSnapshotIndex != metadata.getIndex()) {
            throw sim.fail(name() + " was told to install snapshot " + metadata.getIndex()
                    + " without having staged its data");
        }
        ByteString data = stagedSnapshot.toByteString();
        stagedSnapshot = null;
        store.installSnapshot(group.id(), metadata, data);
        stateMachine.restore(data, metadata.getIndex());
        confState = metadata.getConfState();
        group.checker().observeRestored(id, metadata.getIndex(), stateMachine.stateHash());
        group.checker().checkSnapshotMembership(id, metadata.getIndex(), confState);
        highestAppliedEver = Math.max(highestAppliedEver, metadata.getIndex());
        trace("installed snapshot " + metadata.getIndex() + "/" + metadata.getTerm());
    }

    @Override
    public void apply(CommittedEntries committed) {
        if (lastPersist != null && !lastPersist.isDurable()) {
            sim.countAppliedAheadOfPersist();
        }
        int change = 0;
        for (Entry entry : committed.entries()) {
            if (entry.getIndex() <= stateMachine.appliedIndex()) {
                throw sim.fail(name() + " was handed entry " + entry.getIndex() + " to apply, already applied up to "
                        + stateMachine.appliedIndex());
            }
            if (entry.getIndex() > commitIndex) {
                throw sim.fail(name() + " was handed entry " + entry.getIndex() + " to apply beyond its commit index "
                        + commitIndex);
            }
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                onConfChange(committed.confChanges().get(change++), entry.getIndex());
            }
            String broken = stateMachine.apply(entry);
            if (broken != null) {
                throw sim.fail(name() + ": " + broken);
            }
            group.checker().observeApplied(id, entry, stateMachine.stateHash());
            highestAppliedEver = Math.max(highestAppliedEver, entry.getIndex());
        }
        if (change != committed.confChanges().size()) {
            throw sim.fail(name() + " was handed " + committed.confChanges().size() + " applied conf changes for "
                    + change + " conf change entries");
        }
        maybeSnapshot();
    }

    /**
     * The driver applied the change to the node at hand-off. The simulator only proposes changes
     * that are valid against the leader's membership, and every replica applies them against the
     * same one, so a refusal means the memberships diverged.
     */
    private void onConfChange(AppliedConfChange applied, long index) {
        if (applied.index() != index) {
            throw sim.fail(name() + " was handed the conf change of index " + applied.index() + " for entry " + index);
        }
        if (applied.refused()) {
            throw sim.fail(name() + " refused the committed conf change at " + index + " ("
                    + TextFormat.shortDebugString(applied.change()) + "): " + applied.refusal());
        }
        ConfState before = confState;
        confState = applied.after();
        group.checker().observeMembership(id, index, confState);
        group.membershipApplied(id, index, applied.term(), before, confState, storage().lastIndex());
        trace("applied conf change at " + index + ": " + TextFormat.shortDebugString(confState));
    }

    /**
     * Snapshots and compacts every {@code snapshotIntervalEntries} applied entries, as eagerly as
     * 6.824's service: nothing is kept for lagging followers, which must then take a snapshot
     * (possibly one that predates their own addition: randomized seed 114).
     */
    private void maybeSnapshot() {
        int interval = sim.options().snapshotIntervalEntries();
        long applied = stateMachine.appliedIndex();
        MemoryStorage storage = storage();
        long sinceSnapshot = applied - storage.snapshotMetadata().getIndex();
        if (interval > 0 && sinceSnapshot >= interval && applied <= storage.lastIndex()) {
            snapshotAndCompact(applied);
            trace("snapshotted and compacted up to " + applied);
        }
    }

    private void snapshotAndCompact(long applied) {
        group.checker().checkSnapshotMembership(id, applied, confState);
        store.snapshotAndCompact(group.id(), applied, confState, stateMachine.snapshot());
    }

    @Override
    public void readsConfirmed(List<ReadState> readStates) {
        if (driver.persistInFlight()) {
            sim.countEarlyOutput(0, readStates.size());
        }
        for (ReadState read : readStates) {
            group.onReadState(id, decodeContext(read.context()), read.index());
        }
    }

    @Override
    public void softStateChanged(SoftState softState) {
        role = softState.role();
        leaderId = softState.leaderId();
    }

    @Override
    public void messageRejected(Message message, IllegalArgumentException reason) {
        AssertionError failure = sim.fail(name() + " rejected " + SimTrace.describe(message) + " (every simulated peer is correct): "
                + reason.getMessage());
        failure.initCause(reason);
        throw failure;
    }

    /** The safety checks of every Ready, before the driver acts on it. */
    @Override
    public void readyStarted(Ready ready) {
        Role roleNow = ready.softState() != null ? ready.softState().role() : role;
        if (ready.hardState() != null) {
            HardState hardState = ready.hardState();
            if (hardState.getTerm() < term) {
                throw sim.fail(name() + " term went backwards from " + term + " to " + hardState.getTerm());
            }
            term = hardState.getTerm();
            group.checker().observeCommit(id, commitIndex, hardState.getCommit(), term);
            commitIndex = hardState.getCommit();
        }
        if (roleNow == Role.LEADER) {
            group.checker().observeLeader(id, term);
        }
        holdAtPersist = false;
        if (holdWhen != null && ready.mustSync() && holdWhen.test(ready)) {
            // A scenario stalls this persist (a slow fsync) to place other events inside it.
            holdWhen = null;
            holdAtPersist = true;
        }
    }

    /** Checks that hold after every step. */
    void checkInvariants() {
        if (driver == null) {
            return;
        }
        group.checker().checkAppliedNotAboveCommitted(id, stateMachine.appliedIndex(), commitIndex);
        if (role == Role.LEADER) {
            group.checker().observeLeader(id, term);
        }
    }

    private static long decodeContext(ByteString context) {
        return context.asReadOnlyByteBuffer().getLong();
    }

    private String name() {
        return sim.options().groups() == 1 ? "node " + id : "store " + id + " group " + group.id();
    }

    private void trace(String event) {
        if (sim.options().trace()) {
            sim.trace(name() + " " + event);
        }
    }
}
