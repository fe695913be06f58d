package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcEndpoint;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store comes back, and soon after another store dies: the groups that now need the returned
 * store for their majority must reach it at once, not after a reconnect backoff grown while it was
 * down. End to end on a cluster (the time to serve every group again is logged), and the two
 * mechanisms that make it so, deterministically: the peer reconnect backoff is capped at half an
 * election timeout, and a handshake from a peer resets the backoff towards it.
 */
class StoreRestartThenCrashTest {
    private static final Logger LOG = LoggerFactory.getLogger(StoreRestartThenCrashTest.class);
    private static final int GROUPS = 6;

    @TempDir
    Path dir;

    @Test
    void storeStoppedOneSecondAfterAnotherRestartedLeavesEveryGroupWritable() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll(); KvClient client = cluster.client()) {
            StoreRoutingTest.awaitSettledLeaders(cluster);
            writeEveryGroup(cluster, client, "v0");
            cluster.stop(1);
            writeEveryGroup(cluster, client, "v1");
            // Meanwhile stores 2 and 3 fail to reconnect to store 1, and their backoff towards it grows.
            Thread.sleep(2_000);
            cluster.start(1);
            Thread.sleep(1_000);
            long stopNanos = System.nanoTime();
            cluster.stop(2);
            List<CompletableFuture<Long>> writes = new ArrayList<>();
            for (long g : cluster.groups()) {
                writes.add(CompletableFuture.supplyAsync(() -> {
                    client.put(cluster.keyIn(g, "restart"), "v2");
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopNanos);
                }, runnable -> Thread.ofVirtual().start(runnable)));
            }
            long slowestMillis = 0;
            for (int i = 0; i < writes.size(); i++) {
                long millis = writes.get(i).join();
                slowestMillis = Math.max(slowestMillis, millis);
                LOG.info("group {}: a write served {} ms after store 2 stopped (store 1 restarted 1 s before)",
                        cluster.groups().get(i), millis);
            }
            LOG.info("every one of {} groups served a write within {} ms of store 2 stopping, 1 s after store 1 restarted",
                    GROUPS, slowestMillis);
            for (long g : cluster.groups()) {
                assertEquals(Optional.of("v2"), client.get(cluster.keyIn(g, "restart")));
            }
        }
    }

    private static void writeEveryGroup(LocalCluster cluster, KvClient client, String value) {
        for (long g : cluster.groups()) {
            client.put(cluster.keyIn(g, "restart"), value);
        }
    }

    /** A store that was down long is reached again within half an election timeout (at least 50 ms) of its return. */
    @Test
    void peerReconnectBackoffIsCappedAtHalfAnElectionTimeout() {
        RpcClientConfig config = StoreTransport.peerClientConfig(LocalCluster.CLUSTER_ID, 1, Duration.ofMillis(200));
        assertEquals(Duration.ofMillis(100), config.reconnectBackoffMax());
        assertEquals(Duration.ofMillis(10), config.reconnectBackoffInitial());
        assertEquals(1, config.connectionsPerEndpoint(), "one connection per peer store carries every group");
        assertEquals(Duration.ofSeconds(5), StoreTransport.peerClientConfig(LocalCluster.CLUSTER_ID, 1, Duration.ofSeconds(10))
                .reconnectBackoffMax());
        assertEquals(Duration.ofMillis(50), StoreTransport.peerClientConfig(LocalCluster.CLUSTER_ID, 1, Duration.ofMillis(60))
                .reconnectBackoffMax());
        assertTrue(config.reconnectBackoffMax().compareTo(RpcClientConfig.DEFAULT_BACKOFF_MAX) < 0);
    }

    /**
     * With a backoff far longer than the test (60 s), the transport cannot reach a peer that came
     * back until that peer's handshake arrives: then it connects at once.
     */
    @Test
    void peerHandshakeResetsTheBackoffTowardsThatPeer() throws Exception {
        MemberAddress self = LocalCluster.newAddress(1);
        MemberAddress peer = LocalCluster.newAddress(2);
        Membership members = new Membership(dir, List.of(self, peer));
        RpcClientConfig longBackoff = StoreTransport.peerClientConfig(LocalCluster.CLUSTER_ID, 1, Duration.ofMillis(200))
                .withReconnectBackoff(Duration.ofSeconds(60), Duration.ofSeconds(60));
        try (StoreTransport transport = new StoreTransport(1, members, longBackoff)) {
            RpcEndpoint endpoint = transport.endpoint(2);
            assertThrows(CompletionException.class, () -> endpoint.connectAll().join(), "nothing listens yet");
            RpcServer peerServer = new RpcServer(RpcServerConfig.defaults(LocalCluster.CLUSTER_ID).withNodeId(2),
                    RpcHandlers.builder().addOneWay(NodeMethods.STORE_HEARTBEAT, (heartbeat, context) -> { }).build());
            try (peerServer) {
                peerServer.start(peer.peerAddress());
                CompletionException waiting = assertThrows(CompletionException.class, () -> endpoint.connectAll().join());
                assertTrue(waiting.getCause().getMessage().contains("next attempt in"), waiting.getCause().getMessage());
                transport.peerConnected(2);
                endpoint.connectAll().join();
                assertEquals(1, endpoint.openConnections());
            }
        }
    }
}
