package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.client.KvClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store's HTTP endpoints on real stores: {@code /livez} never waits for a leader, {@code /readyz}
 * and {@code /health} do (with etcd's verbose lines), bad paths and methods are refused, the
 * metrics move with the traffic, and every metric the shipped dashboard and alert rules use is
 * exported by a running store.
 */
class StoreMetricsTest {
    private static final Path OPS = Path.of("..", "ops");
    private static final Pattern METRIC_NAME = Pattern.compile("\\b((?:loomkv|jvm|process)_[a-zA-Z0-9_]+)");

    /** Small, so that the puts below make the groups take snapshots. */
    private static final long SNAPSHOT_EVERY_ENTRIES = 10;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void healthFollowsTheLeadersAndMetricsMoveWithTraffic() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, SNAPSHOT_EVERY_ENTRIES, 2).withMetrics()) {
            Store first = cluster.start(1);
            InetSocketAddress address = first.metricsAddress();
            // Alone, store 1 cannot elect anyone: alive, but not ready.
            assertEquals(200, get(address, "/livez").statusCode());
            assertEquals("ok\n", get(address, "/livez").body());
            HttpResponse<String> livez = get(address, "/livez?verbose");
            assertEquals(200, livez.statusCode());
            assertTrue(livez.body().contains("[+]store ok\n") && livez.body().contains("[+]wal ok\n"), livez.body());
            HttpResponse<String> notReady = get(address, "/readyz?verbose");
            assertEquals(503, notReady.statusCode());
            assertTrue(notReady.body().contains("[+]started ok\n"), notReady.body());
            int hosted = first.groups().size(); // The 2 data groups, and the shard controller's group 0.
            assertTrue(notReady.body().contains("[-]leader failed: " + hosted + " of " + hosted + " groups without a known leader"),
                    notReady.body());
            assertTrue(notReady.body().endsWith("readyz check failed\n"), notReady.body());
            HttpResponse<String> unhealthy = get(address, "/health");
            assertEquals(503, unhealthy.statusCode());
            assertTrue(unhealthy.body().startsWith("{\"health\":\"false\",\"reason\":\"leader: "), unhealthy.body());

            cluster.start(2);
            cluster.start(3);
            cluster.awaitLeaders();
            for (long id : cluster.runningIds()) {
                InetSocketAddress store = cluster.node(id).metricsAddress();
                // Awaited rather than asserted once: an election may be under way on a loaded machine.
                LocalCluster.awaitCondition(() -> "store " + id + " ready: " + get(store, "/readyz?verbose=1").body(),
                        () -> get(store, "/readyz?verbose=1").body()
                                .equals("[+]store ok\n[+]wal ok\n[+]started ok\n[+]leader ok\n[+]replicas ok\nok\n"));
                LocalCluster.awaitCondition(() -> "store " + id + " /readyz and /health",
                        () -> get(store, "/readyz").body().equals("ok\n")
                                && get(store, "/health").body().equals("{\"health\":\"true\",\"reason\":\"\"}\n"));
            }

            assertEquals(404, get(address, "/nope").statusCode());
            assertEquals(404, get(address, "/metricsx").statusCode());
            assertEquals(404, get(address, "/livez/extra").statusCode());
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri(address, "/livez"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());

            Map<String, Double> before = scrapeAll(cluster);
            int puts = 40;
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < puts; i++) {
                    assertFalse(client.put("metrics-key-" + i, "value-" + i), "a new key existed");
                }
                assertEquals("value-7", client.get("metrics-key-7").orElseThrow());
            }
            Map<String, Double> after = scrapeAll(cluster);
            String timedPuts = "loomkv_server_request_duration_seconds_count{operation=\"put\"}";
            assertTrue(after.get(timedPuts) - before.get(timedPuts) >= puts, before.get(timedPuts) + " -> " + after.get(timedPuts));
            assertGrew(before, after, "loomkv_server_proposals_applied_total");
            assertGrew(before, after, "loomkv_server_proposals_committed_total");
            assertGrew(before, after, "loomkv_disk_wal_fsync_duration_seconds_count");
            assertGrew(before, after, "loomkv_disk_wal_write_bytes_total");
            assertGrew(before, after, "loomkv_raft_worker_turns_total");
            assertGrew(before, after, "loomkv_raft_worker_passes_total");
            // A pass flushes after at least one turn.
            assertTrue(after.get("loomkv_raft_worker_turns_total") >= after.get("loomkv_raft_worker_passes_total"), after.toString());
            assertGrew(before, after, "loomkv_network_client_received_bytes_total");
            assertGrew(before, after, "loomkv_network_client_sent_bytes_total");
            assertGrew(before, after, "loomkv_engine_keys");
            assertGrew(before, after, "loomkv_network_peer_received_bytes_total");
            assertGrew(before, after, "loomkv_network_peer_sent_bytes_total");
            LocalCluster.awaitCondition("a snapshot saved", () -> sum(scrape(cluster), "loomkv_disk_snapshot_save_duration_seconds_count") > 0);
            LocalCluster.awaitCondition("a peer round trip measured",
                    () -> sum(scrape(cluster), "loomkv_network_peer_round_trip_time_seconds_count{") > 0);

            // Every replica counted once, every group led by one store.
            Set<Long> groups = new TreeSet<>();
            int replicas = 0;
            for (long id : cluster.runningIds()) {
                groups.addAll(cluster.node(id).groups());
                replicas += cluster.node(id).groups().size();
            }
            assertEquals((double) replicas, after.get("loomkv_server_groups"));
            LocalCluster.awaitCondition(() -> "every group led by one store: " + scrape(cluster),
                    () -> {
                        Map<String, Double> now = scrape(cluster);
                        return now.get("loomkv_server_groups_without_leader") == 0
                                && now.get("loomkv_server_is_leader_groups") == groups.size();
                    });

            Set<String> exported = seriesNames(get(address, "/metrics").body());
            Set<String> missing = new TreeSet<>();
            for (String used : namesUsedByOps()) {
                if (!exported.contains(used)) {
                    missing.add(used);
                }
            }
            assertTrue(missing.isEmpty(), "used by ops/ but not exported: " + missing + "\nexported: " + exported);
        }
    }

    @Test
    void withoutAMetricsAddressNothingListens() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 1, 10_000)) {
            Store store = cluster.start(1);
            assertNull(store.metricsAddress());
            assertNull(store.config().metricsAddress());
        }
    }

    @Test
    void aTakenMetricsAddressStopsTheStartAndLeavesNothingBehind() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 1, 10_000);
                java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            NodeConfig config = cluster.config(1, false).withMetricsAddress(
                    new InetSocketAddress("127.0.0.1", taken.getLocalPort()));
            IOException refused = assertThrows(IOException.class, () -> Store.start(config));
            assertTrue(refused.getMessage().startsWith("metrics-address 127.0.0.1:" + taken.getLocalPort() + ": cannot listen"),
                    refused.getMessage());
            // The failed start released its ports and its data directory: the same store starts on another metrics port.
            try (Store store = Store.start(config.withMetricsAddress(new InetSocketAddress("127.0.0.1", 0)))) {
                assertEquals(200, get(store.metricsAddress(), "/livez").statusCode());
            }
        }
    }

    @Test
    void theMetricsAddressIsAConfigKeyAndFlag() throws Exception {
        Map<String, String> flags = new TreeMap<>(Map.of("node-id", "1", "client-address", "127.0.0.1:1",
                "peer-address", "127.0.0.1:2", "data-dir", dir.toString(), "members", "1=127.0.0.1:1/127.0.0.1:2"));
        assertNull(NodeConfigLoader.load(null, flags).metricsAddress());
        flags.put("metrics-address", "127.0.0.1:9300");
        assertEquals(new InetSocketAddress("127.0.0.1", 9300), NodeConfigLoader.load(null, flags).metricsAddress());
        flags.put("metrics-address", "nonsense");
        NodeConfigException bad = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(null, flags));
        assertTrue(bad.getMessage().contains("metrics-address"), bad.getMessage());
        for (String shipped : new String[] {"local-3node", "sharded-3node"}) {
            for (int node = 1; node <= 3; node++) {
                Path file = Path.of("..", "conf", shipped, "node" + node + ".properties");
                assertFalse(NodeConfigLoader.load(file, Map.of()).metricsAddress() == null, file + " has no metrics-address");
            }
        }
    }

    /**
     * With Prometheus's own {@code promtool} installed (Debian's {@code prometheus} package;
     * {@code ops/prometheus/promtool-check.sh} installs it), the rules, the scrape config and a
     * live scrape pass its checks; skipped without it.
     */
    @Test
    void promtoolAcceptsTheRulesTheConfigAndAScrape() throws Exception {
        Path promtool = onPath("promtool");
        Assumptions.assumeTrue(promtool != null, "promtool is not installed (ops/prometheus/promtool-check.sh installs it)");
        assertEquals("", run(promtool, null, "check", "rules", OPS.resolve("prometheus/alerts.yml").toString()));
        assertEquals("", run(promtool, null, "check", "config", OPS.resolve("prometheus/prometheus.yml").toString()));
        try (LocalCluster cluster = new LocalCluster(dir, 1, 10_000).withMetrics()) {
            Store store = cluster.start(1);
            cluster.awaitLeaders();
            try (KvClient client = cluster.client()) {
                client.put("promtool", "checked");
            }
            assertEquals("", run(promtool, get(store.metricsAddress(), "/metrics").body(), "check", "metrics"));
        }
    }

    /** Runs {@code promtool} with {@code args}; returns "" when it exits 0, else its exit code and output. */
    private static String run(Path program, String stdin, String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(program.toString()));
        command.addAll(java.util.List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (stdin != null) {
            try (var in = process.getOutputStream()) {
                in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } else {
            process.getOutputStream().close();
        }
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return "timed out: " + output;
        }
        return process.exitValue() == 0 ? "" : "exit " + process.exitValue() + ": " + output;
    }

    private static Path onPath(String program) {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(folder, program);
            if (!folder.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Every {@code loomkv_}, {@code jvm_} and {@code process_} name in the dashboard and the alert rules. */
    private static Set<String> namesUsedByOps() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path file : new Path[] {OPS.resolve("grafana/loomkv.json"), OPS.resolve("prometheus/alerts.yml")}) {
            Matcher matcher = METRIC_NAME.matcher(Files.readString(file));
            int found = 0;
            while (matcher.find()) {
                names.add(matcher.group(1));
                found++;
            }
            assertTrue(found > 0, file + " names no metric");
        }
        return names;
    }

    /** The series names of an exposition (histograms' _bucket/_sum/_count and counters' _total as written). */
    private static Set<String> seriesNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
            }
        }
        return names;
    }

    /** Each series (name with its labels, as written) summed over the running stores. */
    private Map<String, Double> scrapeAll(LocalCluster cluster) throws Exception {
        Map<String, Double> sums = new TreeMap<>();
        for (long id : cluster.runningIds()) {
            HttpResponse<String> response = get(cluster.node(id).metricsAddress(), "/metrics");
            assertEquals(200, response.statusCode());
            for (String line : response.body().split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    int space = line.lastIndexOf(' ');
                    sums.merge(line.substring(0, space), Double.parseDouble(line.substring(space + 1)), Double::sum);
                }
            }
        }
        return sums;
    }

    private Map<String, Double> scrape(LocalCluster cluster) {
        try {
            return scrapeAll(cluster);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sum of the series whose name (with labels) starts with {@code prefix}. */
    private static double sum(Map<String, Double> series, String prefix) {
        return series.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(Map.Entry::getValue).sum();
    }

    private static void assertGrew(Map<String, Double> before, Map<String, Double> after, String series) {
        double was = before.getOrDefault(series, -1.0);
        double now = after.getOrDefault(series, -1.0);
        assertTrue(was >= 0 && now > was, series + " did not grow: " + was + " -> " + now);
    }

    private HttpResponse<String> get(InetSocketAddress address, String path) {
        try {
            return http.send(HttpRequest.newBuilder(uri(address, path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static URI uri(InetSocketAddress address, String path) {
        return URI.create("http://" + address.getHostString() + ":" + address.getPort() + path);
    }
}
