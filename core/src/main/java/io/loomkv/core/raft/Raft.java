package io.loomkv.core.raft;

// Why this file is long: it is the Raft state machine itself (etcd's raft.go). The rules for
// each role and message type refer to one another constantly (term checks, commit, reads,
// transfer, snapshots), and splitting them across classes would scatter one algorithm over
// many files that all mutate the same fields. Membership, quorum math, progress and the log
// already live in their own small classes.

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.confchange.Changer;
import io.loomkv.core.raft.confchange.Restore;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.raft.quorum.VoteResult;
import io.loomkv.core.raft.tracker.Progress;
import io.loomkv.core.raft.tracker.ProgressState;
import io.loomkv.core.raft.tracker.ProgressTracker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The Raft state machine. Package-private: the public face is {@link RaftNode}.
 *
 * <p>Over 1,200 lines on purpose: like etcd's raft.go it keeps the role step functions, elections
 * (PreVote, CheckQuorum), replication, ReadIndex and leadership transfer around one set of fields,
 * so every transition of the term, role and log can be read in one place. The parts with state of
 * their own are already out (log, progress tracking, quorum, conf changes, read-only queue).
 */
final class Raft {
    /** Context of a vote request sent because of MsgTimeoutNow: it overrides leases. */
    static final ByteString CAMPAIGN_TRANSFER = ByteString.copyFromUtf8("CampaignTransfer");

    enum CampaignType { PRE_ELECTION, ELECTION, TRANSFER }

    private final RaftConfig config;
    private final long id;
    private final RaftLog raftLog;
    private final Random random;
    private ProgressTracker tracker;

    private long term;
    private long vote;
    private long lead;
    private Role role = Role.FOLLOWER;
    private long leadTransferee;
    private long pendingConfIndex;
    private long uncommittedSizeBytes;

    private final ReadOnlyQueue readOnly;
    private final List<Message> pendingReadIndexMessages = new ArrayList<>();
    private boolean readBroadcastPending;
    /** Proposals were appended since the last Ready: send them out in one append per follower. */
    private boolean appendBroadcastPending;
    /** The commit index moved since the last Ready: tell followers, once per Ready. */
    private boolean commitBroadcastPending;
    private long leaseSuspendedUntilTick;

    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    /** Ticks since the node started: the leader's clock for leases. Starts at 1 so 0 means "never". */
    private long tickCount = 1;

    private final SnapshotReceiver snapshotReceiver;
    /** A Ready is handed out and not yet advanced (the runtime may step messages meanwhile). */
    private boolean readyOutstanding;
    /**
     * A snapshot was restored while a Ready was outstanding: its committed entries, which the
     * runtime is still applying, are all covered by the snapshot, whose membership already
     * includes their conf changes. Applying those again would corrupt the membership.
     */
    private boolean confChangesSupersededBySnapshot;

    private List<Message> messagesBeforePersist = new ArrayList<>();
    private List<Message> messagesAfterPersist = new ArrayList<>();
    private List<ReadState> readStates = new ArrayList<>();
    private List<SnapshotChunk> snapshotChunks = new ArrayList<>();

    Raft(RaftConfig config, Storage storage) {
        this.config = config;
        this.id = config.id();
        this.raftLog = new RaftLog(storage);
        // Mix the id in so that nodes configured with the same seed still time out differently.
        this.random = new Random(config.randomSeed() ^ (id * 0x9E3779B97F4A7C15L));
        this.readOnly = new ReadOnlyQueue(config.maxPendingReads());
        this.snapshotReceiver = new SnapshotReceiver(config.maxSnapshotSizeBytes(), config.maxSnapshotChunkBytes());
        this.tracker = new ProgressTracker(config.maxInflightAppends(), config.maxInflightBytes());
        InitialState initial = storage.initialState();
        Restore.restore(tracker, initial.confState(), raftLog.lastIndex());
        HardState hs = initial.hardState();
        if (!hs.equals(HardState.getDefaultInstance())) {
            loadState(hs);
        }
        if (config.appliedIndex() > 0) {
            raftLog.appliedTo(Math.min(config.appliedIndex(), raftLog.committed()));
        }
        becomeFollower(term, 0);
    }

    private void loadState(HardState hs) {
        if (hs.getCommit() < raftLog.committed() || hs.getCommit() > raftLog.lastIndex()) {
            throw new IllegalStateException("hard state commit " + hs.getCommit() + " is out of range ["
                    + raftLog.committed() + ", " + raftLog.lastIndex() + "]");
        }
        raftLog.commitTo(hs.getCommit());
        term = hs.getTerm();
        vote = hs.getVote();
    }

    // ---------------------------------------------------------------- accessors

    long id() { return id; }
    long term() { return term; }
    long vote() { return vote; }
    long lead() { return lead; }
    Role role() { return role; }
    long leadTransferee() { return leadTransferee; }
    RaftLog raftLog() { return raftLog; }
    ProgressTracker tracker() { return tracker; }
    RaftConfig config() { return config; }
    boolean readBroadcastPending() { return readBroadcastPending; }

    HardState hardState() {
        return HardState.newBuilder().setTerm(term).setVote(vote).setCommit(raftLog.committed()).build();
    }

    SoftState softState() {
        return new SoftState(lead, role);
    }

    boolean hasPendingOutput() {
        return !messagesBeforePersist.isEmpty() || !messagesAfterPersist.isEmpty() || !readStates.isEmpty()
                || !snapshotChunks.isEmpty() || readBroadcastPending || appendBroadcastPending
                || commitBroadcastPending;
    }

    List<Message> takeMessagesBeforePersist() {
        List<Message> m = messagesBeforePersist;
        messagesBeforePersist = new ArrayList<>();
        return m;
    }

    List<Message> takeMessagesAfterPersist() {
        List<Message> m = messagesAfterPersist;
        messagesAfterPersist = new ArrayList<>();
        return m;
    }

    List<ReadState> takeReadStates() {
        List<ReadState> r = readStates;
        readStates = new ArrayList<>();
        return r;
    }

    List<SnapshotChunk> takeSnapshotChunks() {
        List<SnapshotChunk> c = snapshotChunks;
        snapshotChunks = new ArrayList<>();
        return c;
    }

