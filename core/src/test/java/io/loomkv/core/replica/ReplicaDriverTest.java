package io.loomkv.core.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.Role;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The rules of {@link ReplicaDriver}, one by one, with a real {@link RaftNode} on a
 * {@link MemoryStorage} and a {@link ScriptedReplicaIo} whose writes become durable when the test
 * says. The seeded simulator runs the same driver under faults; these pin each ordering down.
 */
class ReplicaDriverTest {

    private static final long TERM = 1;
    private static final List<Long> THREE = List.of(1L, 2L, 3L);

    private static RaftConfig.Builder config(long id) {
        return RaftConfig.builder(id).electionTimeoutTicks(10).heartbeatTicks(1).randomSeed(42).preVote(false)
                .checkQuorum(false);
    }

    /** A driven replica and its scripted I/O. */
    private record Replica(ReplicaDriver driver, ScriptedReplicaIo io) {
        RaftNode node() {
            return driver.node();
        }

        /** A turn with no ticks and these messages. */
        boolean step(Message... messages) {
            ArrayDeque<Message> inbox = new ArrayDeque<>(List.of(messages));
            return driver.turn(0, inbox::poll, ReplicaInputs.NONE);
        }
    }

    private static Replica replica(long id, List<Long> voters, RaftConfig.Builder config) {
        MemoryStorage storage = MemoryStorage.bootstrap(voters);
        ScriptedReplicaIo io = new ScriptedReplicaIo(storage);
        return new Replica(io.driver(new RaftNode(config.build(), storage)), io);
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFromUtf8(text);
    }

    private static Entry entry(long index, String data) {
        return Entry.newBuilder().setIndex(index).setTerm(TERM).setData(bytes(data)).build();
    }

    private static Message fromLeader(MessageType type) {
        return Message.newBuilder().setType(type).setFrom(1).setTo(2).setTerm(TERM).build();
    }

    /** An append from leader 1 to follower 2 in term 1. */
    private static Message append(long prevIndex, long commit, Entry... entries) {
        return fromLeader(MessageType.MSG_APP).toBuilder().setIndex(prevIndex).setLogTerm(prevIndex == 0 ? 0 : TERM)
                .addAllEntries(List.of(entries)).setCommit(commit).build();
    }

    private static Message heartbeat(long commit, String context) {
        Message.Builder heartbeat = fromLeader(MessageType.MSG_HEARTBEAT).toBuilder().setCommit(commit);
        if (context != null) {
            heartbeat.setContext(bytes(context));
        }
        return heartbeat.build();
    }

    private static Message toLeader(long from, MessageType type) {
        return Message.newBuilder().setType(type).setFrom(from).setTo(1).setTerm(TERM).build();
    }

    /** Node 1 of {1, 2, 3}, elected in term 1 with its empty entry committed; writes durable at once. */
    private static Replica leaderOfThree(RaftConfig.Builder config) {
        Replica leader = replica(1, THREE, config);
        leader.node().campaign();
        leader.driver().process(true);
        leader.step(toLeader(2, MessageType.MSG_VOTE_RESP));
        assertEquals(Role.LEADER, leader.node().softState().role());
        leader.step(toLeader(2, MessageType.MSG_APP_RESP).toBuilder().setIndex(1).build(),
                toLeader(3, MessageType.MSG_APP_RESP).toBuilder().setIndex(1).build());
        assertEquals(1, leader.node().status().commitIndex());
        leader.io().sent.clear();
        return leader;
    }

    private static boolean carries(Message message, String data) {
        return message.getEntriesList().stream().anyMatch(e -> e.getData().equals(bytes(data)));
    }

    // ---- durability before acknowledgement ----

    @Test
    void voteAndAppendResponsesAreSentOnlyOnceThePersistIsDurable() {
        Replica follower = replica(2, THREE, config(2));
        follower.io().syncAtOnce = false;
        follower.step(Message.newBuilder().setType(MessageType.MSG_VOTE).setFrom(1).setTo(2).setTerm(TERM).build());
        assertTrue(follower.driver().persistInFlight());
        assertEquals(1, follower.io().lastWrite().hardState.getVote());
        assertTrue(follower.io().sent(MessageType.MSG_VOTE_RESP).isEmpty(), "vote sent before the vote was durable");
        follower.io().completeWrites();
        assertTrue(follower.driver().hasWork());
        follower.driver().process(false);
        assertEquals(1, follower.io().sent(MessageType.MSG_VOTE_RESP).size());
        assertFalse(follower.driver().persistInFlight());

        follower.step(append(0, 0, entry(1, "a")));
        assertTrue(follower.io().sent(MessageType.MSG_APP_RESP).isEmpty(), "append acknowledged before it was durable");
        follower.io().completeWrites();
        follower.driver().process(false);
        List<Message> acks = follower.io().sent(MessageType.MSG_APP_RESP);
        assertEquals(1, acks.size());
        assertEquals(1, acks.get(0).getIndex());
    }

