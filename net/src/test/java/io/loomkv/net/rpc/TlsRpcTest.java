package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.WAIT;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.assertEcho;
import static io.loomkv.net.rpc.TestRpc.echoRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * TLS on the RPC transport with certificates from test CAs: a client verifies the server, a server
 * that demands client certificates refuses those without one or from another CA, an expired
 * certificate is refused on either side with a log line that says so, changed certificate files
 * are picked up by new connections, and bad files are refused when loaded, by name.
 */
class TlsRpcTest {
    @TempDir
    Path dir;
    private TestCertificates ca;
    private TestCertificates otherCa;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger connectionLogger = (Logger) LoggerFactory.getLogger(ServerConnection.class);

    @BeforeEach
    void setUp() throws Exception {
        ca = TestCertificates.newCa(dir, "main");
        otherCa = TestCertificates.newCa(dir, "other");
        logged.start();
        connectionLogger.addAppender(logged);
    }

    @AfterEach
    void tearDown() {
        connectionLogger.detachAppender(logged);
    }

    private RpcServer server(TlsFiles files) throws IOException {
        return TestRpc.startServer(RpcServerConfig.defaults(CLUSTER).withTls(TlsContext.load(files, "test server")),
                EchoService.register(RpcHandlers.builder()).build());
    }