    // ---------------------------------------------------------------- sending

    private static boolean mustWaitForPersist(MessageType type) {
        return switch (type) {
            // Not MSG_HEARTBEAT_RESP: it claims nothing about the sender's log (a rejecting one
            // only lowers the leader's view of it: see handleHeartbeat), and the term it
            // carries is safe to vouch for before it is durable (a vote is what must be, and a
            // vote response waits). Holding it back made every ReadIndex read wait for a
            // follower's fsync (etcd's async-storage mode sends it early too).
            case MSG_APP_RESP, MSG_VOTE, MSG_VOTE_RESP, MSG_PRE_VOTE, MSG_PRE_VOTE_RESP, MSG_SNAP_RESP -> true;
            default -> false;
        };
    }

    private void send(Message.Builder m) {
        m.setFrom(id);
        MessageType type = m.getType();
        if (type == MessageType.MSG_VOTE || type == MessageType.MSG_VOTE_RESP || type == MessageType.MSG_PRE_VOTE
                || type == MessageType.MSG_PRE_VOTE_RESP) {
            if (m.getTerm() == 0) {
                throw new IllegalStateException("term should be set when sending " + type);
            }
        } else if (type == MessageType.MSG_PROPOSE || type == MessageType.MSG_READ_INDEX
                || type == MessageType.MSG_TRANSFER_LEADER) {
            // Forwarded requests carry no term: the leader treats them like local requests.
            m.setTerm(0);
        } else {
            if (m.getTerm() != 0) {
                throw new IllegalStateException("term should not be set when sending " + type + " (was " + m.getTerm() + ")");
            }
            m.setTerm(term);
        }
        if (m.getTo() == id) {
            throw new IllegalStateException("node " + id + " sending " + type + " to itself");
        }
        Message built = m.build();
        if (mustWaitForPersist(type)) {
            messagesAfterPersist.add(built);
        } else {
            messagesBeforePersist.add(built);
        }
    }

    void sendAppend(long to) {
        maybeSendAppend(to, true);
    }

    /** Sends an append (or a snapshot chunk) to {@code to} if its progress allows; true if sent. */
    boolean maybeSendAppend(long to, boolean sendIfEmpty) {
        Progress pr = tracker.get(to);
        if (pr == null || pr.isPaused()) {
            return false;
        }
        long prevIndex = pr.next() - 1;
        if (prevIndex < raftLog.firstIndex() - 1) {
            return maybeSendSnapshot(to, pr);
        }
        long prevTerm = raftLog.term(prevIndex);
        List<Entry> entries = List.of();
        // With a full window only an empty append goes out: if every append in flight was lost,
        // its ack or rejection still clears the window (heartbeat responses prompt it).
        if (pr.state() != ProgressState.REPLICATE || !pr.inflights().full()) {
            entries = raftLog.entries(pr.next(), config.maxEntriesPerAppend(), config.maxAppendSizeBytes());
        }
        if (entries.isEmpty() && !sendIfEmpty) {
            return false;
        }
        long bytes = 0;
        for (Entry e : entries) {
            bytes += e.getData().size();
        }
        send(Message.newBuilder().setType(MessageType.MSG_APP).setTo(to).setIndex(prevIndex).setLogTerm(prevTerm)
                .addAllEntries(entries).setCommit(raftLog.committed()));
        pr.sentEntries(entries.size(), bytes);
        // The follower commits up to what it can match: min(leader commit, last entry sent).
        pr.sentCommit(Math.min(raftLog.committed(), prevIndex + entries.size()));
        return true;
    }

    private boolean maybeSendSnapshot(long to, Progress pr) {
        if (!pr.recentActive()) {
            // Do not start a possibly large transfer to a node that may be down.
            return false;
        }
        SnapshotMetadata metadata;
        try {
            metadata = raftLog.storage().snapshotForTransfer();
        } catch (SnapshotTemporarilyUnavailableException notYet) {
            // The storage is writing one; the next heartbeat response brings us back here.
            return false;
        }
        if (metadata.getIndex() == 0 || metadata.getIndex() < raftLog.firstIndex() - 1) {
            // The runtime compacted the log beyond its newest snapshot: the discarded entries can
            // no longer reach anyone. Storage must only compact what a snapshot covers.
            throw new IllegalStateException("follower " + to + " needs index " + pr.next() + " below first index "
                    + raftLog.firstIndex() + " but the newest snapshot is at index " + metadata.getIndex());
        }
        pr.becomeSnapshot(metadata);
        sendSnapshotChunk(to, pr);
        return true;
    }

    private void sendSnapshotChunk(long to, Progress pr) {
        SnapshotMetadata metadata = pr.snapshotInTransfer();
        ByteString chunk;
        try {
            chunk = raftLog.storage().readSnapshotChunk(metadata, pr.snapshotOffsetBytes(), config.maxSnapshotChunkBytes());
        } catch (SnapshotUnavailableException replaced) {
            // A newer snapshot replaced the one in transfer: start over with it.
            try {
                metadata = raftLog.storage().snapshotForTransfer();
            } catch (SnapshotTemporarilyUnavailableException notYet) {
                // None to send until the storage writes one: stay in SNAPSHOT, and the next
                // heartbeat response comes back here.
                return;
            }
            pr.restartSnapshot(metadata);
            chunk = raftLog.storage().readSnapshotChunk(metadata, 0, config.maxSnapshotChunkBytes());
        }
        boolean done = pr.snapshotOffsetBytes() + chunk.size() >= metadata.getSizeBytes();
        send(Message.newBuilder().setType(MessageType.MSG_SNAP).setTo(to).setSnapshot(metadata)
                .setIndex(metadata.getIndex()).setSnapshotOffset(pr.snapshotOffsetBytes()).setSnapshotChunk(chunk)
                .setSnapshotDone(done));
        pr.sentSnapshotChunk(pr.snapshotOffsetBytes() + chunk.size());
    }

