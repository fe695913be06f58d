package io.loomkv.net.proxy;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.ShardedTestCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/** Starting a proxy in front of a test cluster, and a caller that knows only the proxy. */
final class ProxyTests {
    private ProxyTests() {
    }

    /** A proxy on a free loopback port in front of {@code cluster}; upstream attempts of 2 s within 30 s. */
    static KvProxy startProxy(ShardedTestCluster cluster, ProxyConfig config) throws IOException {
        KvClientConfig upstream = KvClientConfig.of(cluster.clientAddresses(), ShardedTestCluster.CLUSTER_ID)
                .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2));
        return KvProxy.start(new InetSocketAddress("127.0.0.1", 0), upstream, config);
    }

    /** An unmodified client given only the proxy's address. */
    static KvClient callerOf(KvProxy proxy) {
        return new KvClient(KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", proxy.port())),
                ShardedTestCluster.CLUSTER_ID).withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(5)));
    }

    static void closeAll(AutoCloseable... resources) {
        for (AutoCloseable resource : resources) {
            try {
                if (resource != null) {
                    resource.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException("could not close " + resource, e);
            }
        }
    }
}
