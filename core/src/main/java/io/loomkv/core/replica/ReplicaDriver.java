package io.loomkv.core.replica;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.EarlyOutput;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.Ready;
import io.loomkv.core.raft.SnapshotChunk;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Drives one replica's {@link RaftNode}: its turns of input and its Readies, in the orders Raft
 * and this runtime need. The store runtime and the seeded simulator run this same code, so those
 * orderings are tested under thousands of fault schedules, not only by chaos runs. It has no
 * threads, clocks or randomness: time comes in as tick counts, I/O goes out through
 * {@link ReplicaIo}, and durability comes back as a {@link Durability} the driver polls.
 *
 * <p>A turn ({@link #turn}): the ticks due, all of them first (time that passed while the replica
 * did not run reaches the core before any input of the turn is decided on: a leader frozen for
 * seconds must not serve a lease read on a lease its peers have long since given up); then the
 * peer messages that arrived (bounded); then local inputs (bounded); then the Readies.
 *
 * <p>A Ready ({@link #process}): send what may go before the persist (a leader's appends overlap
 * with its own WAL write, Raft thesis 10.2.1), stage or install a snapshot, start the persist,
 * hand on committed entries that were durable before this Ready and the confirmed reads. If the
 * persist must be synced and is not yet, the Ready stays <em>in flight</em>: the replica goes on
 * stepping messages and proposing (a leader counts followers' acknowledgements meanwhile), and
 * what needs no durability (new appends to followers, heartbeats and their responses, confirmed
 * reads) is sent at once through {@link RaftNode#takeEarlyOutput()} instead of waiting for the
 * fsync. Once the persist is durable the driver sends the acknowledgements and votes it held
 * back, hands on the rest of the committed entries and advances the node; everything proposed
 * meanwhile goes out with the next Ready, one persist for all of it.
 *
 * <p>A snapshot may arrive while a Ready is in flight, and cover that Ready's committed entries
 * that were not handed on yet (they are handed on when the persist completes, unless they were
 * durable before the Ready). They are then not handed on at all: the snapshot, installed by the
 * next Ready, holds their effects, as a snapshot holds those of the entries it compacted. Handing
 * them on would have the apply stage record, for their indexes, the snapshot's membership (the
 * only one the node can still report for their conf changes); a snapshot the runtime took there
 * would carry it, and after a crash the entries that follow it would be applied against a
 * membership the group never had at that index (found by SnapshotDuringApplyScenarioTest).
 *
 * <p>A hard state whose only change is the commit index needs no fsync (Raft may lose the commit
 * index and learn it again), but written on its own it still costs one WAL round, and the next
 * write's force waits behind it (measured on the single-group runtime: 5.8 fsyncs per 1-client
 * write across 3 nodes, 3.0 without). So such a hard state is held back and written with the next
 * persist of entries or of a hard state that must be synced; a restarted replica lifts a commit
 * index that lags its snapshot.
 *
 * <p>Not thread-safe: the runtime runs a replica's turns one at a time.
 */
public final class ReplicaDriver {
    /** Peer messages stepped per turn; the rest wait for the next turn, so one busy peer cannot starve the others. */
    public static final int MAX_MESSAGES_PER_TURN = 4_096;
    /** Readies handled per {@link #process} call: a bound on one turn's work (each Ready consumes the node's output). */
    static final int MAX_READIES_PER_PROCESS = 1_024;

    /** A handed-out Ready, its persist, and whether its committed entries already went to the apply stage. */
    private record InFlight(Ready ready, Durability durable, boolean committedHandedOn) {
    }

    private final RaftNode node;
    private final ReplicaIo io;
    private InFlight inFlight;
    /** A commit-only hard state not yet written (see the class comment). */
    private HardState unwrittenHardState;

    public ReplicaDriver(RaftNode node, ReplicaIo io) {
        this.node = Objects.requireNonNull(node, "node");
        this.io = Objects.requireNonNull(io, "io");
    }

    /** The node, for inputs (propose, readIndex, transferLeader) and for reading its status; same thread only. */
    public RaftNode node() {
        return node;
    }

    /**
     * One turn: {@code dueTicks} ticks, then up to {@value #MAX_MESSAGES_PER_TURN} messages from
     * {@code inbox}, then {@code inputs}, then the Readies. Returns whether anything happened.
     */
    public boolean turn(long dueTicks, Inbox inbox, ReplicaInputs inputs) {
        if (dueTicks < 0) {
            throw new IllegalArgumentException("negative tick count " + dueTicks);
        }
        for (long i = 0; i < dueTicks; i++) {
            node.tick();
        }
        boolean worked = dueTicks > 0;
        worked |= stepInbox(inbox);
        worked |= inputs.drainInto(node);
        return process(worked) || worked;
    }

    private boolean stepInbox(Inbox inbox) {
        int stepped = 0;
        Message message;
        while (stepped < MAX_MESSAGES_PER_TURN && (message = inbox.poll()) != null) {
            stepped++;
            try {
                node.step(message);
            } catch (IllegalArgumentException e) {
                io.messageRejected(message, e);
            }
        }
        return stepped > 0;
    }

    /**
     * Handles what the node produced: finishes a Ready whose persist became durable, starts the
     * next Ready, and, while a persist is in flight and {@code newInput} came in since the last
     * call, sends the output that needs no durability. Returns whether a Ready was started or
     * finished.
     */
    public boolean process(boolean newInput) {
        boolean handled = false;
        for (int i = 0; i < MAX_READIES_PER_PROCESS; i++) {
            if (inFlight != null) {
                if (!inFlight.durable().isDurable()) {
                    break;
                }
                finish(inFlight);
                handled = true;
            }
            if (!node.hasReady()) {
                break;
            }
            start(node.ready());
            handled = true;
        }
        if (inFlight != null && newInput) {
            EarlyOutput early = node.takeEarlyOutput();
            send(early.messages());
            if (!early.readStates().isEmpty()) {
                io.readsConfirmed(early.readStates());
            }
        }
        return handled;
    }

    /** Whether a Ready's persist is in flight (the runtime must run a turn again once it is durable). */
    public boolean persistInFlight() {
        return inFlight != null;
    }

    /** Whether a call to {@link #process} would do something now. */
    public boolean hasWork() {
        return inFlight == null ? node.hasReady() : inFlight.durable().isDurable();
    }

    private void start(Ready rd) {
        io.readyStarted(rd);
        if (rd.softState() != null) {
            io.softStateChanged(rd.softState());
        }
        send(rd.messagesBeforePersist());
        stageAndInstall(rd);
        HardState hardState = hardStateToWrite(rd);
        Durability durable = Durability.DONE;
        if (!rd.entries().isEmpty() || hardState != null) {
            durable = io.persist(hardState, rd.entries(), rd.mustSync());
        }
        boolean committedHandedOn = false;
        if (!rd.committedEntries().isEmpty() && rd.snapshot() == null && committedAreDurable(rd)) {
            handOn(rd.committedEntries());
            committedHandedOn = true;
        }
        if (!rd.readStates().isEmpty()) {
            io.readsConfirmed(rd.readStates());
        }
        InFlight flight = new InFlight(rd, rd.mustSync() ? durable : Durability.DONE, committedHandedOn);
        if (flight.durable().isDurable()) {
            finish(flight);
        } else {
            inFlight = flight;
        }
    }

    /**
     * Stages the Ready's snapshot chunks in order and installs its snapshot right after the chunk
     * that completed it. A chunk at offset 0 of a newer snapshot may follow in the same Ready (one
     * turn stepped both: the leader had compacted past the snapshot it was sending and started
     * over); staged before the install, it would replace the data to install (found by the
     * simulator: seed 203133 with 3,000 chaos ticks; the runtime's Raft loop stopped on it).
     */
    private void stageAndInstall(Ready rd) {
        List<SnapshotChunk> chunks = rd.snapshotChunks();
        int staged = 0;
        if (rd.snapshot() != null) {
            int completing = completingChunk(rd.snapshot(), chunks);
            for (; staged <= completing; staged++) {
                io.stageSnapshotChunk(chunks.get(staged));
            }
            io.installSnapshot(rd.snapshot());
        }
        for (; staged < chunks.size(); staged++) {
            io.stageSnapshotChunk(chunks.get(staged));
        }
    }

    /** The index in {@code chunks} of the last chunk of {@code snapshot} (a snapshot is restored by its last chunk). */
    private int completingChunk(SnapshotMetadata snapshot, List<SnapshotChunk> chunks) {
        for (int i = chunks.size() - 1; i >= 0; i--) {
            SnapshotMetadata metadata = chunks.get(i).metadata();
            if (chunks.get(i).last() && metadata.getIndex() == snapshot.getIndex()
                    && metadata.getTerm() == snapshot.getTerm()) {
                return i;
            }
        }
        throw new IllegalStateException("node " + node.id() + ": a Ready installs snapshot " + snapshot.getIndex() + "/"
                + snapshot.getTerm() + " but holds none of its last chunk among its " + chunks.size() + " chunks");
    }

    /**
     * The persist of a Ready is durable: send the acknowledgements and votes, hand on the rest
     * (unless a snapshot stepped in meanwhile covers it: see the class comment), advance.
     */
    private void finish(InFlight flight) {
        inFlight = null;
        Ready rd = flight.ready();
        send(rd.messagesAfterPersist());
        if (!flight.committedHandedOn() && !rd.committedEntries().isEmpty() && !node.readySupersededBySnapshot()) {
            handOn(rd.committedEntries());
        }
        node.advance();
    }

    /** See the class comment: a commit-only hard state waits for the next persist that is written anyway. */
    private HardState hardStateToWrite(Ready rd) {
        HardState hardState = rd.hardState();
        if (hardState != null && !rd.mustSync() && rd.entries().isEmpty()) {
            unwrittenHardState = hardState;
            return null;
        }
        if (hardState == null && !rd.entries().isEmpty()) {
            hardState = unwrittenHardState; // The newest hard state, as no Ready since had one.
        }
        if (hardState != null) {
            unwrittenHardState = null;
        }
        return hardState;
    }

    /**
     * Every entry before this Ready's first new entry was made durable by an earlier Ready (each
     * one finishes before the next starts), so committed entries below it may be applied now:
     * they are durable here, and committed means durable on a quorum.
     */
    private static boolean committedAreDurable(Ready rd) {
        if (rd.entries().isEmpty()) {
            return true;
        }
        long lastCommitted = rd.committedEntries().get(rd.committedEntries().size() - 1).getIndex();
        return lastCommitted < rd.entries().get(0).getIndex();
    }

    private void handOn(List<Entry> committed) {
        List<AppliedConfChange> changes = List.of();
        for (Entry entry : committed) {
            if (entry.getType() == EntryType.ENTRY_CONF_CHANGE) {
                if (changes.isEmpty()) {
                    changes = new ArrayList<>();
                }
                changes.add(applyConfChange(entry));
            }
        }
        io.apply(new CommittedEntries(committed, changes));
    }

    private AppliedConfChange applyConfChange(Entry entry) {
        ConfChange change;
        try {
            change = ConfChange.parseFrom(entry.getData());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("node " + node.id() + ": committed conf change at " + entry.getIndex()
                    + " does not parse", e);
        }
        try {
            return new AppliedConfChange(entry.getIndex(), entry.getTerm(), change, node.applyConfChange(change), null);
        } catch (IllegalArgumentException e) {
            // Refused the same way on every replica (the core checks against the same membership).
            return new AppliedConfChange(entry.getIndex(), entry.getTerm(), change, null, e.getMessage());
        }
    }

    private void send(List<Message> messages) {
        for (Message message : messages) {
            if (!io.send(message)) {
                node.reportUnreachable(message.getTo());
                if (message.getType() == MessageType.MSG_SNAP) {
                    node.reportSnapshotFailure(message.getTo());
                }
            }
        }
    }
}
