package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.ShardedTestCluster;
import io.loomkv.net.proxy.KvProxy;
import io.loomkv.net.proxy.ProxyConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl}, a client that knows nothing of the proxy, pointed at a proxy in front of 3 stores
 * with 3 groups: put, get, mget across every group and scan work through it, and the values are in
 * the real groups.
 */
class ProxyCtlTest {
    @TempDir
    Path dir;

    @Test
    void ctlWorksThroughTheProxy() throws Exception {
        ch.qos.logback.classic.Level quiet = QuietStoreLogs.raise();
        try (ShardedTestCluster cluster = ShardedTestCluster.start(dir, 3, 3);
                KvProxy proxy = KvProxy.start(new InetSocketAddress("127.0.0.1", 0),
                        KvClientConfig.of(cluster.clientAddresses(), ShardedTestCluster.CLUSTER_ID), ProxyConfig.defaults());
                KvClient direct = cluster.client()) {
            String at = "127.0.0.1:" + proxy.port();
            List<String> keys = new ArrayList<>();
            for (long group : cluster.groups()) {
                String key = cluster.keyIn(group, "ctl");
                keys.add(key);
                CliRun put = CliRun.loomkv("ctl", "--cluster", at, "put", key, "v" + group);
                assertEquals(0, put.exitCode(), put.err());
                assertEquals("v" + group, direct.get(key).orElseThrow());
                CliRun get = CliRun.loomkv("ctl", "--cluster", at, "get", key);
                assertEquals("v" + group, get.out().strip(), get.err());
            }
            List<String> mgetArgs = new ArrayList<>(List.of("ctl", "--cluster", at, "mget"));
            mgetArgs.addAll(keys);
            CliRun mget = CliRun.loomkv(mgetArgs.toArray(String[]::new));
            assertEquals(0, mget.exitCode(), mget.err());
            for (int i = 0; i < keys.size(); i++) {
                assertTrue(mget.out().contains("v" + cluster.groups().get(i)), mget.out());
            }
            CliRun scan = CliRun.loomkv("ctl", "--cluster", at, "scan", "ctl");
            assertEquals(0, scan.exitCode(), scan.err());
            for (String key : keys) {
                assertTrue(scan.out().contains(key), scan.out());
            }
        } finally {
            QuietStoreLogs.restore(quiet);
        }
    }
}
