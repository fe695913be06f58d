package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.tls.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
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
 * subcommand); without them ctl gets a clear failure, and --cert without --cacert is a usage error.
 */
class CtlTlsTest {
    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run ctl(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            List<String> all = new ArrayList<>(List.of("ctl"));
            all.addAll(List.of(args));
            int code = LoomKv.commandLine().execute(all.toArray(String[]::new));
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
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
            String cluster = conf.toString();
            Run put = ctl("--cluster", cluster, "--cacert", ca.caFile().toString(), "--cert", user.certFile().toString(),
                    "--key", user.keyFile().toString(), "put", "secret", "value");
            assertEquals(0, put.exitCode(), put.out() + put.err());
            Run get = ctl("--cluster", cluster, "get", "secret", "--cacert", ca.caFile().toString(),
                    "--cert", user.certFile().toString(), "--key", user.keyFile().toString());
            assertEquals(new Run(0, "value\n", ""), get);

            Run plain = ctl("--cluster", cluster, "--timeout-ms", "1500", "get", "secret");
            assertEquals(1, plain.exitCode(), plain.out());
            assertTrue(plain.err().startsWith("error: "), plain.err());
            Run noCa = ctl("--cluster", cluster, "--cert", user.certFile().toString(), "--key", user.keyFile().toString(),
                    "get", "secret");
            assertEquals(2, noCa.exitCode());
            assertTrue(noCa.err().contains("need --cacert"), noCa.err());
            Run missing = ctl("--cluster", cluster, "--cacert", dir.resolve("nope.pem").toString(), "get", "secret");
            assertEquals(2, missing.exitCode());
            assertTrue(missing.err().contains("nope.pem does not exist"), missing.err());
        }
    }
}
