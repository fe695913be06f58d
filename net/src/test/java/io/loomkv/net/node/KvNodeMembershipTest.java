package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberInfo;
import io.loomkv.net.node.proto.NodeStatusReply;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Membership changes and leadership transfer on a live cluster, through the client's admin calls. */
class KvNodeMembershipTest {
    @TempDir
    Path dir;

    @Test
    void addLearnerPromoteThenRemove() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeader();
            for (int i = 0; i < 50; i++) {
                client.put("member/" + i, "v" + i);
            }
            MemberAddress fourth = cluster.reserve(4);
            Store joined = cluster.start(4);
            AdminReply added = client.addMember(4, MemberAddress.format(fourth.clientAddress()),
                    MemberAddress.format(fourth.peerAddress()));
            assertTrue(added.getOk(), added.getMessage());
            LocalCluster.awaitCondition("node 4 is promoted to voter", () -> {
                NodeStatusReply status = client.status(cluster.address(cluster.awaitLeader().storeId()).clientAddress());
                return status.getMembersList().stream().anyMatch(m -> m.getId() == 4 && !m.getLearner());
            });
            try (KvClient onFourth = new KvClient(KvClientConfig.of(List.of(fourth.clientAddress()), LocalCluster.CLUSTER_ID))) {
                LocalCluster.awaitCondition("node 4 has the data", () -> Optional.of(ByteString.copyFromUtf8("v49"))
                        .equals(onFourth.get(ByteString.copyFromUtf8("member/49"), ReadConsistency.SERIALIZABLE)));
            }
            // The joined node replayed the whole membership history (the initial members are in the log too).
            LocalCluster.awaitCondition("node 4 sees all four voters", () -> client.status(fourth.clientAddress())
                    .getMembersList().stream().filter(m -> !m.getLearner()).map(MemberInfo::getId).sorted().toList()
                    .equals(List.of(1L, 2L, 3L, 4L)));
            AdminReply duplicate = client.addMember(4, "127.0.0.1:1", "127.0.0.1:2");
            assertFalse(duplicate.getOk());
            AdminReply removed = client.removeMember(4);
            assertTrue(removed.getOk(), removed.getMessage());
            LocalCluster.awaitCondition("node 4 stops serving", () -> joined.unavailableReason(GROUP) != null);
            NodeStatusReply after = client.status(cluster.address(cluster.awaitLeader().storeId()).clientAddress());
            assertEquals(List.of(1L, 2L, 3L), after.getMembersList().stream().map(MemberInfo::getId).sorted().toList());
            client.put("member/after", "x");
            assertEquals(Optional.of("x"), client.get("member/after"));
        }
    }

    @Test
    void transferLeader() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            Store leader = cluster.awaitLeader();
            client.put("transfer/k", "v");
            long target = leader.storeId() == 1 ? 2 : 1;
            AdminReply reply = client.transferLeader(target);
            assertTrue(reply.getOk(), reply.getMessage());
            LocalCluster.awaitCondition("node " + target + " leads", () -> cluster.node(target).isLeader(GROUP));
            assertEquals(Optional.of("v"), client.get("transfer/k"));
            client.put("transfer/k", "w");
            assertEquals(Optional.of("w"), client.get("transfer/k"));
        }
    }

    /**
     * Raft drops proposals while its leader hands leadership over: a membership change that
     * arrives then is asked again by the client (the leader says "retry soon"), not refused. A
     * transfer to a stopped follower holds the leader in that state for an election timeout.
     */
    @Test
    void memberChangeDuringALeadershipTransferIsRetried() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            Store leader = cluster.awaitLeader();
            client.put("transfer/k", "v");
            long stopped = leader.storeId() % 3 + 1;
            cluster.stop(stopped);
            AdminReply transfer = client.transferLeader(stopped);
            assertTrue(transfer.getOk(), transfer.getMessage());
            AdminReply removed = client.removeMember(stopped);
            assertTrue(removed.getOk(), removed.getMessage());
            assertFalse(removed.getRetrySoon());
            LocalCluster.awaitCondition("node " + stopped + " removed", () -> client.status(cluster.address(
                    cluster.awaitLeader().storeId()).clientAddress()).getMembersList().size() == 2);
            client.put("transfer/k", "w");
            assertEquals(Optional.of("w"), client.get("transfer/k"));
        }
    }

    /**
     * Raft takes one membership change at a time: a second change that arrives while the first is
     * not applied (here it cannot commit: two of three stores are down) is asked again by the
     * client until the first is through, not refused.
     */
    @Test
    void aChangeWhileAnotherIsUncommittedIsRetried() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll(); KvClient client = cluster.client()) {
            Store leader = cluster.awaitLeader();
            client.put("pending/k", "v");
            long second = leader.storeId() % 3 + 1;
            long third = second % 3 + 1;
            cluster.reserve(4);
            cluster.stop(second);
            cluster.stop(third);
            AdminReply added = client.addMember(4, "127.0.0.1:1", "127.0.0.1:2");
            assertTrue(added.getOk(), added.getMessage());
            Thread restart = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(1_500);
                    cluster.start(second);
                    cluster.start(third);
                } catch (InterruptedException | IOException e) {
                    throw new IllegalStateException("restarting stores " + second + " and " + third, e);
                }
            });
            AdminReply removed = client.removeMember(third);
            restart.join();
            assertTrue(removed.getOk(), removed.getMessage());
            LocalCluster.awaitCondition("node " + third + " removed", () -> client.status(cluster.address(
                    cluster.awaitLeader().storeId()).clientAddress()).getMembersList().stream()
                    .noneMatch(m -> m.getId() == third));
            client.put("pending/k", "w");
            assertEquals(Optional.of("w"), client.get("pending/k"));
        }
    }
}