    @Test
    void aLeaderSendsItsAppendsBeforeItsOwnPersistIsDurable() {
        Replica leader = leaderOfThree(config(1));
        leader.io().syncAtOnce = false;
        leader.node().propose(bytes("x"));
        leader.driver().process(true);
        assertTrue(leader.driver().persistInFlight());
        assertFalse(leader.io().lastWrite().durable);
        List<Message> appends = leader.io().sent(MessageType.MSG_APP);
        assertEquals(List.of(2L, 3L), appends.stream().map(Message::getTo).sorted().toList());
        assertTrue(appends.stream().allMatch(m -> carries(m, "x")), appends.toString());
    }

    // ---- early output while a persist is in flight ----

    @Test
    void aLeaderReplicatesNewProposalsWhileItsPersistIsInFlight() {
        Replica leader = leaderOfThree(config(1));
        leader.io().syncAtOnce = false;
        leader.node().propose(bytes("x"));
        leader.driver().process(true);
        int writes = leader.io().writes.size();
        leader.io().sent.clear();
        leader.node().propose(bytes("y"));
        leader.driver().process(true);
        assertTrue(leader.io().sent(MessageType.MSG_APP).stream().allMatch(m -> carries(m, "y")));
        assertEquals(2, leader.io().sent(MessageType.MSG_APP).size(), "y not sent while x's persist is in flight");
        assertEquals(writes, leader.io().writes.size(), "y must wait for the next Ready's persist");
        leader.io().completeWrites();
        leader.driver().process(false);
        assertTrue(leader.io().lastWrite().entries.stream().anyMatch(e -> e.getData().equals(bytes("y"))),
                "y persisted by the next Ready");
    }

    @Test
    void aFollowerAnswersHeartbeatsWhileItsPersistIsInFlight() {
        Replica follower = replica(2, THREE, config(2));
        follower.io().syncAtOnce = false;
        follower.step(append(0, 0, entry(1, "a")));
        assertTrue(follower.driver().persistInFlight());
        follower.step(heartbeat(0, "read-1"));
        List<Message> responses = follower.io().sent(MessageType.MSG_HEARTBEAT_RESP);
        assertEquals(1, responses.size());
        assertEquals(bytes("read-1"), responses.get(0).getContext());
        assertTrue(follower.io().sent(MessageType.MSG_APP_RESP).isEmpty());
    }

    @Test
    void readsConfirmedWhileAPersistIsInFlightAreHandedOnAtOnce() {
        Replica leader = leaderOfThree(config(1));
        leader.io().syncAtOnce = false;
        leader.node().propose(bytes("x"));
        leader.driver().process(true);
        leader.io().sent.clear();
        leader.node().readIndex(bytes("r"));
        leader.driver().process(true);
        List<Message> heartbeats = leader.io().sent(MessageType.MSG_HEARTBEAT);
        assertEquals(2, heartbeats.size());
        leader.step(toLeader(2, MessageType.MSG_HEARTBEAT_RESP).toBuilder().setContext(bytes("r")).build());
        assertTrue(leader.driver().persistInFlight());
        assertEquals(1, leader.io().reads.size(), "read not confirmed while the persist was in flight");
        assertEquals(bytes("r"), leader.io().reads.get(0).context());
    }

    // ---- hard states ----

    @Test
    void aCommitOnlyHardStateIsNotWrittenOnItsOwnButWithTheNextPersist() {
        Replica follower = replica(2, THREE, config(2));
        follower.step(append(0, 0, entry(1, "a")));
        int writes = follower.io().writes.size();
        follower.step(heartbeat(1, null));
        assertEquals(List.of(entry(1, "a")), follower.io().appliedEntries(), "the commit reached the apply stage");
        assertEquals(writes, follower.io().writes.size(), "a commit-only hard state was written on its own");
        follower.step(append(1, 1, entry(2, "b")));
        ScriptedReplicaIo.Write next = follower.io().lastWrite();
        assertEquals(List.of(entry(2, "b")), next.entries);
        assertNotNull(next.hardState, "the held-back hard state rides with the next persist");
        assertEquals(1, next.hardState.getCommit());
    }

    // ---- hand-off of committed entries ----

    @Test
    void committedEntriesDurableBeforeAReadyAreHandedOnBeforeItsPersistCompletes() {
        Replica follower = replica(2, THREE, config(2));
        follower.step(append(0, 0, entry(1, "a"), entry(2, "b")));
        follower.io().syncAtOnce = false;
        follower.step(append(2, 2, entry(3, "c")));
        assertTrue(follower.driver().persistInFlight());
        assertEquals(List.of(entry(1, "a"), entry(2, "b")), follower.io().appliedEntries());
    }

