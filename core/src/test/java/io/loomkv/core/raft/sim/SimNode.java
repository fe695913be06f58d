package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.ReadState;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.Status;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.List;

/**
 * One simulated server: a {@link RaftNode}, its durable {@link MemoryStorage} (which survives a
 * crash) and its volatile state machine (which does not), driven through the Ready loop exactly
 * as a runtime must drive it: send the messages that may precede the persist, persist snapshot,
 * entries and hard state, send the messages that must follow it, apply committed entries, then
 * {@code advance()}.
 *
 * <p>A crash may be armed to hit in the middle of handling a Ready (after the early messages went
 * out but before the persist, or after the persist but before the acknowledgements went out),
 * which is where a leader's own log can lag what its followers already hold.
 */
public final class SimNode {

    /** Where an armed crash hits. */
    public enum CrashPoint {
        /** After sending the early messages of the next Ready, before persisting it. */
        BEFORE_PERSIST,
        /** After persisting the next Ready, before sending its acknowledgements. */
        AFTER_PERSIST,
        /** Like {@link #BEFORE_PERSIST}, but only in a Ready that holds entries to persist. */
        BEFORE_PERSISTING_ENTRIES
    }

    private static final int MAX_READIES_PER_STEP = 1_000;

    private final int id;
    private final Simulator sim;
    private final List<Long> initialVoters;
    private MemoryStorage storage;
    private long lastAppendFromIndex;
    private RaftNode raft;
    private SimStateMachine stateMachine;
    private ConfState confState;
    private ByteString.Output stagedSnapshot;
    private long stagedSnapshotIndex;
    private CrashPoint armedCrash;
    private Ready pendingReady;
    private long persistDueTick;
    private java.util.function.Predicate<Ready> holdWhen;
    private boolean holding;
    private long incarnation;

    // What this incarnation's Readies said last: Raft's view, as a runtime would see it.
    private Role role = Role.FOLLOWER;
    private long leaderId;
    private long term;
    private long commitIndex;
    private long leaderCheckedForTerm = -1;

    /** The highest index this node applied in any incarnation (6.824 keeps applied logs across crashes). */
    private long highestAppliedEver;

    SimNode(int id, Simulator sim, List<Long> voters) {
        this.id = id;
        this.sim = sim;
        this.initialVoters = List.copyOf(voters);
        this.storage = MemoryStorage.bootstrap(initialVoters);
    }

    public int id() {
        return id;
    }

    public boolean alive() {
        return raft != null;
    }

    public boolean isLeader() {
        return raft != null && role == Role.LEADER;
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
        return incarnation;
    }

    public ConfState confState() {
        return confState;
    }

    /** The durable storage; the 6.824 snapshot tests measure its log size. */
    public MemoryStorage storage() {
        return storage;
    }

