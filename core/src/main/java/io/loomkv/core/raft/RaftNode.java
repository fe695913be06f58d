package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.raft.tracker.Progress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One Raft node as a pure state machine (etcd's RawNode). It does no I/O and keeps no clock:
 * time arrives as {@link #tick()}, messages as {@link #step(Message)}, client intent as
 * {@link #propose(ByteString)}, {@link #readIndex(ByteString)}, {@link #proposeConfChange(ConfChange)}
 * and {@link #transferLeader(long)}. Its output is a {@link Ready}: see {@link #ready()} and the
 * package documentation for the loop that drives it.
 *
 * <p>Not thread-safe: exactly one thread (the group's Raft loop) owns a node.
 */
public final class RaftNode {
    private final Raft raft;
    private SoftState previousSoftState;
    private HardState previousHardState;
    private Ready outstanding;

    /**
     * Starts (or restarts) a node from {@code storage}: its hard state, membership, snapshot and
     * log. A new cluster member starts with an empty storage whose initial membership lists the
     * voters; a restarted one resumes from what it had persisted.
     */
    public RaftNode(RaftConfig config, Storage storage) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(storage, "storage");
        this.raft = new Raft(config, storage);
        this.previousSoftState = raft.softState();
        this.previousHardState = raft.hardState();
    }

    /** Advances the logical clock by one tick (elections, heartbeats, CheckQuorum, leases). */
    public void tick() {
        raft.tick();
    }

    /**
     * Starts an election now (with a pre-vote round if PreVote is on), as if the election timeout
     * passed. Meant for tests and bootstrapping: calling it while another node holds a lease
     * undermines lease-based reads (followers that saw no leader grant votes at once).
     */
    public void campaign() {
        raft.hup(raft.config().preVote() ? Raft.CampaignType.PRE_ELECTION : Raft.CampaignType.ELECTION);
    }

    /**
     * Handles a message from another node. A message that cannot come from a correct peer (no
     * sender, addressed elsewhere, unknown type, a term missing where Raft requires one, a
     * proposal without entries) is rejected with an {@link IllegalArgumentException} and changes
     * nothing; the runtime should log it and drop the connection it came from.
     */
    public void step(Message message) {
        Objects.requireNonNull(message, "message");
        validate(message);
        raft.step(message);
    }

    private void validate(Message m) {
        if (m.getTo() != raft.id()) {
            throw new IllegalArgumentException("message to " + m.getTo() + " stepped into node " + raft.id());
        }
        if (m.getFrom() <= 0 || m.getFrom() == raft.id()) {
            throw new IllegalArgumentException("message " + m.getType() + " has bad sender " + m.getFrom()
                    + " (node " + raft.id() + ")");
        }
        switch (m.getType()) {
            case MSG_PROPOSE -> {
                if (m.getEntriesCount() == 0) {
                    throw new IllegalArgumentException("forwarded proposal from " + m.getFrom() + " has no entries");
                }
            }
            case MSG_READ_INDEX -> {
                if (m.getContext().isEmpty()) {
                    throw new IllegalArgumentException("forwarded read from " + m.getFrom() + " has no context");
                }
            }
            case MSG_TRANSFER_LEADER -> {
                if (m.getIndex() <= 0) {
                    throw new IllegalArgumentException("transfer request from " + m.getFrom() + " names no node");
                }
            }
            case MSG_UNKNOWN, UNRECOGNIZED -> throw new IllegalArgumentException(
                    "message of unknown type " + m.getTypeValue() + " from " + m.getFrom());
            default -> {
                if (m.getTerm() == 0) {
                    throw new IllegalArgumentException(m.getType() + " from " + m.getFrom() + " carries no term");
                }
            }
        }
    }

    /**
     * Proposes {@code data} to be appended to the log. On a follower the proposal is forwarded to
     * the leader; it may still be lost, so the caller must watch for it to be applied (and retry
     * after a timeout).
     *
     * @throws RequestDroppedException if there is no leader, a transfer is in progress, or the
     *     uncommitted-bytes limit was reached
     * @throws IllegalArgumentException if {@code data} alone exceeds maxUncommittedEntriesBytes
     */
    public void propose(ByteString data) {
        Objects.requireNonNull(data, "data");
        if (data.size() > raft.config().maxUncommittedEntriesBytes()) {
            throw new IllegalArgumentException("proposal of " + data.size() + " bytes exceeds maxUncommittedEntriesBytes "
                    + raft.config().maxUncommittedEntriesBytes());
        }
        proposeEntry(Entry.newBuilder().setType(EntryType.ENTRY_NORMAL).setData(data).build());
    }

    /**
     * Proposes a membership change. When the entry commits, the runtime calls
     * {@link #applyConfChange(ConfChange)}. A leader accepts one change at a time and, in a
     * joint configuration, only the change that leaves it.
     *
     * @throws RequestDroppedException as for {@link #propose(ByteString)}, or if another change is pending
     */
    public void proposeConfChange(ConfChange change) {
        Objects.requireNonNull(change, "change");
        proposeEntry(Entry.newBuilder().setType(EntryType.ENTRY_CONF_CHANGE).setData(change.toByteString()).build());
    }

    private void proposeEntry(Entry entry) {
        raft.step(Message.newBuilder().setType(MessageType.MSG_PROPOSE).setFrom(raft.id()).setTo(raft.id())
                .addEntries(entry).build());
    }

    /**
     * Asks for a linearizable read. When leadership is confirmed (a heartbeat round, or a valid
     * lease), a {@link ReadState} with this {@code context} appears in a Ready: serve the read once
     * the applied index reaches its index. Contexts must be unique among pending reads. A read may
     * be lost (leader change): the caller times out and retries.
     *
     * @throws RequestDroppedException if there is no leader or too many reads are pending
     */
    public void readIndex(ByteString context) {
        Objects.requireNonNull(context, "context");
        if (context.isEmpty()) {
            throw new IllegalArgumentException("read context must not be empty");
        }
        raft.step(Message.newBuilder().setType(MessageType.MSG_READ_INDEX).setFrom(raft.id()).setTo(raft.id())
                .setContext(context).build());
    }

    /**
     * Asks the leader to hand leadership to {@code transferee}: it catches the target up, then sends
     * MSG_TIMEOUT_NOW; the transfer is abandoned after an election timeout. Proposals are refused
     * meanwhile.
     */
    public void transferLeader(long transferee) {
        raft.transferLeader(transferee);
    }

    /**
     * Applies a committed membership change (call it when applying the conf change entry) and
     * returns the new membership, which the runtime stores with its next snapshot. If a snapshot
     * was installed by a message stepped in since the current Ready was handed out, the entries of
     * that Ready are covered by it and this returns the snapshot's membership unchanged.
     *
     * @throws IllegalArgumentException if the change is not allowed from the current membership
     */
    public ConfState applyConfChange(ConfChange change) {
        Objects.requireNonNull(change, "change");
        return raft.applyConfChange(change);
    }

    /**
     * Whether a snapshot restored since the outstanding Ready was handed out (a snapshot message
     * stepped in while the runtime was still persisting that Ready) covers the Ready's committed
     * entries. A runtime that has not applied them yet must then not apply them: the snapshot,
     * installed by the next Ready, holds their effects, and their membership changes can no longer
     * be applied against the membership they were meant for ({@link #applyConfChange} would only
     * return the snapshot's, which a snapshot taken at their index would wrongly record).
     */
    public boolean readySupersededBySnapshot() {
        return outstanding != null && raft.readySupersededBySnapshot();
    }

    /** Reports that a message to {@code nodeId} could not be delivered. */
    public void reportUnreachable(long nodeId) {
        raft.reportUnreachable(nodeId);
    }

    /** Reports that a snapshot transfer to {@code nodeId} failed (the leader restarts it later). */
    public void reportSnapshotFailure(long nodeId) {
        raft.reportSnapshotFailure(nodeId);
    }

    /** Whether {@link #ready()} would return a non-empty Ready. False while a Ready is outstanding. */
    public boolean hasReady() {
        if (outstanding != null) {
            return false;
        }
        RaftLog log = raft.raftLog();
        return !raft.softState().equals(previousSoftState)
                || !raft.hardState().equals(previousHardState)
                || !log.unstableEntries().isEmpty()
                || log.unstable().snapshot() != null
                || raft.hasPendingOutput()
                || log.hasNextCommittedEntries();
    }

    /**
     * Collects what the runtime must do now. Call {@link #advance()} once it is done, before the
     * next {@code ready()}. {@link #tick()}, {@link #step(Message)} and the request methods may be
     * called in between; their output goes into the next Ready.
     *
     * @throws IllegalStateException if the previous Ready was not advanced
     */
    public Ready ready() {
        if (outstanding != null) {
            throw new IllegalStateException("ready() called again before advance() on node " + raft.id());
        }
        raft.flushBatchedBroadcasts();
        RaftLog log = raft.raftLog();
        SoftState soft = raft.softState();
        HardState hard = raft.hardState();
        List<Entry> committed = log.nextCommittedEntries(raft.config().maxCommittedSizePerReadyBytes());
        raft.reduceUncommittedSize(committed);
        List<Entry> entries = List.copyOf(log.unstableEntries());
        SnapshotMetadata snapshot = log.unstable().snapshot();
        boolean hardChanged = !hard.equals(previousHardState);
        boolean mustSync = !entries.isEmpty() || snapshot != null
                || hard.getTerm() != previousHardState.getTerm() || hard.getVote() != previousHardState.getVote();
        Ready rd = new Ready(
                soft.equals(previousSoftState) ? null : soft,
                hardChanged ? hard : null,
                entries,
                snapshot,
                raft.takeSnapshotChunks(),
                committed,
                raft.takeMessagesBeforePersist(),
                raft.takeMessagesAfterPersist(),
                raft.takeReadStates(),
                mustSync);
        previousSoftState = soft;
        outstanding = rd;
        raft.setReadyOutstanding(true);
        return rd;
    }

    /**
     * Takes the output that needs no local durability, at once, also while a Ready is outstanding:
     * a leader's appends and heartbeats (a leader may replicate entries before its own fsync; they
     * count for it only after {@link #advance()}), heartbeat responses (they vouch for the sender's
     * term, and a vote, not a heartbeat, is what must be durable), forwarded requests, and
     * confirmed ReadIndex reads. A runtime that keeps stepping while an fsync is in flight sends
     * this every turn, so replication and reads do not wait behind the fsync for the next Ready.
     * Append and vote responses, entries, hard state and committed entries still come only in a
     * Ready; what is taken here is not repeated there.
     */
    public EarlyOutput takeEarlyOutput() {
        raft.flushBatchedBroadcasts();
        return new EarlyOutput(raft.takeMessagesBeforePersist(), raft.takeReadStates());
    }

    /** Tells the node the last Ready was handled: its entries and hard state are durable, its entries applied. */
    public void advance() {
        Ready rd = outstanding;
        if (rd == null) {
            throw new IllegalStateException("advance() without an outstanding ready() on node " + raft.id());
        }
        outstanding = null;
        raft.setReadyOutstanding(false);
        if (rd.hardState() != null) {
            previousHardState = rd.hardState();
        }
        if (rd.snapshot() != null) {
            raft.onSnapshotPersisted(rd.snapshot().getIndex());
        }
        if (!rd.entries().isEmpty()) {
            Entry last = rd.entries().get(rd.entries().size() - 1);
            raft.onPersisted(last.getIndex(), last.getTerm());
        }
        if (!rd.committedEntries().isEmpty()) {
            raft.appliedTo(rd.committedEntries().get(rd.committedEntries().size() - 1).getIndex());
        }
    }

    /** The node's id. */
    public long id() {
        return raft.id();
    }

    /** The index of the last entry in the log (stable or not); cheaper than {@link #status()}. */
    public long lastIndex() {
        return raft.raftLog().lastIndex();
    }

    /** The current term; cheaper than {@link #status()}. */
    public long term() {
        return raft.term();
    }

    /** The highest index known to be committed; cheaper than {@link #status()}. */
    public long commitIndex() {
        return raft.raftLog().committed();
    }

    /** The current role and leader. */
    public SoftState softState() {
        return raft.softState();
    }

    /** Whether a lease read would be served without a round trip right now (LEASE_BASED only). */
    public boolean leaseValid() {
        return raft.config().readOnlyOption() == ReadOnlyOption.LEASE_BASED && raft.leaseValid();
    }

    /** A consistent picture of the node's state. */
    public Status status() {
        Map<Long, Status.FollowerProgress> progress = new TreeMap<>();
        if (raft.role() == Role.LEADER) {
            for (Map.Entry<Long, Progress> e : raft.tracker().progress().entrySet()) {
                Progress p = e.getValue();
                progress.put(e.getKey(), new Status.FollowerProgress(p.match(), p.next(), p.state(), p.isLearner()));
            }
        }
        RaftLog log = raft.raftLog();
        return new Status(raft.id(), raft.term(), raft.vote(), log.committed(), log.applied(), log.lastIndex(),
                raft.lead(), raft.role(), raft.leadTransferee(), raft.tracker().config().toConfState(), progress);
    }

    @Override
    public String toString() {
        return "RaftNode{id=" + raft.id() + ", term=" + raft.term() + ", role=" + raft.role() + ", lead=" + raft.lead()
                + ", " + raft.raftLog() + "}";
    }
}
