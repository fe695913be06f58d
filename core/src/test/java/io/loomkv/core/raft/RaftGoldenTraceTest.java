package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeTransition;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.Message;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Golden message transcripts for the trickiest paths (as etcd's testdata/*.txt): every message
 * delivered, in order, compared with a reviewed expectation. A change in these paths shows up as
 * a readable diff of the protocol exchange.
 */
class RaftGoldenTraceTest {

    static String render(Message m) {
        StringBuilder b = new StringBuilder();
        b.append(m.getFrom()).append("->").append(m.getTo()).append(' ').append(m.getType().name().substring(4))
                .append(" term=").append(m.getTerm());
        switch (m.getType()) {
            case MSG_APP -> {
                b.append(" prev=").append(m.getIndex()).append('/').append(m.getLogTerm()).append(" commit=")
                        .append(m.getCommit());
                if (m.getEntriesCount() > 0) {
                    b.append(" entries=").append(m.getEntriesList().stream().map(RaftGoldenTraceTest::render)
                            .collect(Collectors.joining(",", "[", "]")));
                }
            }
            case MSG_APP_RESP -> {
                b.append(" index=").append(m.getIndex());
                if (m.getReject()) {
                    b.append(" reject hint=").append(m.getRejectHint()).append('/').append(m.getRejectHintTerm());
                }
            }
            case MSG_VOTE, MSG_PRE_VOTE -> b.append(" last=").append(m.getIndex()).append('/').append(m.getLogTerm())
                    .append(m.getContext().isEmpty() ? "" : " transfer");
            case MSG_VOTE_RESP, MSG_PRE_VOTE_RESP -> b.append(m.getReject() ? " reject" : " grant");
            case MSG_HEARTBEAT -> b.append(" commit=").append(m.getCommit());
            default -> {
            }
        }
        return b.toString();
    }

    static String render(Entry e) {
        String what;
        if (e.getType() == EntryType.ENTRY_CONF_CHANGE) {
            try {
                ConfChange cc = ConfChange.parseFrom(e.getData());
                what = cc.getChangesCount() == 0 ? "leave-joint"
                        : cc.getChangesList().stream().map(c -> c.getType().name().substring(12) + " " + c.getNodeId())
                                .collect(Collectors.joining("+", "cc(", ")"));
            } catch (InvalidProtocolBufferException ex) {
                throw new IllegalStateException(ex);
            }
        } else {
            what = e.getData().isEmpty() ? "noop" : "'" + e.getData().toStringUtf8() + "'";
        }
        return e.getTerm() + "/" + e.getIndex() + " " + what;
    }

    private static String transcript(TestCluster c) {
        String t = c.delivered.stream().map(RaftGoldenTraceTest::render).collect(Collectors.joining("\n"));
        c.delivered.clear();
        return t;
    }

    @Test
    void leadershipTransferToALaggingFollower() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.isolate(3);
        c.propose(1, "x");
        c.heal();
        c.delivered.clear();
        c.node(1).transferLeader(3);
        c.stabilize();
        assertEquals("""
                1->3 APP term=1 prev=2/1 commit=2
                3->1 APP_RESP term=1 index=2 reject hint=1/1
                1->3 APP term=1 prev=1/1 commit=2 entries=[1/2 'x']
                3->1 APP_RESP term=1 index=2
                1->3 TIMEOUT_NOW term=1
                3->1 VOTE term=2 last=2/1 transfer
                3->2 VOTE term=2 last=2/1 transfer
                1->3 VOTE_RESP term=2 grant
                2->3 VOTE_RESP term=2 grant
                3->1 APP term=2 prev=2/1 commit=2 entries=[2/3 noop]
                3->2 APP term=2 prev=2/1 commit=2 entries=[2/3 noop]
                1->3 APP_RESP term=2 index=3
                2->3 APP_RESP term=2 index=3
                3->2 APP term=2 prev=3/2 commit=3
                3->1 APP term=2 prev=3/2 commit=3
                1->3 APP_RESP term=2 index=3
                2->3 APP_RESP term=2 index=3""", transcript(c));
    }

    @Test
    void replacingANodeThroughAnAutoLeftJointConfig() {
        TestCluster c = TestCluster.of(3);
        c.elect(1);
        c.add(4, MemoryStorage.bootstrap(List.of(1L, 2L, 3L)), TestCluster.defaults(4).build());
        c.delivered.clear();
        c.node(1).proposeConfChange(RaftMembershipTest.change(ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO,
                ConfChangeType.CONF_CHANGE_ADD_NODE, 4L, ConfChangeType.CONF_CHANGE_REMOVE_NODE, 3L));
        c.stabilize();
        // The change commits under the old config; applying it enters the joint config (4 starts
        // being probed), and the leader proposes leave-joint at once (auto-leave), which needs
        // both {1,2,3} and {1,2,4}. Node 3 still hears the commit of leave-joint.
        assertEquals("""
                1->2 APP term=1 prev=1/1 commit=1 entries=[1/2 cc(ADD_NODE 4+REMOVE_NODE 3)]
                1->3 APP term=1 prev=1/1 commit=1 entries=[1/2 cc(ADD_NODE 4+REMOVE_NODE 3)]
                2->1 APP_RESP term=1 index=2
                3->1 APP_RESP term=1 index=2
                1->2 APP term=1 prev=2/1 commit=2
                1->3 APP term=1 prev=2/1 commit=2
                1->4 APP term=1 prev=1/1 commit=2 entries=[1/2 cc(ADD_NODE 4+REMOVE_NODE 3)]
                1->2 APP term=1 prev=2/1 commit=2 entries=[1/3 leave-joint]
                1->3 APP term=1 prev=2/1 commit=2 entries=[1/3 leave-joint]
                2->1 APP_RESP term=1 index=2
                2->1 APP_RESP term=1 index=3
                3->1 APP_RESP term=1 index=2
                3->1 APP_RESP term=1 index=3
                4->1 APP_RESP term=1 index=1 reject hint=0/0
                1->4 APP term=1 prev=0/0 commit=3 entries=[1/1 noop,1/2 cc(ADD_NODE 4+REMOVE_NODE 3),1/3 leave-joint]
                1->2 APP term=1 prev=3/1 commit=3
                1->3 APP term=1 prev=3/1 commit=3
                2->1 APP_RESP term=1 index=3
                3->1 APP_RESP term=1 index=3
                4->1 APP_RESP term=1 index=3""", transcript(c));
    }
}