    /** Bytes of durable Raft state besides the snapshot: 6.824's {@code RaftStateSize()}. */
    public long raftStateSizeBytes() {
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

    boolean hasApplied(long index) {
        return index <= highestAppliedEver;
    }

    SimCommand appliedCommand(long index) {
        ByteString data = sim.checker().appliedData(index);
        return data == null || data.isEmpty() ? null : decodeIfCommand(data);
    }

    private static SimCommand decodeIfCommand(ByteString data) {
        return data.size() >= SimCommand.HEADER_BYTES ? SimCommand.decode(data) : null;
    }

    public void armCrash(CrashPoint point) {
        armedCrash = point;
    }

    // ---- lifecycle ----

    void start() {
        if (raft != null) {
            throw new IllegalStateException("node " + id + " is already running");
        }
        incarnation++;
        stateMachine = new SimStateMachine();
        SnapshotMetadata snapshot = storage.snapshotMetadata();
        if (snapshot.getIndex() > 0) {
            stateMachine.restore(storage.snapshotData(), snapshot.getIndex());
            sim.checker().observeRestored(id, snapshot.getIndex(), stateMachine.stateHash());
        }
        confState = storage.initialState().confState();
        if (sim.options().runtimeFault() == SimOptions.RuntimeFault.FORGET_VOTE_ON_CRASH && incarnation > 1) {
            storage.setHardState(storage.hardState().toBuilder().setVote(0).build());
        }
        HardState hardState = storage.hardState();
        role = Role.FOLLOWER;
        leaderId = 0;
        term = hardState.getTerm();
        commitIndex = hardState.getCommit();
        leaderCheckedForTerm = -1;
        stagedSnapshot = null;
        armedCrash = null;
        pendingReady = null;
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
        guard("restart", () -> {
            raft = new RaftNode(config.build(), storage);
            processReadies();
        });
    }

    /** Stalls the persist of the next Ready that matches {@code condition} until {@link #releaseHeldReady()}. */
    public void holdReadyWhen(java.util.function.Predicate<Ready> condition) {
        holdWhen = condition;
    }

    public boolean holdingReady() {
        return holding && pendingReady != null;
    }

    /** Lets a stalled persist finish now. */
    public void releaseHeldReady() {
        if (!holdingReady()) {
            throw new IllegalStateException("node " + id + " holds no Ready");
        }
        holding = false;
        persistDueTick = sim.nowTick();
        completeDuePersist();
        sim.afterStep();
    }

    /** Snapshots the state machine and compacts the log now (the runtime's periodic snapshot, on demand). */
    public void snapshotNow() {
        long applied = stateMachine.appliedIndex();
        if (applied > storage.snapshotMetadata().getIndex() && applied <= storage.lastIndex()) {
            storage.createSnapshot(applied, confState, stateMachine.snapshot());
            storage.compact(applied);
            sim.trace("node " + id + " snapshotted and compacted up to " + applied + " (on demand)");
        }
    }

    void crash() {
        holding = false;
        holdWhen = null;
        if (raft != null && sim.options().runtimeFault() == SimOptions.RuntimeFault.LOSE_LAST_APPEND_ON_CRASH) {
            loseLastAppend();
        }
        raft = null;
        pendingReady = null;
        stateMachine = null;
        stagedSnapshot = null;
        armedCrash = null;
        role = Role.FOLLOWER;
    }

    /** The self-test's lying fsync: rebuild storage without the entries of the last append. */
    private void loseLastAppend() {
        long keepTo = Math.min(storage.lastIndex(), lastAppendFromIndex - 1);
        SnapshotMetadata snapshot = storage.snapshotMetadata();
        if (lastAppendFromIndex == 0 || keepTo < snapshot.getIndex()) {
            return;
        }
        MemoryStorage rebuilt = MemoryStorage.bootstrap(initialVoters);
        if (snapshot.getIndex() > 0) {
            rebuilt.applySnapshot(snapshot, storage.snapshotData());
        }
        if (keepTo >= storage.firstIndex()) {
            rebuilt.append(storage.entries(storage.firstIndex(), keepTo + 1, Long.MAX_VALUE));
        }
        HardState hardState = storage.hardState();
        rebuilt.setHardState(hardState.toBuilder().setCommit(Math.min(hardState.getCommit(), keepTo)).build());
        sim.trace("node " + id + " lost entries from " + lastAppendFromIndex + " (lying fsync)");
        storage = rebuilt;
    }

    // ---- inputs ----

    void tick() {
        guard("tick", () -> {
            raft.tick();
            processReadies();
        });
    }

    void step(Message message) {
        guard("step " + SimTrace.describe(message), () -> {
            raft.step(message);
            processReadies();
        });
    }

    /** Turns an exception thrown by the core into a failure of the run that names the seed. */
    private void guard(String what, Runnable action) {
        try {
            action.run();
        } catch (AssertionError e) {
            throw e;
        } catch (RuntimeException e) {
            AssertionError failure = sim.fail("node " + id + " threw during " + what + ": " + e);
            failure.initCause(e);
            throw failure;
        }
    }

    Simulator.Start propose(SimCommand command) {
        // Like 6.824's Start(): ask Raft itself (the last Ready may be a few ticks old when
        // persists are slow), and do not let a follower forward the proposal.
        if (raft.softState().role() != Role.LEADER) {
            return Simulator.Start.REJECTED;
        }
        try {
            raft.propose(command.encode());
        } catch (RequestDroppedException e) {
            sim.trace("node " + id + " dropped proposal " + command.proposalId() + ": " + e.getMessage());
            return Simulator.Start.REJECTED;
        } catch (RuntimeException e) {
            guard("propose", () -> { throw e; });
        }
        // The leader appended the entry to its log: its index is the log's last index now.
        Status status = raft.status();
        long index = status.lastIndex();
        long proposalTerm = status.term();
        guard("handling the proposal's Ready", this::processReadies);
        return new Simulator.Start(index, proposalTerm, true, command.proposalId());
    }

    boolean proposeConfChange(ConfChange change) {
        try {
            raft.proposeConfChange(change);
        } catch (RequestDroppedException e) {
            sim.trace("node " + id + " dropped conf change: " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            guard("proposeConfChange", () -> { throw e; });
        }
        guard("handling the conf change's Ready", this::processReadies);
        return true;
    }

    boolean readIndex(long context) {
        ByteString encoded = ByteString.copyFrom(java.nio.ByteBuffer.allocate(Long.BYTES).putLong(context).flip());
        try {
            raft.readIndex(encoded);
        } catch (RequestDroppedException e) {
            sim.trace("node " + id + " dropped read " + context + ": " + e.getMessage());
            return false;
        } catch (RuntimeException e) {
            guard("readIndex", () -> { throw e; });
        }
        guard("handling the read's Ready", this::processReadies);
        return true;
    }

    void campaign() {
        guard("campaign", () -> {
            raft.campaign();
            processReadies();
        });
    }

    void transferLeader(int target) {
        try {
            raft.transferLeader(target);
        } catch (RequestDroppedException e) {
            sim.trace("node " + id + " dropped transfer to " + target + ": " + e.getMessage());
        } catch (RuntimeException e) {
            guard("transferLeader", () -> { throw e; });
        }
        guard("handling the transfer's Ready", this::processReadies);
    }

    // ---- the Ready loop ----

    private void processReadies() {
        int readies = 0;
        while (raft != null && pendingReady == null && raft.hasReady()) {
            if (++readies > MAX_READIES_PER_STEP) {
                throw sim.fail("node " + id + " produced more than " + MAX_READIES_PER_STEP + " Readies in one step");
            }
            handle(raft.ready());
        }
    }

    private void handle(Ready ready) {
        if (ready.softState() != null) {
            role = ready.softState().role();
            leaderId = ready.softState().leaderId();
        }
        if (ready.hardState() != null) {
            HardState hardState = ready.hardState();
            if (hardState.getTerm() < term) {
                throw sim.fail("node " + id + " term went backwards from " + term + " to " + hardState.getTerm());
            }
            term = hardState.getTerm();
            sim.checker().observeCommit(id, commitIndex, hardState.getCommit(), term);
            commitIndex = hardState.getCommit();
        }
        if (role == Role.LEADER) {
            sim.checker().observeLeader(id, term);
        }
        for (Message message : ready.messagesBeforePersist()) {
            sim.send(message);
        }
        if (crashIfArmed(CrashPoint.BEFORE_PERSIST)
                || (!ready.entries().isEmpty() && crashIfArmed(CrashPoint.BEFORE_PERSISTING_ENTRIES))) {
            return;
        }
        if (holdWhen != null && holdWhen.test(ready)) {
            // A scenario stalls this persist (a slow fsync) to place other events inside it.
            holdWhen = null;
            holding = true;
            pendingReady = ready;
            sim.trace("node " + id + " holds a Ready (stalled persist)");
            return;
        }
        int maxDelay = sim.options().maxPersistDelayTicks();
        long delay = maxDelay == 0 ? 0 : sim.random().nextInt(maxDelay + 1);
        if (delay == 0) {
            complete(ready);
        } else {
            pendingReady = ready;
            persistDueTick = sim.nowTick() + delay;
        }
    }

    /** Finishes a Ready whose persist was in flight, if it is due; returns whether it did. */
    boolean completeDuePersist() {
        if (raft == null || pendingReady == null || holding || sim.nowTick() < persistDueTick) {
            return false;
        }
        Ready ready = pendingReady;
        pendingReady = null;
        guard("completing a persist", () -> {
            complete(ready);
            processReadies();
        });
        return true;
    }

    private void complete(Ready ready) {
        persist(ready);
        if (crashIfArmed(CrashPoint.AFTER_PERSIST)) {
            return;
        }
        for (Message message : ready.messagesAfterPersist()) {
            sim.send(message);
        }
        apply(ready.committedEntries());
        for (ReadState read : ready.readStates()) {
            sim.onReadState(id, read.context().asReadOnlyByteBuffer().getLong(), read.index());
        }
        raft.advance();
    }

    private boolean crashIfArmed(CrashPoint point) {
        if (armedCrash != point) {
            return false;
        }
        // Unlike a 6.824 crash1, this does not disconnect the node: what it sent is already on the
        // wire and still arrives.
        sim.trace("crash " + id + " while handling a Ready, " + point);
        crash();
        return true;
    }

    private void persist(Ready ready) {
        for (SnapshotChunk chunk : ready.snapshotChunks()) {
            stage(chunk);
        }
        if (ready.snapshot() != null) {
            installSnapshot(ready.snapshot());
        }
        if (!ready.entries().isEmpty()) {
            List<Entry> entries = ready.entries();
            long before = entries.get(0).getIndex() - 1;
            long previousTerm = before >= storage.firstIndex() - 1 && before <= storage.lastIndex()
                    ? storage.term(before) : -1;
            sim.checker().observePersisted(id, previousTerm, entries);
            storage.append(entries);
            lastAppendFromIndex = entries.get(0).getIndex();
        }
        if (ready.hardState() != null) {
            storage.setHardState(ready.hardState());
        }
        if (role == Role.LEADER && leaderCheckedForTerm != term) {
            leaderCheckedForTerm = term;
            sim.checker().checkLeaderCompleteness(id, term, storage);
        }
    }

    private void stage(SnapshotChunk chunk) {
        if (chunk.offsetBytes() == 0) {
            stagedSnapshot = ByteString.newOutput();
            stagedSnapshotIndex = chunk.metadata().getIndex();
        }
        if (stagedSnapshot == null || stagedSnapshotIndex != chunk.metadata().getIndex()
                || stagedSnapshot.size() != chunk.offsetBytes()) {
            throw sim.fail("node " + id + " got snapshot chunk at offset " + chunk.offsetBytes() + " of snapshot "
                    + chunk.metadata().getIndex() + " but has staged " + (stagedSnapshot == null ? "nothing"
                    : stagedSnapshot.size() + " bytes of snapshot " + stagedSnapshotIndex));
        }
        byte[] bytes = chunk.data().toByteArray();
        stagedSnapshot.write(bytes, 0, bytes.length);
    }

    private void installSnapshot(SnapshotMetadata metadata) {
        if (stagedSnapshot == null || stagedSnapshotIndex != metadata.getIndex()) {
            throw sim.fail("node " + id + " was told to install snapshot " + metadata.getIndex()
                    + " without having staged its data");
        }
        ByteString data = stagedSnapshot.toByteString();
        stagedSnapshot = null;
        storage.applySnapshot(metadata, data);
        stateMachine.restore(data, metadata.getIndex());
        confState = metadata.getConfState();
        sim.checker().observeRestored(id, metadata.getIndex(), stateMachine.stateHash());
        highestAppliedEver = Math.max(highestAppliedEver, metadata.getIndex());
        sim.trace("node " + id + " installed snapshot " + metadata.getIndex() + "/" + metadata.getTerm());
    }

    private void apply(List<Entry> committed) {
        for (Entry entry : committed) {
            if (entry.getIndex() <= stateMachine.appliedIndex()) {
                throw sim.fail("node " + id + " was handed entry " + entry.getIndex() + " to apply, already applied up to "
                        + stateMachine.appliedIndex());
            }
            if (entry.getIndex() > commitIndex) {
                throw sim.fail("node " + id + " was handed entry " + entry.getIndex() + " to apply beyond its commit index "
                        + commitIndex);
            }
            SimCommand command = null;
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                confState = raft.applyConfChange(parseConfChange(entry));
                sim.trace("node " + id + " applied conf change at " + entry.getIndex() + ": " + TextFormat.shortDebugString(confState));
            } else if (!entry.getData().isEmpty()) {
                command = SimCommand.decode(entry.getData());
            }
            String broken = stateMachine.apply(entry.getIndex(), command);
            if (broken != null) {
                throw sim.fail("node " + id + ": " + broken);
            }
            sim.checker().observeApplied(id, entry, stateMachine.stateHash());
            highestAppliedEver = Math.max(highestAppliedEver, entry.getIndex());
        }
        maybeSnapshot();
    }

    /**
     * Snapshots and compacts every {@code snapshotIntervalEntries} applied entries, as eagerly as
     * 6.824's service: nothing is kept for lagging followers, which must then take a snapshot
     * (possibly one that predates their own addition: randomized seed 114).
     */
    private void maybeSnapshot() {
        int interval = sim.options().snapshotIntervalEntries();
        long applied = stateMachine.appliedIndex();
        long sinceSnapshot = applied - storage.snapshotMetadata().getIndex();
        if (interval > 0 && sinceSnapshot >= interval && applied <= storage.lastIndex()) {
            storage.createSnapshot(applied, confState, stateMachine.snapshot());
            storage.compact(applied);
            sim.trace("node " + id + " snapshotted and compacted up to " + applied);
        }
    }

    private ConfChange parseConfChange(Entry entry) {
        try {
            return ConfChange.parseFrom(entry.getData());
        } catch (InvalidProtocolBufferException e) {
            throw sim.fail("node " + id + " has a conf change entry at " + entry.getIndex() + " that does not parse: " + e);
        }
    }

    /** Checks that hold after every step. */
    void checkInvariants() {
        if (raft == null) {
            return;
        }
        sim.checker().checkAppliedNotAboveCommitted(id, stateMachine.appliedIndex(), commitIndex);
        if (role == Role.LEADER) {
            sim.checker().observeLeader(id, term);
        }
    }
}
