package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A Redis client that connects for a few commands at a time (redis-benchmark per test, many web
 * frameworks per request) takes over the write session a closed connection left idle, instead of
 * opening one more in the group (a Raft write) every time; and the writes stay exactly as they
 * were sent.
 */
class StoreRespSessionReuseTest {

    @TempDir
    Path dir;

    @Test
    void connectionsOneAfterAnotherReuseOneSession() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).withResp().startAll()) {
            // The stores settle their leaders soon after the start (the balancer may hand the group over once).
            LocalCluster.awaitCondition("a leader that keeps its group for 2 s", () -> {
                long leader = cluster.awaitLeader().storeId();
                sleep(2_000);
                return cluster.awaitLeader().storeId() == leader;
            });
            Store leader = cluster.awaitLeader();
            int before = leader.sessionCount(LocalCluster.GROUP);
            int connections = 30;
            HostAndPort resp = new HostAndPort("127.0.0.1", cluster.respAddress(leader.storeId()).getPort());
            for (int i = 0; i < connections; i++) {
                try (Jedis jedis = new Jedis(resp, DefaultJedisClientConfig.builder().socketTimeoutMillis(30_000).build())) {
                    assertEquals("OK", jedis.set("reuse", "v" + i));
                    assertEquals(i + 1L, jedis.incr("reuse-count"));
                }
            }
            assertTrue(leader.isLeader(LocalCluster.GROUP), "the leader changed during the test: its session count says nothing");
            int opened = leader.sessionCount(LocalCluster.GROUP) - before;
            assertTrue(opened >= 1 && opened <= 3, connections + " connections one after another opened " + opened
                    + " sessions; a closed connection's idle session should be taken over by the next");
            try (Jedis jedis = new Jedis(resp)) {
                assertEquals("v" + (connections - 1), jedis.get("reuse"));
                assertEquals(String.valueOf(connections), jedis.get("reuse-count"), "every INCR applied once");
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
