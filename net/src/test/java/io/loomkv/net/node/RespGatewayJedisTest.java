package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.resp.RespGateway;
import io.loomkv.net.resp.RespServerConfig;
import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.util.SafeEncoder;

/**
 * A real Redis client (Jedis) through the RESP gateway against a 3-store cluster with 3 data
 * groups: every command family, keys spread over all groups, pipelining, concurrent increments,
 * RESP3, and the values checked through the native client too. Lives in this package for
 * {@link LocalCluster}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RespGatewayJedisTest {
    private static final int GROUPS = 3;

    private LocalCluster cluster;
    private RespGateway gateway;
    private KvClient native_;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll();
        cluster.awaitLeaders();
        gateway = RespGateway.start(new InetSocketAddress("127.0.0.1", 0),
                KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID));
        native_ = cluster.client();
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (native_ != null) {
            native_.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private Jedis jedis() {
        return jedis(gateway.port());
    }

    /** A Jedis with a 30 s socket timeout: this box is shared, and Jedis's default of 2 s is short for writes there. */
    private static Jedis jedis(int port) {
        return new Jedis(new HostAndPort("127.0.0.1", port), DefaultJedisClientConfig.builder().socketTimeoutMillis(30_000).build());
    }

    /** One key in each group, named after {@code base}. */
    private List<String> keysInEveryGroup(String base) {
        SlotLayout layout = cluster.layout();
        return cluster.groups().stream().map(g -> LocalCluster.keyIn(layout, g, base)).toList();
    }

    @Test
    void stringsThroughJedisAreStoredInTheCluster() {
        try (Jedis jedis = jedis()) {
            assertEquals("PONG", jedis.ping());
            for (String key : keysInEveryGroup("str")) {
                assertNull(jedis.get(key));
                assertEquals("OK", jedis.set(key, "v-" + key));
                assertEquals("v-" + key, jedis.get(key));
                assertEquals("v-" + key, native_.get(key).orElseThrow(), "the native client reads what Jedis wrote");
            }
            String key = keysInEveryGroup("opts").get(1);
            assertEquals("OK", jedis.set(key, "1", SetParams.setParams().nx()));
            assertNull(jedis.set(key, "2", SetParams.setParams().nx()));
            assertEquals("OK", jedis.set(key, "3", SetParams.setParams().xx()));
            assertEquals("3", jedis.setGet(key, "4"));
            assertEquals(0, jedis.setnx(key, "5"));
            assertEquals("4", jedis.getSet(key, "6"));
            assertEquals("6", jedis.getDel(key));
            assertFalse(jedis.exists(key));
            assertEquals(5, jedis.append(key, "Hello"));
            assertEquals(11, jedis.append(key, " World"));
            assertEquals(11, jedis.strlen(key));
            assertEquals("World", jedis.getrange(key, -5, -1));
            assertEquals("string", jedis.type(key));
        }
    }

    @Test
    void multiKeyCommandsSpanEveryGroup() {
        try (Jedis jedis = jedis()) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                keys.addAll(keysInEveryGroup("multi" + i));
            }
            String[] pairs = keys.stream().flatMap(k -> List.of(k, "m-" + k).stream()).toArray(String[]::new);
            assertEquals("OK", jedis.mset(pairs));
            List<String> expected = keys.stream().map(k -> "m-" + k).toList();
            assertEquals(expected, jedis.mget(keys.toArray(String[]::new)));
            assertEquals(keys.size(), jedis.exists(keys.toArray(String[]::new)));
            assertEquals(keys.size(), jedis.del(keys.toArray(String[]::new)));
            assertEquals(0, jedis.exists(keys.toArray(String[]::new)));
            assertTrue(native_.get(keys.get(0)).isEmpty());
        }
    }

    @Test
    void countersAreExactUnderConcurrentClients() throws Exception {
        String counter = keysInEveryGroup("counter").get(2);
        int clients = 3;
        int increments = 20;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                done.add(pool.submit(() -> {
                    try (Jedis jedis = jedis()) {
                        for (int i = 0; i < increments; i++) {
                            jedis.incr(counter);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        try (Jedis jedis = jedis()) {
            assertEquals(Integer.toString(clients * increments), jedis.get(counter));
            assertEquals(clients * increments + 10, jedis.incrBy(counter, 10));
            assertEquals(clients * increments + 9, jedis.decr(counter));
            assertEquals(clients * increments, jedis.decrBy(counter, 9));
            assertEquals(clients * increments + 0.5, jedis.incrByFloat(counter, 0.5));
            JedisDataException notInteger = assertThrows(JedisDataException.class, () -> jedis.incr(counter));
            assertEquals("ERR value is not an integer or out of range", notInteger.getMessage());
        }
    }

    @Test
    void pipelinedRepliesComeBackInOrder() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            keys.add("pipe:" + i);
        }
        try (Jedis jedis = jedis()) {
            Pipeline pipeline = jedis.pipelined();
            List<Response<Long>> increments = new ArrayList<>();
            List<Response<String>> reads = new ArrayList<>();
            for (String key : keys) {
                pipeline.set(key, "10");
                increments.add(pipeline.incr(key));
                reads.add(pipeline.get(key));
            }
            pipeline.sync();
            for (int i = 0; i < keys.size(); i++) {
                assertEquals(11L, increments.get(i).get(), keys.get(i));
                assertEquals("11", reads.get(i).get(), keys.get(i));
            }
        }
    }

    /**
     * With a write window of 2 per group, most pipelined INCRs find the window full when their
     * read completes: their compare-and-set must wait on a thread of their own, not on the RPC
     * thread whose next reply frees the window (which stalled them until the deadline).
     */
    @Test
    void readModifyWritesWaitingForAWriteSlotDoNotStallTheClient() throws Exception {
        KvClientConfig narrow = new KvClientConfig(cluster.clientAddresses(), LocalCluster.CLUSTER_ID,
                java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(20), java.time.Duration.ofMillis(20),
                java.time.Duration.ofMillis(100), 2);
        try (RespGateway small = RespGateway.start(new InetSocketAddress("127.0.0.1", 0), narrow);
                Jedis jedis = jedis(small.port())) {
            SlotLayout layout = cluster.layout();
            Pipeline pipeline = jedis.pipelined();
            List<Response<Long>> replies = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                replies.add(pipeline.incr(LocalCluster.keyIn(layout, 1, "window:" + i)));
            }
            pipeline.sync();
            for (Response<Long> reply : replies) {
                assertEquals(1L, reply.get(), "a stalled write fails with 'no write slot free within the deadline'");
            }
        }
    }

    @Test
    void scanAndKeysWalkEveryGroup() {
        try (Jedis jedis = jedis()) {
            Set<String> written = new HashSet<>();
            for (int i = 0; i < 60; i++) {
                jedis.set("scan:" + i, "v");
                written.add("scan:" + i);
            }
            Set<String> groups = written.stream().map(k -> Long.toString(native_.groupOf(com.google.protobuf.ByteString.copyFromUtf8(k))))
                    .collect(Collectors.toSet());
            assertEquals(GROUPS, groups.size(), "the keys are spread over every group");
            Set<String> scanned = new HashSet<>();
            String cursor = ScanParams.SCAN_POINTER_START;
            int pages = 0;
            do {
                ScanResult<String> page = jedis.scan(cursor, new ScanParams().match("scan:*").count(7));
                scanned.addAll(page.getResult());
                cursor = page.getCursor();
                pages++;
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START) && pages < 100);
            assertEquals(written, scanned);
            assertTrue(pages > 1, "COUNT 7 takes several pages");
            assertEquals(written, jedis.keys("scan:*"));
            Set<String> teens = java.util.stream.IntStream.range(10, 20).mapToObj(i -> "scan:" + i).collect(Collectors.toSet());
            assertEquals(teens, jedis.keys("scan:1?"), "one byte after 'scan:1', so not scan:1 itself");
            assertTrue(jedis.dbSize() >= written.size());
        }
    }

    @Test
    void serverCommandsAndErrorsLookLikeRedis() {
        try (Jedis jedis = jedis()) {
            assertEquals("hello", jedis.echo("hello"));
            assertEquals("OK", jedis.select(0));
            assertTrue(jedis.info().contains("redis_version:"));
            assertTrue(jedis.info("cluster").contains("loomkv_groups:" + GROUPS));
            assertEquals(Slots.slotOf("{user}:1".getBytes()), jedis.clusterKeySlot("{user}:1"));
            assertEquals(2, jedis.time().size());
            assertEquals("OK", jedis.clientSetname("tester"));
            assertEquals("tester", jedis.clientGetname());
            // Keys with a time to live through the gateway (the slot-aware client carries the expiry).
            assertEquals("OK", jedis.set("ttl", "v", SetParams.setParams().ex(10)));
            assertEquals(10L, jedis.ttl("ttl"));
            assertEquals(1L, jedis.persist("ttl"));
            assertEquals(-1L, jedis.ttl("ttl"));
            JedisDataException badTtl = assertThrows(JedisDataException.class,
                    () -> jedis.set("ttl", "w", SetParams.setParams().ex(0)));
            assertEquals("ERR invalid expire time in 'set' command", badTtl.getMessage());
            assertEquals("v", jedis.get("ttl"));
            JedisDataException unknown = assertThrows(JedisDataException.class,
                    () -> jedis.sendCommand(() -> SafeEncoder.encode("HSET"), "h", "f", "v"));
            assertEquals("ERR unknown command 'HSET', with args beginning with: 'h' 'f' 'v' ", unknown.getMessage());
            JedisDataException arity = assertThrows(JedisDataException.class,
                    () -> jedis.sendCommand(() -> SafeEncoder.encode("GET")));
            assertEquals("ERR wrong number of arguments for 'get' command", arity.getMessage());
        }
    }

    @Test
    void resp3ClientsGetResp3Replies() {
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", gateway.port()),
                DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP3).socketTimeoutMillis(30_000).build())) {
            String key = keysInEveryGroup("resp3").get(0);
            assertEquals("OK", jedis.set(key, "three"));
            assertEquals("three", jedis.get(key));
            assertNull(jedis.get(key + ":missing"));
            assertEquals(List.of("three"), jedis.mget(key));
            assertEquals(1.5, jedis.incrByFloat(key + ":f", 1.5));
        }
    }

    @Test
    void aGatewayWithTlsServesRedisClientsOverTls(@TempDir Path certificates) throws Exception {
        TestCertificates ca = TestCertificates.newCa(certificates, "proxy");
        TestCertificates.Issued proxy = ca.issue(certificates.resolve("proxy"), "proxy");
        TestCertificates.Issued user = ca.issue(certificates.resolve("user"), "user");
        TlsContext tls = TlsContext.load(TlsFiles.server(proxy.certFile(), proxy.keyFile(), ca.caFile(), true), "proxy resp port");
        try (RespGateway secure = RespGateway.start(new InetSocketAddress("127.0.0.1", 0),
                KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID), RespServerConfig.defaults(), tls);
                Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", secure.port()), DefaultJedisClientConfig.builder().ssl(true)
                        .sslSocketFactory(TlsContext.load(TlsFiles.client(ca.caFile(), user.certFile(), user.keyFile()), "jedis")
                                .reloadingSslContext().getSocketFactory())
                        .socketTimeoutMillis(30_000).build())) {
            for (String key : keysInEveryGroup("gateway-tls")) {
                assertEquals("OK", jedis.set(key, "tls " + key));
                assertEquals("tls " + key, native_.get(key).orElseThrow(), "stored in the cluster");
            }
        }
    }
}