    private void sendHeartbeat(long to, ByteString context) {
        Progress pr = tracker.get(to);
        // A follower may not have the leader's commit index in its log yet: send what it matched.
        long commit = Math.min(pr.match(), raftLog.committed());
        pr.sentCommit(commit);
        Message.Builder m = Message.newBuilder().setType(MessageType.MSG_HEARTBEAT).setTo(to).setCommit(commit)
                .setLeaseTick(tickCount);
        if (context != null) {
            m.setContext(context);
        }
        send(m);
    }

    void bcastAppend() {
        for (long to : tracker.progress().keySet()) {
            if (to != id) {
                sendAppend(to);
            }
        }
    }

    private void bcastHeartbeat(ByteString context) {
        for (long to : tracker.progress().keySet()) {
            if (to != id) {
                sendHeartbeat(to, context);
            }
        }
    }

    /**
     * Sends what was batched since the last Ready: one append per follower for all proposals
     * (rather than one per proposal), and one heartbeat round for all reads.
     */
    void flushBatchedBroadcasts() {
        if ((appendBroadcastPending || commitBroadcastPending) && role == Role.LEADER) {
            for (long to : tracker.progress().keySet()) {
                if (to == id) {
                    continue;
                }
                boolean sent = false;
                while (maybeSendAppend(to, false)) {
                    sent = true;
                }
                if (!sent && commitBroadcastPending && tracker.get(to).canBumpCommit(raftLog.committed())) {
                    // Nothing new to send, but the follower should learn the commit index.
                    sendAppend(to);
                }
            }
        }
        appendBroadcastPending = false;
        commitBroadcastPending = false;
        flushReadBroadcast();
    }

    /** Sends one heartbeat round for every read queued since the last round (read batching). */
    private void flushReadBroadcast() {
        if (!readBroadcastPending) {
            return;
        }
        readBroadcastPending = false;
        if (role == Role.LEADER && readOnly.lastPendingContext() != null) {
            bcastHeartbeat(readOnly.lastPendingContext());
        }
    }

    private void sendTimeoutNow(long to) {
        send(Message.newBuilder().setType(MessageType.MSG_TIMEOUT_NOW).setTo(to));
        // The target may win a forced election at any moment now, overriding leases.
        leaseSuspendedUntilTick = tickCount + 2L * config.electionTimeoutTicks();
    }

    // ---------------------------------------------------------------- role transitions

    private void reset(long newTerm) {
        if (term != newTerm) {
            term = newTerm;
            vote = 0;
        }
        lead = 0;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        resetRandomizedElectionTimeout();
        abortLeaderTransfer();
        tracker.resetVotes();
        long lastIndex = raftLog.lastIndex();
        for (Map.Entry<Long, Progress> e : tracker.progress().entrySet()) {
            boolean learner = e.getValue().isLearner();
            long match = e.getKey() == id ? Math.min(raftLog.lastStableIndex(), lastIndex) : 0;
            e.setValue(new Progress(match, lastIndex + 1, config.maxInflightAppends(), config.maxInflightBytes(), learner));
        }
        pendingConfIndex = 0;
        uncommittedSizeBytes = 0;
        readOnly.clear();
        pendingReadIndexMessages.clear();
        readBroadcastPending = false;
        appendBroadcastPending = false;
        commitBroadcastPending = false;
    }

