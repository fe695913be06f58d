package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * redis-cli (Debian's redis-tools) against the stores' RESP endpoints, in normal mode (one store:
 * the leader answers, another store answers -MOVED) and in cluster mode ({@code -c}, which follows
 * the redirects). 3 stores and 2 data groups, so one store leads no group. Skipped with a message
 * when redis-cli is not installed ({@code bench/scripts/ensure-redis-tools.sh} installs it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreRespRedisCliTest {
    private static final long CLI_TIMEOUT_SECONDS = 30;

    private String redisCli;
    private LocalCluster cluster;
    private KvClient native_;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        redisCli = findOnPath("redis-cli");
        assumeTrue(redisCli != null, "redis-cli is not installed: bench/scripts/ensure-redis-tools.sh installs Debian's "
                + "redis-tools (./loomkv test runs it where apt-get and root or sudo are available)");
        cluster = new LocalCluster(dir, 3, 10_000, 2).withResp().startAll();
        cluster.awaitLeaders();
        native_ = cluster.client();
    }

    @AfterAll
    void stop() {
        if (native_ != null) {
            native_.close();
        }
        if (cluster != null) {
            cluster.close();
        }
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

    /** Runs redis-cli against store {@code store}'s RESP port; its output without the trailing newline. */
    private String cli(long store, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(redisCli, "-h", "127.0.0.1", "-p",
                Integer.toString(cluster.respAddress(store).getPort())));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        if (!process.waitFor(CLI_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("redis-cli " + command + " did not finish within " + CLI_TIMEOUT_SECONDS + " s");
        }
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    private long groupOf(String key) {
        return cluster.layout().groupOf(Slots.slotOf(ByteString.copyFromUtf8(key)));
    }

    @Test
    void normalModeTalksToOneStoreWhichAnswersOrRedirects() throws Exception {
        String key = "cli-normal";
        long leader = cluster.awaitLeader(groupOf(key)).storeId();
        long other = leader % 3 + 1;
        assertEquals("PONG", cli(leader, "ping"));
        assertEquals("OK", cli(leader, "set", key, "v1"));
        assertEquals("v1", cli(leader, "get", key));
        assertEquals(Long.toString(Slots.slotOf(ByteString.copyFromUtf8(key))), cli(other, "cluster", "keyslot", key));
        String moved = cli(other, "get", key);
        assertTrue(moved.contains("MOVED " + Slots.slotOf(ByteString.copyFromUtf8(key)) + " 127.0.0.1:"
                + cluster.respAddress(leader).getPort()), moved);
        assertEquals("v1", native_.get(key).orElseThrow(), "the native client reads what redis-cli wrote");
    }

    @Test
    void clusterModeFollowsRedirectsFromAnyStore() throws Exception {
        List<String> keys = List.of(cluster.keyIn(1, "cli-c"), cluster.keyIn(2, "cli-c"));
        for (long store = 1; store <= 3; store++) {
            for (String key : keys) {
                assertEquals("OK", cli(store, "-c", "set", key, "from-" + store));
                assertEquals("from-" + store, cli(store, "-c", "get", key));
                assertEquals("from-" + store, native_.get(key).orElseThrow());
            }
        }
        AtomicReference<String> info = new AtomicReference<>();
        LocalCluster.awaitCondition(() -> "CLUSTER INFO says ok: " + info.get(), () -> {
            try {
                return info.updateAndGet(old -> run(() -> cli(1, "-c", "cluster", "info"))).contains("cluster_state:ok");
            } catch (RuntimeException e) {
                return false;
            }
        });
        String crossSlot = cli(1, "-c", "mset", "cli-x", "1", "cli-y", "2");
        assertTrue(crossSlot.contains("CROSSSLOT Keys in request don't hash to the same slot"), crossSlot);
    }

    private interface CliCall {
        String call() throws Exception;
    }

    private static String run(CliCall call) {
        try {
            return call.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
