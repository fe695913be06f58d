package io.loomkv.net.node;

import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership spreads over the stores ({@link LeaderBalancer}): on 3 stores with 6 groups each
 * store leads 2 groups after the start, and a store stopped and restarted (its groups led
 * elsewhere meanwhile) leads its share again. The times are logged; the bound is liveness only.
 */
class StoreLeaderBalanceTest {
    private static final Logger LOG = LoggerFactory.getLogger(StoreLeaderBalanceTest.class);
    private static final int STORES = 3;
    private static final int GROUPS = 6;

    @TempDir
    Path dir;

    /** Groups led per running store, as the stores themselves see it. */
    private static Map<Long, Integer> ledPerStore(LocalCluster cluster) {
        Map<Long, Integer> led = new TreeMap<>();
        for (long id : cluster.runningIds()) {
            led.put(id, (int) cluster.groups().stream().filter(g -> cluster.node(id).isLeader(g)).count());
        }
        return led;
    }

    private static void awaitEvenSpread(LocalCluster cluster) {
        LocalCluster.awaitCondition(() -> "every store leads " + GROUPS / STORES + " groups: " + ledPerStore(cluster),
                () -> ledPerStore(cluster).size() == STORES
                        && ledPerStore(cluster).values().stream().allMatch(n -> n == GROUPS / STORES));
    }

    @Test
    void everyStoreLeadsItsShareAfterStartAndAfterARestart() throws Exception {
        long startNanos = System.nanoTime();
        try (LocalCluster cluster = new LocalCluster(dir, STORES, 10_000, GROUPS).startAll(); KvClient client = cluster.client()) {
            awaitEvenSpread(cluster);
            LOG.info("leadership spread evenly {} ms after the stores started", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
            cluster.stop(2);
            // The other stores take over store 2's groups, and the groups serve.
            for (long g : cluster.groups()) {
                client.put(cluster.keyIn(g, "balance"), "without 2");
            }
            LOG.info("with store 2 down: {}", ledPerStore(cluster));
            long restartNanos = System.nanoTime();
            cluster.start(2);
            awaitEvenSpread(cluster);
            LOG.info("store 2 leads its share again {} ms after its restart", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartNanos));
            for (long g : cluster.groups()) {
                client.put(cluster.keyIn(g, "balance"), "with 2");
            }
        }
    }
}
