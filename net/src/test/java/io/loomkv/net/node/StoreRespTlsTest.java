package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.loomkv.net.tls.TestCertificates;
import io.loomkv.net.tls.TlsContext;
import io.loomkv.net.tls.TlsFiles;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The stores' RESP ports with client TLS and client-cert-auth on, as an operator configures them:
 * 3 stores, 2 data groups. Jedis's cluster client over TLS routes across both groups (the stores
 * learn each other's RESP addresses over their TLS client ports); a plain client and a TLS client
 * without a certificate are refused; redis-cli --tls works when it is installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreRespTlsTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private LocalCluster cluster;
    private TestCertificates clientCa;
    private TestCertificates.Issued user;
    private Path dir;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        this.dir = dir;
        clientCa = TestCertificates.newCa(dir, "client");
        user = clientCa.issue(dir.resolve("user"), "user");
        List<StoreTls> settings = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            TestCertificates.Issued port = clientCa.issue(dir.resolve("store" + id), "client-port");
            settings.add(new StoreTls(TlsFiles.server(port.certFile(), port.keyFile(), clientCa.caFile(), true), null));
        }
        cluster = new LocalCluster(dir, 3, 10_000, 2).withTls(id -> settings.get((int) id - 1)).withResp().startAll();
        cluster.awaitLeaders();
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private SSLSocketFactory sockets(Path certFile, Path keyFile) throws Exception {
        return TlsContext.load(TlsFiles.client(clientCa.caFile(), certFile, keyFile), "test redis client")
                .reloadingSslContext().getSocketFactory();
    }

    private JedisClientConfig tlsConfig(Path certFile, Path keyFile) throws Exception {
        return DefaultJedisClientConfig.builder().ssl(true).sslSocketFactory(sockets(certFile, keyFile))
                .socketTimeoutMillis((int) PATIENCE.toMillis()).build();
    }

    private HostAndPort resp(long store) {
        return new HostAndPort("127.0.0.1", cluster.respAddress(store).getPort());
    }

    @Test
    void jedisClusterOverTlsRoutesAcrossEveryGroup() throws Exception {
        Set<HostAndPort> seeds = new HashSet<>(List.of(resp(1), resp(2), resp(3)));
        try (JedisCluster jedis = new JedisCluster(seeds, tlsConfig(user.certFile(), user.keyFile()), 10, PATIENCE)) {
            for (long group = 1; group <= 2; group++) {
                String key = cluster.keyIn(group, "tls-jc");
                assertEquals("OK", jedis.set(key, "over TLS " + group));
                assertEquals("over TLS " + group, jedis.get(key));
            }
        }
        try (Jedis one = new Jedis(resp(1), tlsConfig(user.certFile(), user.keyFile()))) {
            assertEquals("PONG", one.ping());
        }
    }

    @Test
    void plainClientsAndClientsWithoutACertificateAreRefused() throws Exception {
        JedisClientConfig plain = DefaultJedisClientConfig.builder().socketTimeoutMillis(5_000).build();
        // Jedis says hello when it connects, so the refusal may come in the constructor or at the first command.
        assertThrows(JedisConnectionException.class, () -> {
            try (Jedis jedis = new Jedis(resp(1), plain)) {
                jedis.ping();
            }
        }, "a plain client on a TLS port gets no Redis answer");
        JedisClientConfig anonymous = tlsConfig(null, null);
        assertThrows(JedisConnectionException.class, () -> {
            try (Jedis jedis = new Jedis(resp(1), anonymous)) {
                jedis.ping();
            }
        }, "client-cert-auth refuses a client without a certificate");
        try (Jedis jedis = new Jedis(resp(1), tlsConfig(user.certFile(), user.keyFile()))) {
            assertEquals("PONG", jedis.ping(), "the store still serves others");
        }
    }

    @Test
    void redisCliWithTlsFollowsRedirects() throws Exception {
        String redisCli = findOnPath("redis-cli");
        assumeTrue(redisCli != null, "redis-cli is not installed: bench/scripts/ensure-redis-tools.sh installs Debian's "
                + "redis-tools");
        for (long group = 1; group <= 2; group++) {
            String key = cluster.keyIn(group, "tls-cli");
            assertEquals("OK", cli(redisCli, "-c", "set", key, "cli " + group));
            assertEquals("cli " + group, cli(redisCli, "-c", "get", key));
        }
    }

    /** redis-cli against store 1's RESP port over TLS, presenting the user's certificate; its output, stripped. */
    private String cli(String redisCli, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(redisCli, "--tls", "--cacert", clientCa.caFile().toString(),
                "--cert", user.certFile().toString(), "--key", user.keyFile().toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(cluster.respAddress(1).getPort())));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile()).start();
        process.getOutputStream().close();
        if (!process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("redis-cli " + command + " did not finish within " + PATIENCE);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(process.exitValue() == 0, "redis-cli exited with " + process.exitValue() + ": " + output);
        return output;
    }

    private static String findOnPath(String program) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(directory, program);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}
