package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores with TLS on both ports, as an operator configures them: clients must present a
 * certificate of the client CA, peers verify each other against the peer CA. A cluster serves
 * a TLS client end to end across groups; a client without a trusted certificate is refused; a
 * store whose peer certificate comes from another CA never joins its groups' traffic.
 */
class StoreTlsTest {
    @TempDir
    Path dir;

    @Test
    void aTlsClusterServesTlsClientsAndRefusesOthers() throws Exception {
        TestCertificates clientCa = TestCertificates.newCa(dir, "client");
        TestCertificates peerCa = TestCertificates.newCa(dir, "peer");
        Map<Long, StoreTls> settings = new HashMap<>();
        for (long id = 1; id <= 3; id++) {
            TestCertificates.Issued client = clientCa.issue(dir.resolve("store" + id), "client-port");
            TestCertificates.Issued peer = peerCa.issue(dir.resolve("store" + id), "peer-port");
            settings.put(id, new StoreTls(TlsFiles.server(client.certFile(), client.keyFile(), clientCa.caFile(), true),
                    TlsFiles.server(peer.certFile(), peer.keyFile(), peerCa.caFile(), true)));
        }
        TestCertificates.Issued user = clientCa.issue(dir.resolve("user"), "user");
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 2).withTls(settings::get).startAll()) {
            cluster.awaitLeaders();
            KvClientConfig base = KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID)
                    .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2));
            try (KvClient client = new KvClient(base.withTls(TlsContext.load(
                    TlsFiles.client(clientCa.caFile(), user.certFile(), user.keyFile()), "test client")))) {
                for (long group = 1; group <= 2; group++) {
                    String key = cluster.keyIn(group, "tls-key");
                    assertFalse(client.put(key, "over TLS " + group));
                    assertEquals("over TLS " + group, client.get(key).orElseThrow());
                }
                assertEquals(1, client.config(-1).getConfig().getVersion(), "the controller group runs over peer TLS too");
            }
            KvClientConfig impatient = KvClientConfig.of(cluster.clientAddresses(), LocalCluster.CLUSTER_ID)
                    .withDeadline(Duration.ofSeconds(2), Duration.ofSeconds(1));
            try (KvClient anonymous = new KvClient(impatient.withTls(TlsContext.load(
                    TlsFiles.client(clientCa.caFile(), null, null), "anonymous")))) {
                assertThrows(KvClientException.class, () -> anonymous.get("tls-key"));
            }
            try (KvClient plain = new KvClient(impatient)) {
                assertThrows(KvClientException.class, () -> plain.get("tls-key"));
            }
        }
    }

    @Test
    void aPeerWithACertificateFromAnotherCaCannotJoin() throws Exception {
        TestCertificates peerCa = TestCertificates.newCa(dir, "peer");
        TestCertificates rogueCa = TestCertificates.newCa(dir, "rogue");
        Map<Long, StoreTls> settings = new HashMap<>();
        for (long id = 1; id <= 3; id++) {
            TestCertificates ca = id == 3 ? rogueCa : peerCa;
            TestCertificates.Issued peer = ca.issue(dir.resolve("store" + id), "peer-port");
            settings.put(id, new StoreTls(null, TlsFiles.server(peer.certFile(), peer.keyFile(), ca.caFile(), true)));
        }
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, 1).withTls(settings::get).startAll()) {
            Store leader = cluster.awaitLeader(LocalCluster.GROUP);
            assertTrue(leader.storeId() != 3, "store 3 cannot win an election it cannot talk to");
            try (KvClient client = cluster.client(java.util.List.of(1L, 2L))) {
                for (int i = 0; i < 20; i++) {
                    client.put("k" + i, "v" + i);
                }
            }
            long committed = leader.appliedIndex(LocalCluster.GROUP);
            Thread.sleep(1_000);
            assertEquals(0, cluster.node(3).leaderId(LocalCluster.GROUP), "store 3 never heard from a leader");
            assertTrue(cluster.node(3).appliedIndex(LocalCluster.GROUP) < committed,
                    "store 3 applied " + cluster.node(3).appliedIndex(LocalCluster.GROUP) + " of " + committed);
        }
    }
}
