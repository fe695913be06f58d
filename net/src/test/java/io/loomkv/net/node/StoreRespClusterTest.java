package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.resp.RespCluster;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Collections;
import java.util.concurrent.Callable;
import java.util.stream.LongStream;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisMovedDataException;

/**
 * The RESP endpoint of every store, as a Redis Cluster: 3 stores with 3 data groups on loopback,
 * leadership spread over the stores. CLUSTER SLOTS|NODES|SHARDS|INFO|MYID, -MOVED from a store that does
 * not lead the key's group, -CROSSSLOT, READONLY reads on a follower, and the cluster clients of
 * Jedis and Lettuce routing across every group, also after the store leading a group is stopped
 * (last test: it leaves the cluster with two stores).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StoreRespClusterTest {
    private static final int STORES = 3;
    private static final int GROUPS = 3;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private LocalCluster cluster;
    private KvClient native_;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        cluster = new LocalCluster(dir, STORES, 10_000, GROUPS).withResp().startAll();
        cluster.awaitLeaders();
        // The stores spread the data groups' leadership soon after the start (the balancer moves a group
        // while one store leads two more than another): let it settle first.
        LocalCluster.awaitCondition("leadership spread evenly", () -> {
            List<Long> led = cluster.runningIds().stream().map(id -> LongStream.rangeClosed(1, GROUPS)
                    .filter(g -> cluster.node(id).isLeader(g)).count()).toList();
            return led.stream().mapToLong(Long::longValue).sum() == GROUPS
                    && Collections.max(led) - Collections.min(led) <= 1;
        });
        native_ = cluster.client();
    }

    @AfterAll
    void stop() {
        if (native_ != null) {
            native_.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static JedisClientConfig clientConfig() {
        // 30 s socket timeout: the box is shared, and Jedis's default of 2 s is short for writes there.
        return DefaultJedisClientConfig.builder().socketTimeoutMillis(30_000).build();
    }

    private Jedis jedis(long store) {
        InetSocketAddress resp = cluster.respAddress(store);
        return new Jedis(new HostAndPort(resp.getHostString(), resp.getPort()), clientConfig());
    }

    private Set<HostAndPort> seeds() {
        Set<HostAndPort> seeds = new HashSet<>();
        for (long id : cluster.runningIds()) {
            seeds.add(new HostAndPort("127.0.0.1", cluster.respAddress(id).getPort()));
        }
        return seeds;
    }

    /** One key per group, named after {@code base}. */
    private List<String> keysInEveryGroup(String base) {
        SlotLayout layout = cluster.layout();
        return cluster.groups().stream().map(g -> LocalCluster.keyIn(layout, g, base)).toList();
    }

    private long groupOf(String key) {
        return cluster.layout().groupOf(Slots.slotOf(ByteString.copyFromUtf8(key)));
    }

    private long leaderOf(long group) {
        return cluster.awaitLeader(group).storeId();
    }

    private String nativeGet(String key) {
        return native_.get(key).orElse(null);
    }

    /** The store id whose RESP port is {@code port}. */
    private long storeAtRespPort(long port) {
        for (long id : cluster.runningIds()) {
            if (cluster.respAddress(id).getPort() == port) {
                return id;
            }
        }
        return 0;
    }

    /** Whether every CLUSTER SLOTS entry names the current leader of its range's group as master. */
    private boolean slotsNameTheLeaders(List<Object> slots) {
        for (Object entry : slots) {
            List<?> range = (List<?>) entry;
            long first = (Long) range.get(0);
            List<?> master = (List<?>) range.get(2);
            long group = cluster.layout().groupOf((int) first);
            if (storeAtRespPort((Long) master.get(1)) != leaderOf(group)) {
                return false;
            }
        }
        return true;
    }

    @Test
    @Order(1)
    void clusterSlotsCoverEverySlotAndNameEachGroupsLeader() {
        try (Jedis jedis = jedis(1)) {
            LocalCluster.awaitCondition("CLUSTER SLOTS names each group's leader", () -> slotsNameTheLeaders(jedis.clusterSlots()));
            List<Object> slots = jedis.clusterSlots();
            List<long[]> ranges = new ArrayList<>();
            for (Object entry : slots) {
                List<?> range = (List<?>) entry;
                ranges.add(new long[] {(Long) range.get(0), (Long) range.get(1)});
                assertEquals(2 + STORES, range.size(), "start, end, the leader and the other two replicas: " + range);
                for (Object node : range.subList(2, range.size())) {
                    List<?> fields = (List<?>) node;
                    assertEquals("127.0.0.1", new String((byte[]) fields.get(0), StandardCharsets.UTF_8));
                    assertEquals(40, new String((byte[]) fields.get(2), StandardCharsets.UTF_8).length());
                }
            }
            ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            long next = 0;
            for (long[] range : ranges) {
                assertEquals(next, range[0], "no gap or overlap before slot " + range[0]);
                next = range[1] + 1;
            }
            assertEquals(Slots.SLOT_COUNT, next, "every slot is covered");
            assertEquals(GROUPS, ranges.size(), "one range per group (each group's slots are contiguous)");
        }
    }

    @Test
    @Order(2)
    void clusterNodesShardsInfoAndMyIdAgree() {
        Set<String> ids = new HashSet<>();
        for (long store = 1; store <= STORES; store++) {
            try (Jedis jedis = jedis(store)) {
                String myId = jedis.clusterMyId();
                assertEquals(RespCluster.nodeId(LocalCluster.CLUSTER_ID, store), myId);
                assertTrue(myId.matches("[0-9a-f]{40}"), myId);
                ids.add(myId);
                List<String> lines = jedis.clusterNodes().lines().toList();
                assertEquals(STORES, lines.size(), String.join("\n", lines));
                List<String> myself = lines.stream().filter(l -> l.split(" ")[2].contains("myself")).toList();
                assertEquals(1, myself.size(), String.join("\n", lines));
                assertTrue(myself.get(0).startsWith(myId + " 127.0.0.1:" + cluster.respAddress(store).getPort() + "@"), myself.get(0));
                long slotsListed = 0;
                for (String line : lines) {
                    String[] fields = line.split(" ");
                    assertTrue(fields[2].endsWith("master") && fields[3].equals("-") && fields[7].equals("connected"), line);
                    for (int i = 8; i < fields.length; i++) {
                        String[] bounds = fields[i].split("-");
                        slotsListed += bounds.length == 1 ? 1 : Long.parseLong(bounds[1]) - Long.parseLong(bounds[0]) + 1;
                    }
                }
                assertEquals(Slots.SLOT_COUNT, slotsListed, String.join("\n", lines));
                AtomicReference<String> lastInfo = new AtomicReference<>();
                LocalCluster.awaitCondition(() -> "CLUSTER INFO says ok: " + lastInfo.get(),
                        () -> lastInfo.updateAndGet(old -> jedis.clusterInfo()).contains("cluster_state:ok\r\n"));
                String info = lastInfo.get();
                assertTrue(info.contains("cluster_state:ok\r\n") && info.contains("cluster_slots_assigned:16384\r\n")
                        && info.contains("cluster_known_nodes:3\r\n"), info);
                var shards = jedis.clusterShards();
                assertEquals(GROUPS, shards.size());
                for (var shard : shards) {
                    assertEquals(STORES, shard.getNodes().size());
                    assertEquals(1, shard.getNodes().stream().filter(n -> n.getRole().equals("master")).count());
                }
                assertEquals(Slots.slotOf(ByteString.copyFromUtf8("somekey")), jedis.clusterKeySlot("somekey"));
                assertTrue(jedis.info("cluster").contains("cluster_enabled:1"));
            }
        }
        assertEquals(STORES, ids.size(), "every store has its own id");
    }

    @Test
    @Order(3)
    void aStoreThatDoesNotLeadTheKeysGroupAnswersMovedToTheLeader() {
        for (String key : keysInEveryGroup("moved")) {
            long group = groupOf(key);
            LocalCluster.awaitCondition("a MOVED naming the leader of group " + group, () -> {
                long leader = leaderOf(group);
                long other = leader % STORES + 1;
                try (Jedis jedis = jedis(other)) {
                    JedisMovedDataException moved = assertThrows(JedisMovedDataException.class, () -> jedis.set(key, "v"));
                    assertEquals(Slots.slotOf(ByteString.copyFromUtf8(key)), moved.getSlot());
                    assertThrows(JedisMovedDataException.class, () -> jedis.get(key));
                    return moved.getTargetNode().getPort() == cluster.respAddress(leader).getPort();
                }
            });
            long leader = leaderOf(group);
            try (Jedis jedis = jedis(leader)) {
                assertEquals("OK", jedis.set(key, "at-leader"));
                assertEquals("at-leader", jedis.get(key));
            }
            assertEquals("at-leader", nativeGet(key), "the native client reads what the store's RESP endpoint wrote");
        }
    }

    @Test
    @Order(4)
    void keysOfSeveralSlotsAreRefusedWithCrossSlotAndHashTagsShareOne() {
        String a = "cross-a";
        String b = LocalCluster.keyIn(cluster.layout(), groupOf(a), "cross-b");
        assertTrue(Slots.slotOf(ByteString.copyFromUtf8(a)) != Slots.slotOf(ByteString.copyFromUtf8(b)));
        try (Jedis jedis = jedis(leaderOf(groupOf(a)))) {
            JedisDataException refused = assertThrows(JedisDataException.class, () -> jedis.mset(a, "1", b, "2"));
            assertEquals("CROSSSLOT Keys in request don't hash to the same slot", refused.getMessage());
            assertThrows(JedisDataException.class, () -> jedis.mget(a, b));
            assertThrows(JedisDataException.class, () -> jedis.del(a, b));
            assertNull(nativeGet(a), "a refused MSET wrote nothing");
        }
        String tagged = "{user42}:name";
        String other = "{user42}:email";
        try (Jedis jedis = jedis(leaderOf(groupOf(tagged)))) {
            assertEquals("OK", jedis.mset(tagged, "ann", other, "ann@example.com"));
            assertEquals(List.of("ann", "ann@example.com"), jedis.mget(tagged, other));
            assertEquals(2, jedis.del(tagged, other));
        }
    }

    @Test
    @Order(5)
    void aReadOnlyConnectionReadsFromAFollower() {
        String key = keysInEveryGroup("readonly").get(1);
        long leader = leaderOf(groupOf(key));
        long follower = leader % STORES + 1;
        try (Jedis atLeader = jedis(leader); Jedis jedis = jedis(follower)) {
            assertEquals("OK", atLeader.set(key, "replicated"));
            assertThrows(JedisMovedDataException.class, () -> jedis.get(key));
            assertEquals("OK", jedis.readonly());
            LocalCluster.awaitCondition("the follower applied the write", () -> "replicated".equals(jedis.get(key)));
            assertThrows(JedisMovedDataException.class, () -> jedis.set(key, "x"), "writes still go to the leader");
            assertEquals("OK", jedis.readwrite());
            assertThrows(JedisMovedDataException.class, () -> jedis.get(key));
            assertEquals("OK", jedis.asking());
        }
    }

    @Test
    @Order(6)
    void jedisClusterRoutesWritesAndReadsAcrossEveryGroup() {
        try (JedisCluster jedis = new JedisCluster(seeds(), clientConfig(), 10, PATIENCE)) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                keys.addAll(keysInEveryGroup("jc" + i));
            }
            for (String key : keys) {
                assertEquals("OK", jedis.set(key, "j-" + key));
            }
            for (String key : keys) {
                assertEquals("j-" + key, jedis.get(key));
                assertEquals("j-" + key, nativeGet(key));
            }
            String counter = keys.get(GROUPS - 1);
            jedis.del(counter);
            for (int i = 0; i < 20; i++) {
                jedis.incr(counter);
            }
            assertEquals("20", jedis.get(counter));
            assertEquals("OK", jedis.mset("{jc}a", "1", "{jc}b", "2"));
            assertEquals(List.of("1", "2"), jedis.mget("{jc}a", "{jc}b"));
            assertEquals(keys.size(), keys.stream().mapToLong(jedis::del).sum());
            assertNull(nativeGet(keys.get(0)));
        }
    }

    private RedisClusterClient lettuce() {
        List<RedisURI> seeds = cluster.runningIds().stream()
                .map(id -> RedisURI.create("127.0.0.1", cluster.respAddress(id).getPort())).collect(Collectors.toList());
        seeds.forEach(uri -> uri.setTimeout(PATIENCE));
        RedisClusterClient client = RedisClusterClient.create(seeds);
        // The topology is refreshed on redirects and failed reconnects, and every second.
        client.setOptions(ClusterClientOptions.builder().maxRedirects(10)
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers()
                        .enablePeriodicRefresh(Duration.ofSeconds(1)).build()).build());
        return client;
    }

    @Test
    @Order(7)
    void lettuceClusterClientRoutesWritesAndReadsAcrossEveryGroup() {
        RedisClusterClient client = lettuce();
        try (StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            RedisAdvancedClusterCommands<String, String> redis = connection.sync();
            assertEquals(STORES, redis.clusterNodes().lines().count());
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                keys.addAll(keysInEveryGroup("lc" + i));
            }
            for (String key : keys) {
                assertEquals("OK", redis.set(key, "l-" + key));
            }
            for (String key : keys) {
                assertEquals("l-" + key, redis.get(key));
                assertEquals("l-" + key, nativeGet(key));
            }
            assertEquals(("l-" + keys.get(0) + "!").length(), redis.append(keys.get(0), "!"));
            assertEquals(keys.size(), redis.del(keys.toArray(String[]::new)), "Lettuce splits a DEL by slot itself");
        } finally {
            client.shutdown();
        }
    }

    /** {@code action} until it succeeds (a cluster client may fail while a group elects a new leader). */
    private static <T> T eventually(String what, Callable<T> action) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (true) {
            try {
                return action.call();
            } catch (Exception e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError(what + " still failing after " + PATIENCE.toSeconds() + " s", e);
                }
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos()); // A retry's back-off, as a client's would be.
            }
        }
    }

    @Test
    @Order(100)
    void clusterClientsKeepWorkingWhenALeadersStoreStops() {
        RedisClusterClient lettuce = lettuce();
        try (JedisCluster jedis = new JedisCluster(seeds(), clientConfig(), 10, PATIENCE);
                StatefulRedisClusterConnection<String, String> connection = lettuce.connect()) {
            // A command sent to the stopped store waits for a reconnect that never comes: let it time
            // out soon, and the retry goes where the refreshed topology says.
            connection.setTimeout(Duration.ofSeconds(3));
            RedisAdvancedClusterCommands<String, String> redis = connection.sync();
            List<String> keys = keysInEveryGroup("failover");
            for (String key : keys) {
                assertEquals("OK", jedis.set(key, "before"));
                assertEquals("before", redis.get(key));
            }
            long victim = leaderOf(groupOf(keys.get(0)));
            cluster.stop(victim);
            cluster.awaitLeaders();
            String victimId = RespCluster.nodeId(LocalCluster.CLUSTER_ID, victim);
            try (Jedis survivor = jedis(victim % STORES + 1)) {
                LocalCluster.awaitCondition("CLUSTER NODES flags the stopped store", () -> survivor.clusterNodes().lines()
                        .anyMatch(line -> line.startsWith(victimId + " ") && line.split(" ")[2].equals("master,fail")));
            }
            for (String key : keys) {
                assertEquals("OK", eventually("Jedis SET " + key, () -> jedis.set(key, "after-jedis")));
                assertEquals("after-jedis", eventually("Jedis GET " + key, () -> jedis.get(key)));
                assertEquals("OK", eventually("Lettuce SET " + key, () -> redis.set(key, "after-lettuce")));
                assertEquals("after-lettuce", eventually("Lettuce GET " + key, () -> redis.get(key)));
                assertEquals("after-lettuce", nativeGet(key));
            }
            // With a second store gone no group has a quorum, and the last store says so once it knows no leader.
            long survivor = cluster.runningIds().stream().max(Long::compare).orElseThrow();
            cluster.stop(cluster.runningIds().stream().min(Long::compare).orElseThrow());
            try (Jedis last = jedis(survivor)) {
                LocalCluster.awaitCondition("CLUSTERDOWN from the last store", () -> {
                    try {
                        last.get(keys.get(0));
                        return false;
                    } catch (JedisDataException e) {
                        return e.getMessage().equals("CLUSTERDOWN The cluster is down");
                    }
                });
            }
        } finally {
            lettuce.shutdown();
        }
    }
}
