package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import io.loomkv.net.tls.TestCertificates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store configured for mutual TLS on its client port through its properties file, as an
 * operator writes it, and ctl with etcdctl's --cacert/--cert/--key (before or after the
 * subcommand), or with the config folder alone (it then uses the stores' files, as cluster up
 * does); given only an address and no flags ctl gets a clear failure, and --cert without
 * --cacert is a usage error.
 */
class CtlTlsTest {
    @TempDir
    Path dir;

    private static CliRun ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("ctl"));
        all.addAll(List.of(args));
        return CliRun.loomkv(all.toArray(String[]::new));
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }

    @Test
    void ctlSpeaksTlsToAStoreThatDemandsClientCertificates() throws Exception {
        TestCertificates ca = TestCertificates.newCa(dir, "test");
        TestCertificates.Issued server = ca.issue(dir.resolve("store"), "store");
        TestCertificates.Issued user = ca.issue(dir.resolve("user"), "user");
        MemberAddress self = new MemberAddress(1, new InetSocketAddress("127.0.0.1", freePort()),
                new InetSocketAddress("127.0.0.1", freePort()));
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Path file = Files.writeString(conf.resolve("node1.properties"), String.join("\n",
                "node-id=1", "cluster-id=ctl-tls-test",
                "client-address=" + MemberAddress.format(self.clientAddress()),
                "peer-address=" + MemberAddress.format(self.peerAddress()),
                "data-dir=" + dir.resolve("data1"), "members=" + self, "tick-interval-ms=20",
                "client-cert-file=" + server.certFile(), "client-key-file=" + server.keyFile(),
                "client-trusted-ca-file=" + ca.caFile(), "client-cert-auth=true", ""));
        try (Store store = Store.start(NodeConfigLoader.load(file, Map.of()))) {
            // Both groups led before the first command: CliRun captures this JVM's stdout, where the
            // store's own log lines (an election finishing meanwhile) would land in a command's output.
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!(store.isLeader(0) && store.isLeader(1)) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            String cluster = conf.toString();
            CliRun put = ctl("--cluster", cluster, "--cacert", ca.caFile().toString(), "--cert", user.certFile().toString(),
                    "--key", user.keyFile().toString(), "put", "secret", "value");
            assertEquals(0, put.exitCode(), put.out() + put.err());
            CliRun get = ctl("--cluster", cluster, "get", "secret", "--cacert", ca.caFile().toString(),
                    "--cert", user.certFile().toString(), "--key", user.keyFile().toString());
            assertEquals(new CliRun(0, "value\n", ""), get);

            // Given the config folder and no flags, ctl uses the stores' own files (trusted CA, certificate).
            CliRun fromFolder = ctl("--cluster", cluster, "get", "secret");
            assertEquals(new CliRun(0, "value\n", ""), fromFolder);
            // Given only an address, it knows no CA: plain TCP, refused.
            CliRun plain = ctl("--cluster", MemberAddress.format(self.clientAddress()), "--timeout-ms", "1500", "get", "secret");
            assertEquals(1, plain.exitCode(), plain.out());
            assertTrue(plain.err().startsWith("error: "), plain.err());
            CliRun noCa = ctl("--cluster", cluster, "--cert", user.certFile().toString(), "--key", user.keyFile().toString(),
                    "get", "secret");
            assertEquals(2, noCa.exitCode());
            assertTrue(noCa.err().contains("need --cacert"), noCa.err());
            CliRun missing = ctl("--cluster", cluster, "--cacert", dir.resolve("nope.pem").toString(), "get", "secret");
            assertEquals(2, missing.exitCode());
            assertTrue(missing.err().contains("nope.pem does not exist"), missing.err());
        }
    }
}
