package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ctl endpoint health|status} against an in-process 3-store cluster with 2 data groups (and the controller's group 0). */
class CtlEndpointCommandTest {
    @TempDir
    static Path dir;
    static final List<Store> stores = new ArrayList<>();
    static final List<MemberAddress> members = new ArrayList<>();
    static Path confFolder;
    private static ch.qos.logback.classic.Level quietLevel;

    @BeforeAll
    static void startCluster() throws Exception {
        quietLevel = QuietStoreLogs.raise();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        confFolder = Files.createDirectories(dir.resolve("conf"));
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Path file = confFolder.resolve("node" + m.id() + ".properties");
            Files.writeString(file, String.join("\n", "node-id=" + m.id(), "cluster-id=endpoint-test",
                    "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()),
                    "data-dir=" + dir.resolve("data" + m.id()), "members=" + memberList, "tick-interval-ms=20",
                    "data-groups=2", ""));
            NodeConfig config = NodeConfigLoader.load(file, Map.of());
            stores.add(Store.start(config));
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (ctl("endpoint", "health").exitCode() != 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the cluster did not become healthy: " + ctl("endpoint", "health").out());
            }
            Thread.sleep(50);
        }
    }

    @AfterAll
    static void stopCluster() {
        stores.forEach(Store::close);
        QuietStoreLogs.restore(quietLevel);
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }

    private record Run(int exitCode, String out) {
    }

    private static Run ctl(String... args) {
        List<String> all = new ArrayList<>(List.of("--cluster", confFolder.toString()));
        all.addAll(List.of(args));
        return ctlRaw(all.toArray(String[]::new));
    }

    private static Run ctlRaw(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            List<String> all = new ArrayList<>(List.of("ctl"));
            all.addAll(List.of(args));
            int code = LoomKv.commandLine().execute(all.toArray(String[]::new));
            return new Run(code, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    /** {@code ctl args}, repeated until it exits 0 (an election may be under way on a loaded machine), at most 30 s. */
    private static Run settled(String... args) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        Run run = ctl(args);
        while (run.exitCode() != 0 && System.nanoTime() < deadline) {
            run = ctl(args);
        }
        return run;
    }

    @Test
    void healthNamesEveryStore() {
        Run health = settled("endpoint", "health");
        assertEquals(0, health.exitCode(), health.out());
        List<String> lines = health.out().lines().toList();
        assertEquals(3, lines.size(), health.out());
        for (int i = 0; i < 3; i++) {
            assertTrue(lines.get(i).startsWith(MemberAddress.format(members.get(i).clientAddress())
                    + " is healthy: every group it hosts has a leader: took = "), lines.get(i));
        }
        Run json = settled("endpoint", "health", "--json");
        assertEquals(0, json.exitCode());
        assertEquals(3, json.out().lines().filter(l -> l.startsWith("{\"endpoint\":") && l.contains("\"health\":true")
                && l.endsWith("\"error\":\"\"}")).count(), json.out());
        assertEquals(json.out().lines().count(), settled("--json", "endpoint", "health").out().lines().count());
    }

    @Test
    void anUnreachableStoreIsUnhealthy() throws IOException {
        String live = members.stream().map(m -> MemberAddress.format(m.clientAddress())).collect(Collectors.joining(","));
        String dead = "127.0.0.1:" + freePort();
        Run health = ctlRaw("--cluster", live + "," + dead, "--timeout-ms", "1000", "endpoint", "health");
        assertEquals(1, health.exitCode(), health.out());
        assertEquals(3, health.out().lines().filter(l -> l.contains(" is healthy: ")).count(), health.out());
        assertTrue(health.out().lines().anyMatch(l -> l.startsWith(dead + " is unhealthy: unreachable")), health.out());
        Run status = ctlRaw("--cluster", live + "," + dead, "--timeout-ms", "1000", "endpoint", "status");
        assertEquals(1, status.exitCode(), status.out());
        assertTrue(status.out().lines().anyMatch(l -> l.startsWith(dead + " ")), status.out());
    }

    @Test
    void statusIsATableOrJson() {
        Run table = ctl("endpoint", "status");
        assertEquals(0, table.exitCode(), table.out());
        List<String> lines = table.out().lines().toList();
        assertEquals(4, lines.size(), table.out());
        assertTrue(lines.get(0).startsWith("ENDPOINT") && lines.get(0).contains("LEADING") && lines.get(0).contains("WAL FSYNCS"),
                lines.get(0));
        Run json = ctl("endpoint", "status", "--json");
        assertEquals(0, json.exitCode(), json.out());
        List<String> objects = json.out().lines().toList();
        assertEquals(3, objects.size(), json.out());
        for (int i = 0; i < 3; i++) {
            assertTrue(objects.get(i).startsWith("{\"endpoint\":\"" + MemberAddress.format(members.get(i).clientAddress())
                    + "\",\"id\":" + (i + 1) + ",\"groups\":" + stores.get(i).groups().size() + ","), objects.get(i));
        }
        // Leadership may be moving on a loaded machine (an election, the balancer): wait for a settled answer.
        long groups = stores.stream().flatMap(store -> store.groups().stream()).distinct().count();
        long deadline = System.nanoTime() + 30_000_000_000L;
        String last = json.out();
        while (leading(last) != groups || !allHaveLeaders(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("each of the " + groups + " groups should have one leader: " + last);
            }
            last = ctl("endpoint", "status", "--json").out();
        }
    }

    private static long leading(String jsonLines) {
        return jsonLines.lines().mapToLong(l -> l.contains("\"leading\":")
                ? Long.parseLong(l.replaceAll(".*\"leading\":(\\d+).*", "$1")) : -1_000_000).sum();
    }

    private static boolean allHaveLeaders(String jsonLines) {
        return jsonLines.lines().allMatch(l -> l.contains("\"without_leader\":0,"));
    }
}