    @Test
    void committedEntriesAmongAReadysOwnNewEntriesWaitForItsPersist() {
        Replica follower = replica(2, THREE, config(2));
        follower.step(append(0, 0, entry(1, "a")));
        follower.io().syncAtOnce = false;
        follower.step(append(1, 2, entry(2, "b")));
        assertTrue(follower.driver().persistInFlight());
        assertTrue(follower.io().applied.isEmpty(), "entry 2 handed on before it was durable here");
        follower.io().completeWrites();
        follower.driver().process(false);
        assertEquals(List.of(entry(1, "a"), entry(2, "b")), follower.io().appliedEntries());
    }

    @Test
    void committedEntriesASnapshotRestoredMeanwhileCoversAreNotHandedOn() {
        Replica follower = replica(2, THREE, config(2));
        follower.io().syncAtOnce = false;
        Entry learner = Entry.newBuilder().setIndex(2).setTerm(TERM).setType(EntryType.ENTRY_CONF_CHANGE)
                .setData(addLearner(4).toByteString()).build();
        follower.step(append(0, 2, entry(1, "a"), learner));
        assertTrue(follower.driver().persistInFlight());
        ConfState later = ConfState.newBuilder().addAllVoters(THREE).addLearners(4).addLearners(5).build();
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder().setIndex(5).setTerm(TERM).setConfState(later)
                .setSizeBytes(4).build();
        follower.step(fromLeader(MessageType.MSG_SNAP).toBuilder().setSnapshot(snapshot).setSnapshotOffset(0)
                .setSnapshotChunk(bytes("data")).setSnapshotDone(true).build());
        assertTrue(follower.node().readySupersededBySnapshot());
        follower.io().completeWrites();
        follower.driver().process(false);
        assertTrue(follower.io().applied.isEmpty(),
                "entries the snapshot covers were handed on, their conf change with the snapshot's membership: "
                        + follower.io().applied);
        assertEquals(List.of(snapshot), follower.io().installed);
        follower.io().completeWrites();
        follower.driver().process(false);
        assertEquals(later, follower.node().status().confState());
    }

    private static Message snapshotChunk(long index, long offsetBytes, String data, int sizeBytes, boolean done) {
        SnapshotMetadata metadata = SnapshotMetadata.newBuilder().setIndex(index).setTerm(TERM)
                .setConfState(ConfState.newBuilder().addAllVoters(THREE)).setSizeBytes(sizeBytes).build();
        return fromLeader(MessageType.MSG_SNAP).toBuilder().setSnapshot(metadata).setSnapshotOffset(offsetBytes)
                .setSnapshotChunk(bytes(data)).setSnapshotDone(done).build();
    }

    /**
     * One turn steps the last chunk of a snapshot and the first chunk of a newer one (the leader
     * compacted past the first and started over): the first is installed right after its last
     * chunk, before the newer transfer's chunk is staged (randomized seed 203133).
     */
    @Test
    void aSnapshotIsInstalledRightAfterItsLastChunkWhenANewTransferFollowsInTheSameReady() {
        Replica follower = replica(2, THREE, config(2));
        follower.step(snapshotChunk(5, 0, "aaaa", 4, true), snapshotChunk(8, 0, "bb", 4, false));
        assertEquals(List.of("stage 5@0", "install 5", "stage 8@0"), follower.io().snapshotCalls);
        assertEquals(5, follower.io().storage.snapshotMetadata().getIndex());
        assertEquals(bytes("aaaa"), follower.io().storage.snapshotData());
        follower.step(snapshotChunk(8, 2, "cc", 4, true));
        assertEquals(List.of("stage 5@0", "install 5", "stage 8@0", "stage 8@2", "install 8"),
                follower.io().snapshotCalls);
        assertEquals(bytes("bbcc"), follower.io().storage.snapshotData());
    }

    // ---- membership changes ----

    private static ConfChange addLearner(long id) {
        return simple(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, id);
    }

    private static ConfChange simple(ConfChangeType type, long id) {
        return ConfChange.newBuilder().addChanges(ConfChangeSingle.newBuilder().setType(type).setNodeId(id)).build();
    }

    /** Node 1, the only voter, leading term 1. */
    private static Replica soleLeader() {
        Replica leader = replica(1, List.of(1L), config(1));
        leader.node().campaign();
        leader.driver().process(true);
        assertEquals(Role.LEADER, leader.node().softState().role());
        return leader;
    }