    private static RpcClient client(TlsFiles files) throws IOException {
        return new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1)
                .withTls(files == null ? null : TlsContext.load(files, "test client")));
    }

    private static String failure(RpcClient client, RpcServer server) throws Exception {
        return TestRpc.failure(client.endpoint(address(server)).call(EchoService.ECHO, echoRequest("x"), WAIT)).getMessage();
    }

    private void awaitLogged(String what, Supplier<Boolean> condition) throws InterruptedException {
        TestRpc.waitFor(what + " in the log; logged: " + logged.list, condition::get);
    }

    private boolean loggedContaining(String text) {
        synchronized (logged.list) {
            return logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
        }
    }

    @Test
    void clientVerifiesTheServerAgainstItsTrustedCa() throws Exception {
        TestCertificates.Issued serverCert = ca.issue(dir, "server");
        try (RpcServer server = server(TlsFiles.server(serverCert.certFile(), serverCert.keyFile(), null, false))) {
            try (RpcClient trusting = client(TlsFiles.client(ca.caFile(), null, null))) {
                assertEcho(trusting.endpoint(address(server)), "over TLS");
            }
            try (RpcClient stranger = client(TlsFiles.client(otherCa.caFile(), null, null))) {
                String message = failure(stranger, server);
                assertTrue(message.contains("not signed by a trusted CA"), message);
            }
            try (RpcClient plain = client(null)) {
                failure(plain, server); // A plain Hello is not a TLS record: the server drops the connection.
            }
            awaitLogged("the server's line about the plain-TCP client", () -> loggedContaining("does not speak TLS"));
            // A plain-TCP client or a refused handshake does not disturb a good client.
            try (RpcClient trusting = client(TlsFiles.client(ca.caFile(), null, null))) {
                assertEcho(trusting.endpoint(address(server)), "still");
            }
        }
    }

    @Test
    void clientCertAuthRefusesClientsWithoutACertificateFromTheTrustedCa() throws Exception {
        TestCertificates.Issued serverCert = ca.issue(dir, "server");
        TestCertificates.Issued goodClient = ca.issue(dir, "client");
        TestCertificates.Issued foreignClient = otherCa.issue(dir.resolve("other"), "client");
        try (RpcServer server = server(TlsFiles.server(serverCert.certFile(), serverCert.keyFile(), ca.caFile(), true))) {
            try (RpcClient good = client(TlsFiles.client(ca.caFile(), goodClient.certFile(), goodClient.keyFile()))) {
                assertEcho(good.endpoint(address(server)), "mutual TLS");
            }
            try (RpcClient anonymous = client(TlsFiles.client(ca.caFile(), null, null))) {
                failure(anonymous, server);
            }
            awaitLogged("a refusal of the client without a certificate", () -> loggedContaining("no client certificate presented"));
            logged.list.clear();
            try (RpcClient foreign = client(TlsFiles.client(ca.caFile(), foreignClient.certFile(), foreignClient.keyFile()))) {
                failure(foreign, server);
            }
            // JSSE offers no certificate whose issuer the server did not ask for: to the server it is one without.
            awaitLogged("a refusal of the client of another CA", () -> loggedContaining("no client certificate presented"));
        }
    }

    @Test
    void expiredCertificatesAreRefusedOnEitherSideWithALineSayingSo() throws Exception {
        TestCertificates.Issued expiredServer = ca.issueExpired(dir.resolve("expired"), "server");
        try (RpcServer server = server(TlsFiles.server(expiredServer.certFile(), expiredServer.keyFile(), null, false));
                RpcClient client = client(TlsFiles.client(ca.caFile(), null, null))) {
            String message = failure(client, server);
            assertTrue(message.contains("EXPIRED"), message);
        }
        TestCertificates.Issued serverCert = ca.issue(dir, "server");
        TestCertificates.Issued expiredClient = ca.issueExpired(dir.resolve("expired"), "client");
        try (RpcServer server = server(TlsFiles.server(serverCert.certFile(), serverCert.keyFile(), ca.caFile(), true));
                RpcClient client = client(TlsFiles.client(ca.caFile(), expiredClient.certFile(), expiredClient.keyFile()))) {
            failure(client, server);
            awaitLogged("the server's line about the expired client certificate",
                    () -> loggedContaining("TLS handshake failed: the certificate has EXPIRED"));
        }
    }

    @Test
    void changedCertificateFilesAreUsedByNewConnections() throws Exception {
        TestCertificates.Issued first = ca.issue(dir.resolve("first"), "server");
        TestCertificates.Issued second = otherCa.issue(dir.resolve("second"), "server");
        Path certFile = dir.resolve("server.pem");
        Path keyFile = dir.resolve("server-key.pem");
        Files.copy(first.certFile(), certFile);
        Files.copy(first.keyFile(), keyFile);
        try (RpcServer server = server(TlsFiles.server(certFile, keyFile, null, false))) {
            try (RpcClient trustsFirst = client(TlsFiles.client(ca.caFile(), null, null))) {
                assertEcho(trustsFirst.endpoint(address(server)), "first certificate");
            }
            // Rotate: key first, then the certificate, as a deployment tool would; both files change.
            Files.copy(second.keyFile(), keyFile, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(second.certFile(), certFile, StandardCopyOption.REPLACE_EXISTING);
            FileTime later = FileTime.from(Instant.now().plusSeconds(5));
            Files.setLastModifiedTime(certFile, later);
            Files.setLastModifiedTime(keyFile, later);
            TestRpc.waitFor("a new connection presents the second certificate", () -> {
                try (RpcClient trustsSecond = client(TlsFiles.client(otherCa.caFile(), null, null))) {
                    trustsSecond.endpoint(address(server)).call(EchoService.ECHO, echoRequest("y"), WAIT).get();
                    return true;
                } catch (Exception e) {
                    return false;
                }
            });
            try (RpcClient trustsFirst = client(TlsFiles.client(ca.caFile(), null, null))) {
                String message = failure(trustsFirst, server);
                assertTrue(message.contains("not signed by a trusted CA"), message);
            }
        }
    }

    @Test
    void badFilesAreRefusedWhenLoadedNamingTheProblem() throws Exception {
        TestCertificates.Issued server = ca.issue(dir, "server");
        TestCertificates.Issued other = ca.issue(dir, "other");
        IOException mismatch = assertThrows(IOException.class,
                () -> TlsContext.load(TlsFiles.server(server.certFile(), other.keyFile(), null, false), "test"));
        assertTrue(mismatch.getMessage().contains("does not belong to the certificate"), mismatch.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> TlsContext.load(TlsFiles.server(dir.resolve("nope.pem"), server.keyFile(), null, false), "test"));
        assertTrue(missing.getMessage().contains("nope.pem does not exist"), missing.getMessage());
        IOException notACertificate = assertThrows(IOException.class,
                () -> TlsContext.load(TlsFiles.server(server.keyFile(), server.keyFile(), null, false), "test"));
        assertTrue(notACertificate.getMessage().contains("certificate"), notACertificate.getMessage());
        Path encrypted = Files.writeString(dir.resolve("encrypted-key.pem"),
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        IOException unsupported = assertThrows(IOException.class,
                () -> TlsContext.load(TlsFiles.server(server.certFile(), encrypted, null, false), "test"));
        assertTrue(unsupported.getMessage().contains("openssl pkcs8 -topk8 -nocrypt"), unsupported.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TlsFiles.server(server.certFile(), server.keyFile(), null, true));
        assertThrows(IllegalArgumentException.class, () -> TlsFiles.client(null, null, null));
    }

    @Test
    void anRsaKeyInPkcs1FormWorks() throws Exception {
        TestCertificates.Issued rsa = ca.issueRsaPkcs1(dir, "rsa-server");
        assertTrue(Files.readString(rsa.keyFile()).startsWith("-----BEGIN RSA PRIVATE KEY-----"));
        try (RpcServer server = server(TlsFiles.server(rsa.certFile(), rsa.keyFile(), null, false));
                RpcClient client = client(TlsFiles.client(ca.caFile(), null, null))) {
            assertEcho(client.endpoint(address(server)), "RSA");
        }
        assertEquals("RSA", TlsContext.load(TlsFiles.server(rsa.certFile(), rsa.keyFile(), null, false), "t")
                .certificate().getPublicKey().getAlgorithm());
    }
}
