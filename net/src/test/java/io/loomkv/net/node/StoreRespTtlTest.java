package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.params.GetExParams;
import redis.clients.jedis.params.SetParams;

/**
 * Redis's TTL commands through the cluster clients of Jedis and Lettuce against 3 stores with 3 data
 * groups: the keys are spread over every group, so each command reaches each group's leader by -MOVED routing;
 * deadlines set by SET EX, EXPIRE, SETEX and GETEX hold on every group, INCR keeps one, SET removes
 * it, and keys are gone once their time has passed.
 */
class StoreRespTtlTest {
    private static final int GROUPS = 3;

    @TempDir
    Path dir;

    @Test
    void ttlCommandsThroughJedisClusterOnEveryGroup() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).withResp().startAll()) {
            cluster.awaitLeaders();
            Set<HostAndPort> seeds = new HashSet<>();
            for (long id = 1; id <= 3; id++) {
                seeds.add(new HostAndPort("127.0.0.1", cluster.respAddress(id).getPort()));
            }
            try (JedisCluster jedis = new JedisCluster(seeds, DefaultJedisClientConfig.builder()
                    .socketTimeoutMillis(30_000).build(), 10, Duration.ofSeconds(30))) {
                for (long group = 1; group <= GROUPS; group++) {
                    String key = cluster.keyIn(group, "ttl");
                    assertEquals("OK", jedis.set(key, "v", SetParams.setParams().ex(100)));
                    assertEquals(100L, jedis.ttl(key), key);
                    assertTrue(jedis.pttl(key) > 99_000, key);
                    assertEquals(1L, jedis.expire(key, 200));
                    assertEquals(200L, jedis.ttl(key));
                    assertEquals(1L, jedis.persist(key));
                    assertEquals(-1L, jedis.ttl(key));

                    String counter = cluster.keyIn(group, "counter");
                    assertEquals("OK", jedis.setex(counter, 300, "1"));
                    assertEquals(2L, jedis.incr(counter));
                    assertEquals(300L, jedis.ttl(counter), "INCR keeps the deadline");
                    assertEquals("OK", jedis.set(counter, "0"));
                    assertEquals(-1L, jedis.ttl(counter), "SET removes it");

                    String brief = cluster.keyIn(group, "brief");
                    assertEquals("OK", jedis.psetex(brief, 400, "x"));
                    assertEquals("v", jedis.getEx(key, GetExParams.getExParams().px(400)));
                    assertEquals(-2L, jedis.ttl(cluster.keyIn(group, "never-written")));
                }
                lettuceOnEveryGroup(cluster);
                Thread.sleep(1_000);
                for (long group = 1; group <= GROUPS; group++) {
                    assertNull(jedis.get(cluster.keyIn(group, "brief")), "PSETEX 400 ms: gone after a second");
                    assertNull(jedis.get(cluster.keyIn(group, "ttl")), "GETEX PX 400: gone after a second");
                    assertEquals(-2L, jedis.pttl(cluster.keyIn(group, "ttl")));
                    assertEquals("0", jedis.get(cluster.keyIn(group, "counter")));
                    assertNull(jedis.get(cluster.keyIn(group, "lettuce")), "SET PX 500 through Lettuce: gone after a second");
                }
            }
        }
    }

    /** The same commands through Lettuce's cluster client, which routes by CLUSTER SLOTS and -MOVED too. */
    private static void lettuceOnEveryGroup(LocalCluster cluster) {
        List<RedisURI> seeds = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            RedisURI uri = RedisURI.create("127.0.0.1", cluster.respAddress(id).getPort());
            uri.setTimeout(Duration.ofSeconds(30));
            seeds.add(uri);
        }
        RedisClusterClient client = RedisClusterClient.create(seeds);
        client.setOptions(ClusterClientOptions.builder().maxRedirects(10).build());
        try (StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            RedisAdvancedClusterCommands<String, String> redis = connection.sync();
            for (long group = 1; group <= GROUPS; group++) {
                String key = cluster.keyIn(group, "lettuce");
                assertEquals("OK", redis.set(key, "v", SetArgs.Builder.ex(60)));
                assertEquals(60L, redis.ttl(key));
                assertTrue(redis.expire(key, 120));
                assertTrue(redis.pttl(key) > 119_000);
                assertTrue(redis.persist(key));
                assertEquals(-1L, redis.ttl(key));
                assertEquals("OK", redis.set(key, "v", SetArgs.Builder.px(500)));
            }
        } finally {
            client.shutdown();
        }
    }
}
