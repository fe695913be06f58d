package io.loomkv.net.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics and health endpoints over HTTPS ({@code metrics-tls=true}): /metrics and /livez
 * fetched by a client that trusts the CA, a plain-HTTP request refused, a client without a
 * certificate refused when client certificates are required, and a renewed certificate served
 * to new connections without a restart.
 */
class MetricsServerTlsTest {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    @TempDir
    Path dir;

    private static MetricsServer start(TlsContext tls) throws IOException {
        return MetricsServer.start(ANY_PORT, StoreMetrics.enabled(), List.of(new HealthCheck("store", () -> null)), List.of(),
                tls);
    }

    private static HttpResponse<String> get(SSLContext trust, String scheme, MetricsServer server, String path)
            throws IOException, InterruptedException {
        // A client per request: each opens a new connection, as a scraper that rotated would.
        try (HttpClient client = HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(10)).build()) {
            return client.send(HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + server.address().getPort() + path))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static SSLContext client(TestCertificates ca, TestCertificates.Issued certificate) throws IOException {
        return TlsContext.load(TlsFiles.client(ca.caFile(), certificate == null ? null : certificate.certFile(),
                certificate == null ? null : certificate.keyFile()), "test scraper").reloadingSslContext();
    }

    @Test
    void metricsAndLivezOverHttpsAndNotOverPlainHttp() throws Exception {
        TestCertificates ca = TestCertificates.newCa(dir, "metrics");
        TestCertificates.Issued store = ca.issue(dir.resolve("store"), "store");
        try (MetricsServer server = start(TlsContext.load(TlsFiles.server(store.certFile(), store.keyFile(), null, false),
                "metrics port"))) {
            SSLContext trust = client(ca, null);
            HttpResponse<String> metrics = get(trust, "https", server, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("# TYPE"), metrics.body());
            HttpResponse<String> livez = get(trust, "https", server, "/livez");
            assertEquals(200, livez.statusCode());
            assertEquals("ok\n", livez.body());
            assertThrows(IOException.class, () -> get(trust, "http", server, "/livez"), "plain HTTP on the HTTPS port");
        }
    }

    @Test
    void withClientCertAuthAScraperWithoutACertificateIsRefused() throws Exception {
        TestCertificates ca = TestCertificates.newCa(dir, "metrics");
        TestCertificates.Issued store = ca.issue(dir.resolve("store"), "store");
        TestCertificates.Issued prometheus = ca.issue(dir.resolve("prometheus"), "prometheus");
        try (MetricsServer server = start(TlsContext.load(TlsFiles.server(store.certFile(), store.keyFile(), ca.caFile(), true),
                "metrics port"))) {
            assertThrows(IOException.class, () -> get(client(ca, null), "https", server, "/livez"));
            assertEquals(200, get(client(ca, prometheus), "https", server, "/livez").statusCode());
        }
    }

    @Test
    void aRenewedCertificateIsServedWithoutARestart() throws Exception {
        TestCertificates ca = TestCertificates.newCa(dir, "metrics");
        TestCertificates.Issued first = ca.issue(dir.resolve("store"), "store");
        try (MetricsServer server = start(TlsContext.load(TlsFiles.server(first.certFile(), first.keyFile(), null, false),
                "metrics port"))) {
            SSLContext trust = client(ca, null);
            assertEquals(first.certificate().getSerialNumber(), servedSerial(trust, server));
            TestCertificates.Issued renewed = ca.issue(dir.resolve("renewed"), "store");
            Files.copy(renewed.keyFile(), first.keyFile(), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.certFile(), first.certFile(), StandardCopyOption.REPLACE_EXISTING);
            assertNotEquals(first.certificate().getSerialNumber(), renewed.certificate().getSerialNumber());
            // The files are looked at again at most once a second, at a new connection.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            BigInteger served = servedSerial(trust, server);
            while (!served.equals(renewed.certificate().getSerialNumber()) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                served = servedSerial(trust, server);
            }
            assertEquals(renewed.certificate().getSerialNumber(), served);
        }
    }

    private static BigInteger servedSerial(SSLContext trust, MetricsServer server) throws Exception {
        HttpResponse<String> response = get(trust, "https", server, "/livez");
        assertEquals(200, response.statusCode());
        return ((X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
    }
}
