package io.loomkv.net.node;

import io.loomkv.net.store.proto.GroupMessage;
import io.loomkv.net.store.proto.RaftBatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.proto.Hello;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process that reaches a node's peer port without the cluster's id (or without a peer
 * handshake at all, or through the client port) cannot change the node's state: Raft messages
 * that would depose the leader are refused. The same message over a proper peer handshake does
 * depose it, which shows the message was a real threat.
 */
class PeerPortHandshakeTest {
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** A heartbeat from "node 2" at a far higher term: a node that steps it becomes a follower of node 2. */
    private static Message deposingHeartbeat() {
        return Message.newBuilder().setType(MessageType.MSG_HEARTBEAT).setFrom(2).setTo(1).setTerm(1_000).build();
    }

    private static byte[] raftFrame(Message message) {
        return RawConnection.oneWay(NodeMethods.RAFT_BATCH.id(), RaftBatch.newBuilder()
                .addMessages(GroupMessage.newBuilder().setGroupId(LocalCluster.GROUP).setRaft(message)).build());
    }

    @Test
    void raftMessagesWithoutTheRightHandshakeChangeNothing() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 1, 10_000).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeader();
            client.put("k", "before");
            long termBefore = status(client, cluster).getTerm();
            InetSocketAddress peerPort = cluster.address(1).peerAddress();
            InetSocketAddress clientPort = cluster.address(1).clientAddress();

            attack(peerPort, raftFrame(deposingHeartbeat()));
            attack(peerPort, concat(RawConnection.hello(Hello.Role.ROLE_PEER, "some-other-cluster", 2), raftFrame(deposingHeartbeat())));
            attack(peerPort, concat(RawConnection.hello(Hello.Role.ROLE_PEER, "", 2), raftFrame(deposingHeartbeat())));
            attack(peerPort, concat(RawConnection.hello(Hello.Role.ROLE_CLIENT, LocalCluster.CLUSTER_ID, 0), raftFrame(deposingHeartbeat())));
            // The client port serves no Raft method at all: the message is dropped (the connection may stay open).
            send(clientPort, concat(RawConnection.hello(Hello.Role.ROLE_PEER, LocalCluster.CLUSTER_ID, 2), raftFrame(deposingHeartbeat())));
            send(clientPort, concat(RawConnection.hello(Hello.Role.ROLE_CLIENT, LocalCluster.CLUSTER_ID, 0), raftFrame(deposingHeartbeat())));

            // Give any message that slipped through time to reach the Raft loop, then look.
            client.put("k", "after");
            Thread.sleep(500);
            NodeStatusReply after = status(client, cluster);
            assertEquals(termBefore, after.getTerm(), "term moved: a refused connection reached Raft");
            assertEquals("LEADER", after.getRole());
            assertEquals(1, after.getLeaderId());
            assertEquals("after", client.get("k").orElseThrow());

            // Control: with the cluster's id the very same message is stepped and deposes the leader.
            try (RawConnection trusted = new RawConnection(peerPort)) {
                trusted.send(concat(RawConnection.hello(Hello.Role.ROLE_PEER, LocalCluster.CLUSTER_ID, 2), raftFrame(deposingHeartbeat())));
                LocalCluster.awaitCondition("the trusted heartbeat raises the term", () -> status(client, cluster).getTerm() >= 1_000);
            }
        }
    }

    private static void attack(InetSocketAddress address, byte[] bytes) throws Exception {
        try (RawConnection connection = new RawConnection(address)) {
            connection.send(bytes);
            assertTrue(connection.awaitClosedByServer(CLOSE_WAIT), "the server should close a connection that sends Raft "
                    + "messages without a peer handshake for this cluster");
        }
    }

    private static void send(InetSocketAddress address, byte[] bytes) throws Exception {
        try (RawConnection connection = new RawConnection(address)) {
            connection.send(bytes);
            connection.awaitClosedByServer(Duration.ofMillis(500));
        }
    }

    private static NodeStatusReply status(KvClient client, LocalCluster cluster) {
        return client.status(cluster.address(1).clientAddress());
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
