package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.node.ShardedTestCluster;
import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's port with TLS, as a store's client port has it: a client that trusts the proxy's CA
 * and presents a certificate of the client CA gets through to every group; one without a
 * certificate, or speaking plain TCP, does not.
 */
class ProxyTlsTest {

    @Test
    void theProxyPortSpeaksTlsAndDemandsAClientCertificate(@TempDir Path dir) throws Exception {
        TestCertificates serverCa = TestCertificates.newCa(dir, "proxy-server");
        TestCertificates clientCa = TestCertificates.newCa(dir, "proxy-clients");
        TestCertificates.Issued server = serverCa.issue(dir.resolve("proxy"), "proxy");
        TestCertificates.Issued user = clientCa.issue(dir.resolve("user"), "user");
        TlsContext listenTls = TlsContext.load(TlsFiles.server(server.certFile(), server.keyFile(), clientCa.caFile(), true),
                "proxy listen port");
        try (ShardedTestCluster cluster = ShardedTestCluster.start(dir.resolve("cluster"), 3, 2)) {
            KvClientConfig upstream = KvClientConfig.of(cluster.clientAddresses(), ShardedTestCluster.CLUSTER_ID)
                    .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2));
            try (KvProxy proxy = KvProxy.start(new InetSocketAddress("127.0.0.1", 0), upstream, ProxyConfig.defaults(), listenTls)) {
                KvClientConfig toProxy = KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", proxy.port())),
                        ShardedTestCluster.CLUSTER_ID);
                try (KvClient client = new KvClient(toProxy.withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(5))
                        .withTls(TlsContext.load(TlsFiles.client(serverCa.caFile(), user.certFile(), user.keyFile()), "user")))) {
                    for (long group : cluster.groups()) {
                        String key = cluster.keyIn(group, "tls");
                        client.put(key, "v" + group);
                        assertEquals("v" + group, client.get(key).orElseThrow());
                    }
                }
                KvClientConfig impatient = toProxy.withDeadline(Duration.ofSeconds(2), Duration.ofSeconds(1));
                try (KvClient anonymous = new KvClient(impatient.withTls(TlsContext.load(
                        TlsFiles.client(serverCa.caFile(), null, null), "anonymous")))) {
                    assertThrows(KvClientException.class, () -> anonymous.get("k"));
                }
                try (KvClient plain = new KvClient(impatient)) {
                    assertThrows(KvClientException.class, () -> plain.get("k"));
                }
            }
        }
    }
}
