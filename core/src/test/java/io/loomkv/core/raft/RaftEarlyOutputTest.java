package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link RaftNode#takeEarlyOutput()}: what a runtime may send while a Ready's persist is in flight,
 * and what must still wait for the next Ready.
 */
class RaftEarlyOutputTest {

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static boolean carries(Message m, String data) {
        return m.getEntriesList().stream().map(Entry::getData).anyMatch(b(data)::equals);
    }

    @Test
    void aLeaderReplicatesNewEntriesWhileItsPersistIsInFlight() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        RaftNode leader = c.node(1);
        leader.propose(b("first"));
        Ready inFlight = leader.ready();
        assertFalse(inFlight.entries().isEmpty());
        leader.propose(b("second"));
        EarlyOutput early = leader.takeEarlyOutput();
        List<Message> appends = early.messages().stream().filter(m -> m.getType() == MessageType.MSG_APP).toList();
        assertEquals(List.of(2L, 3L), appends.stream().map(Message::getTo).sorted().toList());
        assertTrue(appends.stream().allMatch(m -> carries(m, "second")), appends.toString());
        assertTrue(leader.takeEarlyOutput().isEmpty(), "taken once");
        leader.advance();
        Ready next = leader.ready();
        assertTrue(next.entries().stream().anyMatch(e -> e.getData().equals(b("second"))), "the entry is still persisted");
        assertTrue(next.messagesBeforePersist().stream().noneMatch(m -> carries(m, "second")), "and not sent twice");
        leader.advance();
    }

    @Test
    void aFollowerAnswersHeartbeatsButNotAppendsBeforeItsPersist() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        RaftNode leader = c.node(1);
        RaftNode follower = c.node(2);
        leader.propose(b("x"));
        Ready leaderReady = leader.ready();
        Message append = leaderReady.messagesBeforePersist().stream()
                .filter(m -> m.getType() == MessageType.MSG_APP && m.getTo() == 2).findFirst().orElseThrow();
        follower.step(append);
        Ready followerReady = follower.ready(); // Its persist is now "in flight".
        assertTrue(followerReady.messagesAfterPersist().stream().anyMatch(m -> m.getType() == MessageType.MSG_APP_RESP));
        assertTrue(followerReady.messagesBeforePersist().stream().noneMatch(m -> m.getType() == MessageType.MSG_APP_RESP));
        var status = leader.status();
        follower.step(Message.newBuilder().setType(MessageType.MSG_HEARTBEAT).setFrom(1).setTo(2).setTerm(status.term())
                .setCommit(Math.min(status.commitIndex(), follower.status().commitIndex())).setContext(b("read-1")).build());
        EarlyOutput early = follower.takeEarlyOutput();
        assertEquals(1, early.messages().size(), early.messages().toString());
        Message response = early.messages().get(0);
        assertEquals(MessageType.MSG_HEARTBEAT_RESP, response.getType());
        assertEquals(b("read-1"), response.getContext());
        follower.advance();
        leader.advance();
    }

    @Test
    void aReadIndexIsBroadcastAndConfirmedWhileThePersistIsInFlight() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        RaftNode leader = c.node(1);
        leader.propose(b("w"));
        leader.ready(); // In flight.
        leader.readIndex(b("r"));
        List<Message> heartbeats = leader.takeEarlyOutput().messages().stream()
                .filter(m -> m.getType() == MessageType.MSG_HEARTBEAT).toList();
        assertEquals(2, heartbeats.size());
        Message toTwo = heartbeats.stream().filter(m -> m.getTo() == 2).findFirst().orElseThrow();
        c.node(2).step(toTwo);
        Message ack = c.node(2).takeEarlyOutput().messages().get(0);
        leader.step(ack);
        EarlyOutput early = leader.takeEarlyOutput();
        assertEquals(1, early.readStates().size());
        assertEquals(b("r"), early.readStates().get(0).context());
        leader.advance();
    }
}