    private void resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = config.electionTimeoutTicks() + random.nextInt(config.electionTimeoutTicks());
    }

    void becomeFollower(long newTerm, long leader) {
        reset(newTerm);
        lead = leader;
        role = Role.FOLLOWER;
    }

    private void becomeCandidate() {
        if (role == Role.LEADER) {
            throw new IllegalStateException("invalid transition [leader -> candidate] at term " + term);
        }
        reset(term + 1);
        vote = id;
        role = Role.CANDIDATE;
    }

    private void becomePreCandidate() {
        if (role == Role.LEADER) {
            throw new IllegalStateException("invalid transition [leader -> pre-candidate] at term " + term);
        }
        // The term and vote stay: a pre-candidate changes nothing durable.
        tracker.resetVotes();
        lead = 0;
        role = Role.PRE_CANDIDATE;
    }

    private void becomeLeader() {
        if (role == Role.FOLLOWER) {
            throw new IllegalStateException("invalid transition [follower -> leader] at term " + term);
        }
        reset(term);
        lead = id;
        role = Role.LEADER;
        Progress self = tracker.get(id);
        self.becomeReplicate();
        self.setRecentActive(true);
        // Conf changes in the log before this point may be unapplied: refuse new ones until then.
        pendingConfIndex = raftLog.lastIndex();
        // The no-op entry: a leader commits entries of earlier terms only by committing one of its own.
        if (!appendEntries(List.of(Entry.getDefaultInstance()))) {
            throw new IllegalStateException("empty entry was dropped on becoming leader at term " + term);
        }
    }

    private boolean promotable() {
        Progress pr = tracker.get(id);
        return pr != null && !pr.isLearner() && tracker.isVoter(id) && raftLog.unstable().snapshot() == null;
    }

    // ---------------------------------------------------------------- ticks

    void tick() {
        tickCount++;
        if (role == Role.LEADER) {
            tickHeartbeat();
        } else {
            tickElection();
        }
    }

    private void tickElection() {
        electionElapsed++;
        if (promotable() && electionElapsed >= randomizedElectionTimeout) {
            electionElapsed = 0;
            hup(config.preVote() ? CampaignType.PRE_ELECTION : CampaignType.ELECTION);
        }
    }

    private void tickHeartbeat() {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= config.electionTimeoutTicks()) {
            electionElapsed = 0;
            if (config.checkQuorum() && !tracker.quorumActiveAndReset(id)) {
                becomeFollower(term, 0);
                return;
            }
            if (leadTransferee != 0) {
                // The transfer did not finish within an election timeout: give up on it.
                abortLeaderTransfer();
            }
        }
        if (role != Role.LEADER) {
            return;
        }
        if (heartbeatElapsed >= config.heartbeatTicks()) {
            heartbeatElapsed = 0;
            bcastHeartbeat(readOnly.lastPendingContext());
            if (readOnly.lastPendingContext() != null) {
                readBroadcastPending = false;
            }
        }
    }

    // ---------------------------------------------------------------- elections

    void hup(CampaignType type) {
        if (role == Role.LEADER) {
            return;
        }
        if (!promotable()) {
            return;
        }
        if (hasUnappliedConfChanges()) {
            // Its membership may be about to change: campaigning now could use the wrong quorum.
            return;
        }
        campaign(type);
    }

    private boolean hasUnappliedConfChanges() {
        long lo = raftLog.applied() + 1;
        long hi = raftLog.committed() + 1;
        lo = Math.max(lo, raftLog.firstIndex());
        while (lo < hi) {
            List<Entry> page = raftLog.slice(lo, hi, config.maxCommittedSizePerReadyBytes());
            for (Entry e : page) {
                if (e.getType() == EntryType.ENTRY_CONF_CHANGE) {
                    return true;
                }
            }
            lo += page.size();
        }
        return false;
    }

    private void campaign(CampaignType type) {
        long voteTerm;
        MessageType voteType;
        if (type == CampaignType.PRE_ELECTION) {
            becomePreCandidate();
            voteType = MessageType.MSG_PRE_VOTE;
            // A pre-vote asks about the term we would move to.
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            voteType = MessageType.MSG_VOTE;
            voteTerm = term;
        }
        if (tracker.recordVote(id, true) == VoteResult.WON) {
            // A single voter wins at once.
            if (type == CampaignType.PRE_ELECTION) {
                campaign(CampaignType.ELECTION);
            } else {
                becomeLeader();
            }
            return;
        }
        for (long voter : tracker.config().voters().ids()) {
            if (voter == id) {
                continue;
            }
            Message.Builder m = Message.newBuilder().setType(voteType).setTo(voter).setTerm(voteTerm)
                    .setIndex(raftLog.lastIndex()).setLogTerm(raftLog.lastTerm());
            if (type == CampaignType.TRANSFER) {
                m.setContext(CAMPAIGN_TRANSFER);
            }
            send(m);
        }
    }

    // ---------------------------------------------------------------- step

    void step(Message m) {
        if (m.getTerm() == 0) {
            // A local or forwarded request: no term to compare.
        } else if (m.getTerm() > term) {
            if (m.getType() == MessageType.MSG_VOTE || m.getType() == MessageType.MSG_PRE_VOTE) {
                boolean force = m.getContext().equals(CAMPAIGN_TRANSFER);
                boolean inLease = config.checkQuorum() && lead != 0 && electionElapsed < config.electionTimeoutTicks();
                if (!force && inLease) {
                    // We heard from a leader within the minimum election timeout: ignore (and keep leases safe).
                    return;
                }
            }
            if (m.getType() == MessageType.MSG_PRE_VOTE) {
                // A pre-vote never changes our term.
            } else if (m.getType() == MessageType.MSG_PRE_VOTE_RESP && !m.getReject()) {
                // A granted pre-vote carries the future term; we raise ours when a quorum granted.
            } else if (m.getType() == MessageType.MSG_APP || m.getType() == MessageType.MSG_HEARTBEAT
                    || m.getType() == MessageType.MSG_SNAP) {
                becomeFollower(m.getTerm(), m.getFrom());
            } else {
                becomeFollower(m.getTerm(), 0);
            }
        } else if (m.getTerm() < term) {
            if (m.getType() == MessageType.MSG_HEARTBEAT || m.getType() == MessageType.MSG_APP) {
                // A stale leader: tell it our term so that it steps down and a new election includes
                // us. etcd does this only with CheckQuorum/PreVote, counting on our vote requests to
                // carry the term otherwise; but a node whose (stale) membership does not list the
                // leader never sends it one, and would stay cut off (randomized seed 94788).
                send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()));
            } else if (m.getType() == MessageType.MSG_PRE_VOTE) {
                send(Message.newBuilder().setType(MessageType.MSG_PRE_VOTE_RESP).setTo(m.getFrom()).setTerm(term)
                        .setReject(true));
            }
            return;
        }

        switch (m.getType()) {
            case MSG_VOTE, MSG_PRE_VOTE -> handleVoteRequest(m);
            default -> {
                switch (role) {
                    case LEADER -> stepLeader(m);
                    case CANDIDATE, PRE_CANDIDATE -> stepCandidate(m);
                    case FOLLOWER -> stepFollower(m);
                }
            }
        }
    }

    private void handleVoteRequest(Message m) {
        boolean preVote = m.getType() == MessageType.MSG_PRE_VOTE;
        MessageType respType = preVote ? MessageType.MSG_PRE_VOTE_RESP : MessageType.MSG_VOTE_RESP;
        boolean canVote = vote == m.getFrom()
                || (vote == 0 && lead == 0)
                || (preVote && m.getTerm() > term);
        if (canVote && raftLog.isUpToDate(m.getIndex(), m.getLogTerm())) {
            // Reply with the request's term: for a pre-vote our own term is lower and would be ignored.
            send(Message.newBuilder().setType(respType).setTo(m.getFrom()).setTerm(m.getTerm()));
            if (!preVote) {
                electionElapsed = 0;
                vote = m.getFrom();
            }
        } else {
            send(Message.newBuilder().setType(respType).setTo(m.getFrom()).setTerm(term).setReject(true));
        }
    }

    private static boolean isLocal(Message m, long self) {
        return m.getFrom() == self || m.getFrom() == 0;
    }

    private void drop(Message m, String reason) {
        if (isLocal(m, id)) {
            throw new RequestDroppedException(reason);
        }
        // A forwarded request from another node: dropping is enough, that node's caller retries.
    }

    private void stepLeader(Message m) {
        switch (m.getType()) {
            case MSG_PROPOSE -> handlePropose(m);
            case MSG_READ_INDEX -> handleReadIndexAtLeader(m);
            case MSG_TRANSFER_LEADER -> handleTransferLeader(m);
            case MSG_APP_RESP -> handleAppendResponse(m);
            case MSG_HEARTBEAT_RESP -> handleHeartbeatResponse(m);
            case MSG_SNAP_RESP -> handleSnapshotResponse(m);
            default -> {
                // Other types (e.g. a delayed MSG_APP of our own term cannot exist) are ignored.
            }
        }
    }

    private void handlePropose(Message m) {
        if (m.getEntriesCount() == 0) {
            throw new IllegalArgumentException("proposal without entries from " + m.getFrom());
        }
        if (tracker.get(id) == null) {
            drop(m, "node " + id + " is no longer a member");
            return;
        }
        if (leadTransferee != 0) {
            drop(m, "leadership transfer to " + leadTransferee + " in progress at term " + term);
            return;
        }
        List<Entry> entries = new ArrayList<>(m.getEntriesList());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.getType() != EntryType.ENTRY_CONF_CHANGE) {
                continue;
            }
            String refusal = confChangeRefusal(e);
            if (refusal != null) {
                if (isLocal(m, id)) {
                    throw new RequestDroppedException(refusal);
                }
                entries.set(i, Entry.getDefaultInstance());
            }
        }
        long lastBefore = raftLog.lastIndex();
        if (!appendEntries(entries)) {
            drop(m, "too many uncommitted entry bytes (" + uncommittedSizeBytes + ", limit "
                    + config.maxUncommittedEntriesBytes() + ")");
            return;
        }
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).getType() == EntryType.ENTRY_CONF_CHANGE) {
                pendingConfIndex = lastBefore + i + 1;
            }
        }
        // Batched: the next Ready carries one append per follower for every proposal until then.
        appendBroadcastPending = true;
    }

    private String confChangeRefusal(Entry e) {
        ConfChange cc;
        try {
            cc = ConfChange.parseFrom(e.getData());
        } catch (InvalidProtocolBufferException ex) {
            throw new IllegalArgumentException("conf change entry does not hold a ConfChange: " + ex.getMessage(), ex);
        }
        boolean alreadyJoint = tracker.config().voters().isJoint();
        boolean wantsLeaveJoint = cc.getChangesCount() == 0;
        if (pendingConfIndex > raftLog.applied()) {
            return "possible unapplied conf change at index " + pendingConfIndex + " (applied to "
                    + raftLog.applied() + ")";
        }
        if (alreadyJoint && !wantsLeaveJoint) {
            return "must leave the joint config " + tracker.config().voters() + " before a new change";
        }
        if (!alreadyJoint && wantsLeaveJoint) {
            return "not in a joint config: nothing to leave";
        }
        return null;
    }

    /** Appends entries as leader, assigning term and index; false if over the uncommitted limit. */
    private boolean appendEntries(List<Entry> entries) {
        long bytes = 0;
        for (Entry e : entries) {
            bytes += e.getData().size();
        }
        // An empty entry (no-op, leave-joint) is always allowed, as in etcd.
        if (uncommittedSizeBytes > 0 && bytes > 0 && uncommittedSizeBytes + bytes > config.maxUncommittedEntriesBytes()) {
            return false;
        }
        uncommittedSizeBytes += bytes;
        long index = raftLog.lastIndex();
        List<Entry> stamped = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            index++;
            stamped.add(e.toBuilder().setTerm(term).setIndex(index).build());
        }
        raftLog.append(stamped);
        // Raft thesis 10.2.1: the leader counts itself only once its entries are durable (onPersisted).
        return true;
    }

    void reduceUncommittedSize(List<Entry> applied) {
        if (role != Role.LEADER) {
            return;
        }
        long bytes = 0;
        for (Entry e : applied) {
            bytes += e.getData().size();
        }
        uncommittedSizeBytes = Math.max(0, uncommittedSizeBytes - bytes);
    }

    private void handleAppendResponse(Message m) {
        Progress pr = tracker.get(m.getFrom());
        if (pr == null) {
            return;
        }
        pr.setRecentActive(true);
        if (m.getReject()) {
            long nextProbeIndex = m.getRejectHint();
            if (m.getRejectHintTerm() > 0) {
                // Skip every entry of terms the follower cannot have (fast backtracking).
                nextProbeIndex = raftLog.findConflictByTerm(m.getRejectHint(), m.getRejectHintTerm())[0];
            }
            if (pr.maybeDecreaseTo(m.getIndex(), nextProbeIndex)) {
                if (pr.state() == ProgressState.REPLICATE) {
                    pr.becomeProbe();
                }
                sendAppend(m.getFrom());
            }
            return;
        }
        boolean wasPaused = pr.isPaused();
        if (!(pr.maybeUpdate(m.getIndex()) || (pr.match() == m.getIndex() && pr.state() == ProgressState.PROBE))) {
            return;
        }
        switch (pr.state()) {
            case PROBE -> pr.becomeReplicate();
            case SNAPSHOT -> {
                if (pr.match() + 1 >= raftLog.firstIndex()) {
                    pr.becomeProbe();
                    pr.becomeReplicate();
                }
            }
            case REPLICATE -> pr.inflights().freeLessOrEqual(m.getIndex());
        }
        if (maybeCommit()) {
            onCommitAdvanced();
        } else if (wasPaused && pr.canBumpCommit(raftLog.committed())) {
            // It may have missed the commit index while paused.
            sendAppend(m.getFrom());
        }
        // Fill the pipeline window.
        while (maybeSendAppend(m.getFrom(), false)) {
            // keep sending
        }
        if (m.getFrom() == leadTransferee && pr.match() == raftLog.lastIndex()) {
            sendTimeoutNow(m.getFrom());
        }
    }

    private void handleHeartbeatResponse(Message m) {
        Progress pr = tracker.get(m.getFrom());
        if (pr == null) {
            return;
        }
        pr.setRecentActive(true);
        pr.setMsgAppFlowPaused(false);
        if (m.getReject() && m.getRejectHint() < pr.match()) {
            // The follower holds no log: a new replica in place of the one that matched (see
            // handleHeartbeat). It acknowledges nothing, so it is probed again from its end.
            pr.restartFrom(m.getRejectHint());
            sendAppend(m.getFrom());
            return;
        }
        if (m.getLeaseTick() > pr.leaseAckTick()) {
            pr.setLeaseAckTick(m.getLeaseTick());
        }
        if (pr.state() == ProgressState.SNAPSHOT) {
            // A chunk or its ack may have been lost: resend from the last acknowledged offset.
            if (pr.snapshotInTransfer() != null) {
                sendSnapshotChunk(m.getFrom(), pr);
            }
        } else if (pr.match() < raftLog.lastIndex() || pr.state() == ProgressState.PROBE) {
            sendAppend(m.getFrom());
        }
        if (m.getContext().isEmpty()) {
            return;
        }
        Set<Long> acks = readOnly.recvAck(m.getFrom(), m.getContext());
        if (acks == null) {
            return;
        }
        Map<Long, Boolean> votes = new HashMap<>();
        for (long ack : acks) {
            votes.put(ack, true);
        }
        if (tracker.config().voters().voteResult(votes) != VoteResult.WON) {
            return;
        }
        for (ReadOnlyQueue.Request r : readOnly.advance(m.getContext())) {
            respondToRead(r.from(), r.index(), r.context());
        }
    }

    private void handleSnapshotResponse(Message m) {
        Progress pr = tracker.get(m.getFrom());
        if (pr == null) {
            return;
        }
        pr.setRecentActive(true);
        if (pr.state() != ProgressState.SNAPSHOT || pr.snapshotInTransfer() == null
                || pr.snapshotInTransfer().getIndex() != m.getIndex()) {
            return;
        }
        if (m.getReject()) {
            // The follower refused this snapshot (too large, bad chunk): fall back to probing.
            pr.becomeProbe();
            pr.setMsgAppFlowPaused(true);
            return;
        }
        long offset = m.getSnapshotOffset();
        if (offset > pr.snapshotInTransfer().getSizeBytes()) {
            throw new IllegalStateException("follower " + m.getFrom() + " acknowledged offset " + offset
                    + " beyond snapshot size " + pr.snapshotInTransfer().getSizeBytes());
        }
        if (pr.snapshotAcknowledged(offset)) {
            sendSnapshotChunk(m.getFrom(), pr);
        }
    }

    /** MSG_TRANSFER_LEADER carries the transferee in {@code index} (from is whoever asked). */
    private void handleTransferLeader(Message m) {
        long transferee = m.getIndex();
        Progress pr = tracker.get(transferee);
        if (pr == null || pr.isLearner() || !tracker.isVoter(transferee)) {
            drop(m, "node " + transferee + " is not a voter and cannot lead");
            return;
        }
        if (leadTransferee != 0) {
            if (leadTransferee == transferee) {
                return;
            }
            abortLeaderTransfer();
        }
        if (transferee == id) {
            return;
        }
        // The transfer must finish within an election timeout (see tickHeartbeat).
        electionElapsed = 0;
        leadTransferee = transferee;
        if (pr.match() == raftLog.lastIndex()) {
            sendTimeoutNow(transferee);
        } else {
            sendAppend(transferee);
        }
    }

    /** Transfer to {@code transferee}, requested locally (from the node's own runtime). */
    void transferLeader(long transferee) {
        if (transferee <= 0) {
            throw new IllegalArgumentException("transferee must be a positive node id, got " + transferee);
        }
        Message.Builder m = Message.newBuilder().setType(MessageType.MSG_TRANSFER_LEADER).setIndex(transferee);
        if (role == Role.LEADER) {
            handleTransferLeader(m.setFrom(id).build());
            return;
        }
        if (lead == 0) {
            throw new RequestDroppedException("no leader at term " + term + " to transfer leadership from");
        }
        send(m.setTo(lead));
    }

    void abortLeaderTransfer() {
        leadTransferee = 0;
    }

    private void stepCandidate(Message m) {
        MessageType myVoteResp = role == Role.PRE_CANDIDATE ? MessageType.MSG_PRE_VOTE_RESP : MessageType.MSG_VOTE_RESP;
        switch (m.getType()) {
            case MSG_PROPOSE -> drop(m, "no leader at term " + term + " (campaigning)");
            case MSG_READ_INDEX -> drop(m, "no leader at term " + term + " (campaigning)");
            case MSG_TRANSFER_LEADER -> drop(m, "no leader at term " + term + " (campaigning)");
            case MSG_APP -> {
                becomeFollower(m.getTerm(), m.getFrom());
                handleAppend(m);
            }
            case MSG_HEARTBEAT -> {
                becomeFollower(m.getTerm(), m.getFrom());
                handleHeartbeat(m);
            }
            case MSG_SNAP -> {
                becomeFollower(m.getTerm(), m.getFrom());
                handleSnapshot(m);
            }
            case MSG_VOTE_RESP, MSG_PRE_VOTE_RESP -> {
                if (m.getType() != myVoteResp) {
                    return;
                }
                VoteResult result = tracker.recordVote(m.getFrom(), !m.getReject());
                if (result == VoteResult.WON) {
                    if (role == Role.PRE_CANDIDATE) {
                        campaign(CampaignType.ELECTION);
                    } else {
                        becomeLeader();
                        bcastAppend();
                    }
                } else if (result == VoteResult.LOST) {
                    // A rejection with a higher term already made us a follower in step().
                    becomeFollower(term, 0);
                }
            }
            default -> {
                // MSG_TIMEOUT_NOW to a candidate is ignored, as are stray responses.
            }
        }
    }

    private void stepFollower(Message m) {
        switch (m.getType()) {
            case MSG_PROPOSE -> {
                if (lead == 0) {
                    drop(m, "no leader at term " + term);
                    return;
                }
                send(m.toBuilder().setTo(lead));
            }
            case MSG_APP -> {
                electionElapsed = 0;
                lead = m.getFrom();
                handleAppend(m);
            }
            case MSG_HEARTBEAT -> {
                electionElapsed = 0;
                lead = m.getFrom();
                handleHeartbeat(m);
            }
            case MSG_SNAP -> {
                electionElapsed = 0;
                lead = m.getFrom();
                handleSnapshot(m);
            }
            case MSG_TRANSFER_LEADER -> {
                if (lead == 0) {
                    drop(m, "no leader at term " + term + " to transfer leadership from");
                    return;
                }
                send(m.toBuilder().setTo(lead));
            }
            case MSG_TIMEOUT_NOW -> hup(CampaignType.TRANSFER);
            case MSG_READ_INDEX -> {
                if (lead == 0) {
                    drop(m, "no leader at term " + term + " to confirm a read");
                    return;
                }
                send(m.toBuilder().setTo(lead));
            }
            case MSG_READ_INDEX_RESP -> readStates.add(new ReadState(m.getIndex(), m.getContext()));
            default -> {
                // Responses addressed to a former leader are ignored.
            }
        }
    }

    // ---------------------------------------------------------------- follower handlers

    private void handleAppend(Message m) {
        if (m.getIndex() < raftLog.committed()) {
            send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()).setIndex(raftLog.committed()));
            return;
        }
        long lastNew = raftLog.maybeAppend(m.getIndex(), m.getLogTerm(), m.getCommit(), m.getEntriesList());
        if (lastNew >= 0) {
            send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()).setIndex(lastNew));
            return;
        }
        // Reject, with a hint: the last index at or below the probe whose term is at most the
        // leader's term there. The leader can then skip whole terms instead of one entry per round.
        long hintIndex = Math.min(m.getIndex(), raftLog.lastIndex());
        long[] hint = raftLog.findConflictByTerm(hintIndex, m.getLogTerm());
        send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()).setIndex(m.getIndex())
                .setReject(true).setRejectHint(hint[0]).setRejectHintTerm(hint[1]));
    }

    private void handleHeartbeat(Message m) {
        if (m.getCommit() > raftLog.lastIndex() && (config.createdForLeader() || !tracker.config().voters().contains(id))) {
            // A replica its store created anew for this leader, possibly after retiring one the
            // leader's progress still counts (removed from the group, then added back; a response
            // of the retired one may even arrive after the leader started over: simulator seed
            // 7514), or a node that is not a voter in its own membership. The leader matched
            // entries this replica never held: say so, and it starts over from this replica's
            // end. Nothing is lost: every entry a new replica acknowledged is in its log, and a
            // non-voter's acknowledgements never counted towards a commit. Any other node that
            // lost acknowledged entries still fails below.
            send(Message.newBuilder().setType(MessageType.MSG_HEARTBEAT_RESP).setTo(m.getFrom()).setContext(m.getContext())
                    .setLeaseTick(m.getLeaseTick()).setReject(true).setRejectHint(raftLog.lastIndex()));
            return;
        }
        raftLog.commitTo(m.getCommit());
        send(Message.newBuilder().setType(MessageType.MSG_HEARTBEAT_RESP).setTo(m.getFrom()).setContext(m.getContext())
                .setLeaseTick(m.getLeaseTick()));
    }

    private void handleSnapshot(Message m) {
        SnapshotMetadata metadata = m.getSnapshot();
        if (metadata.getIndex() <= raftLog.committed()) {
            // We already have everything the snapshot holds: tell the leader where we are.
            snapshotReceiver.reset();
            send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()).setIndex(raftLog.committed()));
            return;
        }
        SnapshotReceiver.Result r = snapshotReceiver.receive(metadata, m.getSnapshotOffset(), m.getSnapshotChunk(),
                m.getSnapshotDone());
        switch (r.outcome()) {
            case INVALID -> send(snapshotResponse(m.getFrom(), metadata, 0).setReject(true));
            case OUT_OF_ORDER -> send(snapshotResponse(m.getFrom(), metadata, r.nextOffsetBytes()));
            case ACCEPTED -> {
                snapshotChunks.add(r.chunk());
                send(snapshotResponse(m.getFrom(), metadata, r.nextOffsetBytes()));
            }
            case COMPLETE -> {
                snapshotChunks.add(r.chunk());
                long ackIndex = restore(metadata) ? raftLog.lastIndex() : raftLog.committed();
                send(Message.newBuilder().setType(MessageType.MSG_APP_RESP).setTo(m.getFrom()).setIndex(ackIndex));
            }
        }
    }

    private static Message.Builder snapshotResponse(long to, SnapshotMetadata metadata, long offset) {
        return Message.newBuilder().setType(MessageType.MSG_SNAP_RESP).setTo(to).setIndex(metadata.getIndex())
                .setSnapshotOffset(offset);
    }

    /** Installs a fully received snapshot's metadata; false if it was stale or did not apply. */
    private boolean restore(SnapshotMetadata metadata) {
        if (metadata.getIndex() <= raftLog.committed()) {
            return false;
        }
        // Unlike etcd, a snapshot whose membership does not name us is accepted: the leader only
        // sends to members of its current configuration, so we were added by a conf change after
        // the snapshot, and the entries that follow it will make us a member again when applied.
        // (Refusing it would leave a node added after the leader's last snapshot unable to catch
        // up once the log before its addition has been compacted.)
        ConfState cs = metadata.getConfState();
        if (raftLog.matchTerm(metadata.getIndex(), metadata.getTerm())) {
            // We have the entry already: just fast-forward the commit index.
            raftLog.commitTo(metadata.getIndex());
            return false;
        }
        raftLog.restore(metadata);
        if (readyOutstanding) {
            confChangesSupersededBySnapshot = true;
        }
        ProgressTracker fresh = new ProgressTracker(config.maxInflightAppends(), config.maxInflightBytes());
        Restore.restore(fresh, cs, raftLog.lastIndex());
        tracker = fresh;
        return true;
    }

    // ---------------------------------------------------------------- commit, persist, apply

    private boolean maybeCommit() {
        return raftLog.maybeCommit(tracker.committed(), term);
    }

    private void onCommitAdvanced() {
        releasePendingReadIndexMessages();
        // Batched: one append per follower at the next Ready carries the new commit index.
        commitBroadcastPending = true;
    }

    /** Called once the runtime made entries up to (index, term) durable. */
    void onPersisted(long index, long entryTerm) {
        raftLog.stableTo(index, entryTerm);
        if (role != Role.LEADER) {
            return;
        }
        Progress self = tracker.get(id);
        if (self != null && self.maybeUpdate(Math.min(raftLog.lastStableIndex(), raftLog.lastIndex())) && maybeCommit()) {
            onCommitAdvanced();
        }
    }

    void onSnapshotPersisted(long index) {
        raftLog.stableSnapshotTo(index);
        if (raftLog.committed() >= index && raftLog.applied() < index) {
            raftLog.appliedTo(index);
        }
    }

    void appliedTo(long index) {
        raftLog.appliedTo(index);
        if (role == Role.LEADER && tracker.config().autoLeave() && index >= pendingConfIndex) {
            // The joint config is committed and applied: leave it, as the change asked.
            Entry leave = Entry.newBuilder().setType(EntryType.ENTRY_CONF_CHANGE)
                    .setData(ConfChange.getDefaultInstance().toByteString()).build();
            appendEntries(List.of(leave));
            pendingConfIndex = raftLog.lastIndex();
            bcastAppend();
        }
    }

    // ---------------------------------------------------------------- reads

    private boolean committedEntryInCurrentTerm() {
        return raftLog.term(raftLog.committed()) == term;
    }

    private void handleReadIndexAtLeader(Message m) {
        if (!committedEntryInCurrentTerm()) {
            // A new leader does not know the commit index until its no-op commits (thesis 6.4).
            if (pendingReadIndexMessages.size() >= config.maxPendingReads()) {
                drop(m, "too many reads waiting for the first commit of term " + term);
                return;
            }
            pendingReadIndexMessages.add(m);
            return;
        }
        serveReadIndex(m);
    }

    private void serveReadIndex(Message m) {
        long index = raftLog.committed();
        if (tracker.isSingleton()) {
            respondToRead(m.getFrom(), index, m.getContext());
            return;
        }
        if (config.readOnlyOption() == ReadOnlyOption.LEASE_BASED && leaseValid()) {
            respondToRead(m.getFrom(), index, m.getContext());
            return;
        }
        if (readOnly.contains(m.getContext())) {
            return;
        }
        if (readOnly.isFull()) {
            drop(m, "too many pending reads (" + readOnly.size() + ")");
            return;
        }
        readOnly.add(index, m.getFrom(), m.getContext());
        readOnly.recvAck(id, m.getContext());
        // Batched: one heartbeat round at the next Ready confirms every read queued until then.
        readBroadcastPending = true;
    }

    /** Whether a quorum acknowledged a heartbeat sent within the lease. */
    boolean leaseValid() {
        if (role != Role.LEADER || leadTransferee != 0 || tickCount < leaseSuspendedUntilTick) {
            return false;
        }
        long leaseStart = tracker.quorumLeaseTick(id, tickCount);
        return leaseStart > 0 && tickCount - leaseStart < config.leaseTicks();
    }

    private void respondToRead(long from, long index, ByteString context) {
        if (from == id || from == 0) {
            readStates.add(new ReadState(index, context));
        } else {
            send(Message.newBuilder().setType(MessageType.MSG_READ_INDEX_RESP).setTo(from).setIndex(index)
                    .setContext(context));
        }
    }

    private void releasePendingReadIndexMessages() {
        if (pendingReadIndexMessages.isEmpty() || !committedEntryInCurrentTerm()) {
            return;
        }
        List<Message> pending = new ArrayList<>(pendingReadIndexMessages);
        pendingReadIndexMessages.clear();
        for (Message m : pending) {
            try {
                serveReadIndex(m);
            } catch (RequestDroppedException full) {
                // A local read over the limit: dropped like a remote one; its caller times out.
            }
        }
    }

    // ---------------------------------------------------------------- membership

    /** Whether a snapshot restored while the outstanding Ready was out covers that Ready's committed entries. */
    boolean readySupersededBySnapshot() {
        return confChangesSupersededBySnapshot;
    }

    void setReadyOutstanding(boolean outstanding) {
        readyOutstanding = outstanding;
        if (!outstanding) {
            confChangesSupersededBySnapshot = false;
        }
    }

    ConfState applyConfChange(ConfChange cc) {
        if (confChangesSupersededBySnapshot) {
            // The entry predates a snapshot restored meanwhile; its effect is in that snapshot.
            return tracker.config().toConfState();
        }
        Changer changer = new Changer(tracker, raftLog.lastIndex());
        Changer.Result result;
        if (cc.getChangesCount() == 0) {
            result = changer.leaveJoint();
        } else if (cc.getTransition() != io.loomkv.core.raft.proto.ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO
                || cc.getChangesCount() > 1) {
            boolean autoLeave = cc.getTransition()
                    != io.loomkv.core.raft.proto.ConfChangeTransition.CONF_CHANGE_TRANSITION_JOINT_EXPLICIT;
            result = changer.enterJoint(autoLeave, cc.getChangesList());
        } else {
            result = changer.simple(cc.getChangesList());
        }
        tracker.apply(result.config(), result.progress());
        switchToConfig();
        return tracker.config().toConfState();
    }

    private void switchToConfig() {
        if (role == Role.LEADER && !tracker.isVoter(id)) {
            // Removed or demoted leader: the change is committed, so step down (thesis 4.2.2); the
            // remaining voters elect a new leader.
            becomeFollower(term, 0);
            return;
        }
        if (role != Role.LEADER || tracker.config().voters().incoming().isEmpty()) {
            return;
        }
        if (maybeCommit()) {
            onCommitAdvanced();
        } else {
            for (long to : tracker.progress().keySet()) {
                if (to != id) {
                    maybeSendAppend(to, false);
                }
            }
        }
        if (leadTransferee != 0 && !tracker.isVoter(leadTransferee)) {
            abortLeaderTransfer();
        }
    }

    /** Reports that {@code to} could not be reached: stop pipelining to it. */
    void reportUnreachable(long to) {
        Progress pr = tracker.get(to);
        if (role == Role.LEADER && pr != null && pr.state() == ProgressState.REPLICATE) {
            pr.becomeProbe();
        }
    }

    /** Reports that sending a snapshot to {@code to} failed: fall back to probing (and retry later). */
    void reportSnapshotFailure(long to) {
        Progress pr = tracker.get(to);
        if (role == Role.LEADER && pr != null && pr.state() == ProgressState.SNAPSHOT) {
            pr.becomeProbe();
            // Wait for a heartbeat response before probing again, as etcd does.
            pr.setMsgAppFlowPaused(true);
        }
    }
}
