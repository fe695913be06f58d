package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quiescence of idle groups (CockroachDB's quiesced ranges, TiKV's hibernate regions): idle groups
 * stop ticking on every replica, a write wakes only its group, a dead follower's store does not
 * keep leaders awake (tikv#19070), and when a quiet group's leader store dies, store liveness wakes
 * the followers and they elect a new leader; a follower woken on its own store wakes its quiet
 * leader rather than electing a new one. No timed assertions: durations are logged.
 */
class StoreQuiescenceTest {
    private static final Logger LOG = LoggerFactory.getLogger(StoreQuiescenceTest.class);
    private static final int GROUPS = 6;

    @TempDir
    Path dir;

    /** Every replica of every group on {@code stores} is quiet. */
    private static void awaitQuiet(LocalCluster cluster, Collection<Long> stores) {
        LocalCluster.awaitCondition(() -> "every group quiet on stores " + stores + "; awake: " + awake(cluster, stores),
                () -> awake(cluster, stores).isEmpty());
    }

    /** "store/group" of every replica on {@code stores} that is not quiet. */
    private static String awake(LocalCluster cluster, Collection<Long> stores) {
        return stores.stream().flatMap(id -> cluster.groups().stream().filter(g -> !cluster.node(id).isQuiet(g))
                .map(g -> id + "/" + g)).collect(Collectors.joining(", "));
    }

    private static void writeEveryGroup(LocalCluster cluster, KvClient client, String value) {
        for (long g : cluster.groups()) {
            client.put(cluster.keyIn(g, "quiet"), value);
        }
    }

    /**
     * Idle groups go quiet everywhere. A write to a quiet group wakes it: the write's first appends
     * are lost (all peer traffic is cut for a moment), and only a leader that ticks again sends the
     * heartbeats whose responses make it send them again, so the write succeeds only if the group
     * woke. Every replica applies it and the group goes quiet again; the other groups do not wake
     * for a write (checked after the session's, before peer traffic is cut).
     */
    @Test
    void idleGroupsGoQuietAndAWriteWakesOnlyItsGroup() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).withRequestTimeoutMillis(30_000).startAll();
                KvClient client = cluster.client()) {
            StoreRoutingTest.awaitSettledLeaders(cluster);
            writeEveryGroup(cluster, client, "v0");
            long started = System.nanoTime();
            awaitQuiet(cluster, cluster.runningIds());
            LOG.info("all {} groups quiet on all 3 stores {} ms after the last write", GROUPS,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            long woken = 3;
            String key = cluster.keyIn(woken, "quiet");
            // A raw write sent once: the client library would retry after the store's TIMEOUT, and the
            // retry would carry the lost entry along. The store's deadline is 30 s here (a liveness bound).
            InetSocketAddress leader = cluster.address(cluster.awaitLeader(woken).storeId()).clientAddress();
            try (RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
                KvReply session = rpc.call(leader, NodeMethods.KV, KvRequest.newBuilder().setGroupId(woken)
                        .setOpenSession(OpenSession.getDefaultInstance()).build(), Duration.ofSeconds(30)).join();
                assertEquals(Status.OK, session.getStatus(), session.toString());
                assertOthersQuiet(cluster, woken);
                awaitQuiet(cluster, cluster.runningIds());
                for (long id : cluster.runningIds()) {
                    cluster.node(id).peerFaults().block(cluster.runningIds());
                }
                CompletableFuture<KvReply> write = rpc.call(leader, NodeMethods.KV, KvRequest.newBuilder()
                        .setClientId(session.getOpenSession().getClientId()).setSequence(1).setAcknowledgedBelow(1)
                        .setPut(Put.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v1")))
                        .build(), Duration.ofSeconds(40));
                // Far shorter than the stores' liveness timeout (200 ms), so no store is taken for down.
                Thread.sleep(50);
                cluster.connectAll();
                KvReply written = write.join();
                assertEquals(Status.OK, written.getStatus(), written.toString());
            }
            assertEquals(Optional.of("v1"), client.get(key));
            long leaderApplied = cluster.awaitLeader(woken).appliedIndex(woken);
            LocalCluster.awaitCondition(() -> "every replica of group " + woken + " applies index " + leaderApplied + ": "
                    + cluster.runningIds().stream().map(id -> id + "=" + cluster.node(id).appliedIndex(woken)).toList(),
                    () -> cluster.runningIds().stream().allMatch(id -> cluster.node(id).appliedIndex(woken) >= leaderApplied));
            awaitQuiet(cluster, cluster.runningIds());
        }
    }

    /** Every group but {@code woken} is quiet on every store. */
    private static void assertOthersQuiet(LocalCluster cluster, long woken) {
        for (long id : cluster.runningIds()) {
            for (long g : cluster.groups()) {
                if (g != woken) {
                    assertTrue(cluster.node(id).isQuiet(g), "store " + id + " group " + g + " woke for a write to group " + woken);
                }
            }
        }
    }

    /**
     * tikv#19070: with one store of three down, its followers must not keep the leaders awake; the
     * groups it led elect leaders on the other two, and then every group goes quiet there.
     */
    @Test
    void groupsGoQuietWithAStoreDown() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll(); KvClient client = cluster.client()) {
            StoreRoutingTest.awaitSettledLeaders(cluster);
            cluster.stop(3);
            writeEveryGroup(cluster, client, "without 3");
            awaitQuiet(cluster, List.of(1L, 2L));
            for (long g : cluster.groups()) {
                assertEquals(Optional.of("without 3"), client.get(cluster.keyIn(g, "quiet")));
            }
        }
    }

    /**
     * Every group is quiet; then the store leading some of them stops. Its peers take it for down
     * after an election timeout of silence and wake the quiet followers of the groups it led, which
     * elect a new leader and serve. The time from the stop to a write served in each such group is
     * logged, not asserted (the bound is the client's deadline).
     */
    @Test
    void quietGroupElectsANewLeaderWhenItsLeadersStoreStops() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll(); KvClient client = cluster.client()) {
            Map<Long, Long> settled = StoreRoutingTest.awaitSettledLeaders(cluster);
            writeEveryGroup(cluster, client, "before");
            awaitQuiet(cluster, cluster.runningIds());
            long stopped = 1;
            List<Long> led = cluster.groups().stream().filter(g -> settled.get(g) == stopped).toList();
            assertFalse(led.isEmpty(), "store " + stopped + " leads no group: " + settled);
            assertTrue(led.stream().allMatch(g -> cluster.node(stopped).isLeader(g) && cluster.node(stopped).isQuiet(g)),
                    "store " + stopped + " should lead groups " + led + ", quiet");
            long stopNanos = System.nanoTime();
            cluster.stop(stopped);
            // One writer per group, all at once, so each group's time is its own.
            List<CompletableFuture<Long>> served = new ArrayList<>();
            for (long g : led) {
                served.add(CompletableFuture.supplyAsync(() -> {
                    client.put(cluster.keyIn(g, "quiet"), "after");
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopNanos);
                }, runnable -> Thread.ofVirtual().start(runnable)));
            }
            for (int i = 0; i < led.size(); i++) {
                long servedMillis = served.get(i).join();
                LOG.info("quiet group {}: store {} leads and served a write {} ms after its leader's store {} stopped", led.get(i),
                        cluster.awaitLeader(led.get(i)).storeId(), servedMillis, stopped);
            }
            for (long g : cluster.groups()) {
                assertEquals(Optional.of(led.contains(g) ? "after" : "before"), client.get(cluster.keyIn(g, "quiet")));
            }
            assertTrue(Set.of(2L, 3L).containsAll(cluster.runningIds()));
        }
    }

    /**
     * An operator's status call asks one replica of each group for its term on its turn, which wakes
     * it. A follower woken like that, with its leader still quiet, hears nothing from the leader and
     * used to call an election after its timeout, which the other follower, woken the same way,
     * granted (a `ctl status` of a 1,000-group cluster set off hundreds). It now tells its leader, which wakes too; the group goes quiet again with the same
     * leader in the same term.
     */
    @Test
    void aFollowerWokenOnItsStoreWakesItsQuietLeaderInsteadOfElectingANewOne() throws Exception {
        // A 1 s election timeout: a woken follower must outwait a stall of the machine that long
        // before it may rightly campaign, so only the bug makes this test fail.
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).withElectionTimeoutTicks(50).startAll();
                KvClient client = cluster.client(); RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            Map<Long, Long> settled = StoreRoutingTest.awaitSettledLeaders(cluster);
            writeEveryGroup(cluster, client, "v");
            awaitQuiet(cluster, cluster.runningIds());
            Map<Long, Long> asked = new java.util.TreeMap<>();
            Map<Long, Long> termBefore = new java.util.TreeMap<>();
            for (long g : cluster.groups()) {
                // Both followers: the first to time out asks the other for its pre-vote, and the other,
                // awake as long and as deaf to the quiet leader, grants it.
                for (long follower : cluster.runningIds().stream().filter(id -> id != settled.get(g)).toList()) {
                    asked.put(g, follower);
                    termBefore.put(g, status(rpc, cluster, follower, g).getTerm());
                }
            }
            // Long enough for a woken follower to time out twice (election timeout 1 s, randomized up to 2 s).
            Thread.sleep(4_000);
            awaitQuiet(cluster, cluster.runningIds());
            for (long g : cluster.groups()) {
                NodeStatusReply after = status(rpc, cluster, asked.get(g), g);
                assertEquals(termBefore.get(g), after.getTerm(), "group " + g + " elected a leader after its follower on store "
                        + asked.get(g) + " was asked for its status");
                assertEquals((long) settled.get(g), after.getLeaderId(), "group " + g + "'s leader");
            }
        }
    }

    private static NodeStatusReply status(RpcClient rpc, LocalCluster cluster, long store, long group) {
        return rpc.call(cluster.address(store).clientAddress(), NodeMethods.STATUS,
                NodeStatusRequest.newBuilder().setGroupId(group).build(), Duration.ofSeconds(10)).join();
    }
}