    @Test
    void confChangesAreAppliedToTheNodeWhenHandedOn() {
        Replica leader = soleLeader();
        List<ConfState> seenAtHandOff = new ArrayList<>();
        leader.io().onApply = committed -> seenAtHandOff.add(leader.node().status().confState());
        leader.node().proposeConfChange(addLearner(2));
        leader.driver().process(true);
        AppliedConfChange applied = leader.io().applied.stream().flatMap(c -> c.confChanges().stream())
                .findFirst().orElseThrow();
        assertFalse(applied.refused());
        assertEquals(List.of(2L), applied.after().getLearnersList());
        assertEquals(applied.after(), seenAtHandOff.get(seenAtHandOff.size() - 1),
                "the node did not have the change when the entry was handed on");
    }

    @Test
    void aRefusedConfChangeCarriesItsReason() {
        Replica leader = soleLeader();
        leader.node().proposeConfChange(simple(ConfChangeType.CONF_CHANGE_REMOVE_NODE, 1));
        leader.driver().process(true);
        AppliedConfChange refused = leader.io().applied.stream().flatMap(c -> c.confChanges().stream())
                .findFirst().orElseThrow();
        assertTrue(refused.refused());
        assertTrue(refused.refusal().contains("removed all voters"), refused.refusal());
        assertEquals(List.of(1L), leader.node().status().confState().getVotersList());
    }

    // ---- failures and bounds ----

    @Test
    void aFailedPersistPropagates() {
        Replica leader = soleLeader();
        leader.io().syncAtOnce = false;
        leader.node().propose(bytes("x"));
        leader.driver().process(true);
        IllegalStateException fsyncFailed = new IllegalStateException("fsync failed");
        leader.io().lastWrite().failure = fsyncFailed;
        assertSame(fsyncFailed, assertThrows(IllegalStateException.class, () -> leader.driver().process(false)));
        assertSame(fsyncFailed, assertThrows(IllegalStateException.class, () -> leader.driver().hasWork()));
    }

    @Test
    void dueTicksAreSteppedBeforeTheTurnsMessages() {
        Replica follower = replica(2, THREE, config(2));
        follower.step(heartbeat(0, null));
        assertEquals(Role.FOLLOWER, follower.node().softState().role());
        List<Role> roleAtFirstMessage = new ArrayList<>();
        ArrayDeque<Message> inbox = new ArrayDeque<>(List.of(heartbeat(0, null)));
        follower.driver().turn(20, () -> {
            if (roleAtFirstMessage.isEmpty()) {
                roleAtFirstMessage.add(follower.node().softState().role());
            }
            return inbox.poll();
        }, ReplicaInputs.NONE);
        assertEquals(List.of(Role.CANDIDATE), roleAtFirstMessage,
                "two election timeouts had passed: the follower campaigns before it looks at the old heartbeat");
    }

    /** A leader frozen for longer than its lease must not serve a read from it when it runs again. */
    @Test
    void aFrozenLeadersLeaseHasRunOutBeforeTheTurnsReads() {
        Replica leader = leaderOfThree(config(1).checkQuorum(true).leaseReads(6));
        leader.driver().turn(1, () -> null, ReplicaInputs.NONE);
        for (Message beat : leader.io().sent(MessageType.MSG_HEARTBEAT)) {
            leader.step(Message.newBuilder().setType(MessageType.MSG_HEARTBEAT_RESP).setFrom(beat.getTo()).setTo(1)
                    .setTerm(TERM).setLeaseTick(beat.getLeaseTick()).build());
        }
        assertTrue(leader.node().leaseValid(), "the leader should hold a lease after a heartbeat round");
        boolean[] leaseAtInputs = {true};
        leader.driver().turn(20, () -> null, node -> {
            leaseAtInputs[0] = node.leaseValid();
            return false;
        });
        assertFalse(leaseAtInputs[0], "the turn's inputs saw a lease that the due ticks had ended");
    }

    @Test
    void aTurnStepsAtMostMaxMessagesPerTurn() {
        Replica follower = replica(2, THREE, config(2));
        ArrayDeque<Message> inbox = new ArrayDeque<>();
        for (int i = 0; i < ReplicaDriver.MAX_MESSAGES_PER_TURN + 5; i++) {
            inbox.add(heartbeat(0, null));
        }
        follower.driver().turn(0, inbox::poll, ReplicaInputs.NONE);
        assertEquals(5, inbox.size());
        assertEquals(ReplicaDriver.MAX_MESSAGES_PER_TURN, follower.io().sent(MessageType.MSG_HEARTBEAT_RESP).size());
    }

    @Test
    void aMessageTheCoreRefusesIsReportedAndTheTurnGoesOn() {
        Replica follower = replica(2, THREE, config(2));
        Message misaddressed = heartbeat(0, null).toBuilder().setTo(3).build();
        follower.step(misaddressed, append(0, 0, entry(1, "a")));
        assertEquals(List.of(misaddressed), follower.io().rejected);
        assertEquals(1, follower.io().sent(MessageType.MSG_APP_RESP).size());
    }
}
