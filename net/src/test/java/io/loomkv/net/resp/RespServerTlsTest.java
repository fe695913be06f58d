package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * A RESP server with TLS (what a store's resp-address and the proxy's --resp-listen become with
 * certificates): Jedis with ssl=true and Lettuce with SslOptions round-trip over it, a plain-TCP
 * client is cut off without a Redis reply, and with client certificates required a client
 * without one is refused while the server goes on serving the others.
 */
class RespServerTlsTest {
    private final MemoryBackend backend = new MemoryBackend();
    private RespServer server;

    @TempDir
    Path dir;

    private TestCertificates ca;
    private TestCertificates.Issued user;

    private int start(boolean requireClientCert) throws Exception {
        ca = TestCertificates.newCa(dir, "resp");
        TestCertificates.Issued serverCertificate = ca.issue(dir.resolve("server"), "server");
        user = ca.issue(dir.resolve("user"), "user");
        TlsContext tls = TlsContext.load(TlsFiles.server(serverCertificate.certFile(), serverCertificate.keyFile(),
                requireClientCert ? ca.caFile() : null, requireClientCert), "resp port");
        server = new RespServer(RespServerConfig.defaults(), backend, tls);
        return server.start(new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        backend.release();
        if (server != null) {
            server.close();
        }
    }

    private JedisClientConfig jedisTls(boolean withCertificate) throws IOException {
        TlsFiles files = TlsFiles.client(ca.caFile(), withCertificate ? user.certFile() : null,
                withCertificate ? user.keyFile() : null);
        return DefaultJedisClientConfig.builder().ssl(true)
                .sslSocketFactory(TlsContext.load(files, "jedis").reloadingSslContext().getSocketFactory())
                .socketTimeoutMillis(10_000).build();
    }

    @Test
    void jedisAndLettuceOverTlsAndAPlainClientCutOff() throws Exception {
        int port = start(false);
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", port), jedisTls(false))) {
            assertEquals("OK", jedis.set("k", "over TLS"));
            assertEquals("over TLS", jedis.get("k"));
        }
        RedisURI uri = RedisURI.builder().withHost("127.0.0.1").withPort(port).withSsl(true).withVerifyPeer(true)
                .withTimeout(Duration.ofSeconds(10)).build();
        try (RedisClient lettuce = RedisClient.create(uri)) {
            lettuce.setOptions(ClientOptions.builder().sslOptions(SslOptions.builder().jdkSslProvider()
                    .trustManager(ca.caFile().toFile()).build()).build());
            try (StatefulRedisConnection<String, String> connection = lettuce.connect()) {
                assertEquals("over TLS", connection.sync().get("k"));
                assertEquals("OK", connection.sync().set("k", "lettuce"));
            }
        }
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            // At most a TLS alert record comes back, then the end of the stream: never a Redis reply.
            byte[] answer = plain.getInputStream().readAllBytes();
            assertTrue(answer.length == 0 || answer[0] == 0x15, "a plain client on a TLS port is cut off, got "
                    + new String(answer, StandardCharsets.ISO_8859_1));
        }
        // JSSE closes the connection before the server's reader sees the failure: wait for the count (bounded).
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.badConnections() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, server.badConnections(), "the failed handshake is counted");
    }

    @Test
    void withClientCertificatesRequiredAClientWithoutOneIsRefused() throws Exception {
        int port = start(true);
        JedisClientConfig anonymous = jedisTls(false);
        assertThrows(JedisConnectionException.class, () -> {
            try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", port), anonymous)) {
                jedis.ping();
            }
        });
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", port), jedisTls(true))) {
            assertEquals("PONG", jedis.ping(), "a client with a certificate of the CA is served");
        }
    }
}
