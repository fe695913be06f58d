package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.Store;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI against an in-process 3-node cluster described by a config folder. */
class CtlCommandTest {
    @TempDir
    static Path dir;
    static final List<Store> nodes = new ArrayList<>();
    static Path confFolder;

    private static ch.qos.logback.classic.Level quietLevel;

    @BeforeAll
    static void startCluster() throws Exception {
        quietLevel = QuietStoreLogs.raise();
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        confFolder = Files.createDirectories(dir.resolve("conf"));
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Files.writeString(confFolder.resolve("node" + m.id() + ".properties"), String.join("\n",
                    "node-id=" + m.id(), "cluster-id=ctl-test",
                    "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()),
                    "data-dir=" + dir.resolve("data" + m.id()), "members=" + memberList, "tick-interval-ms=20", ""));
            NodeConfig config = io.loomkv.net.node.NodeConfigLoader.load(confFolder.resolve("node" + m.id() + ".properties"),
                    java.util.Map.of());
            nodes.add(Store.start(config));
        }
    }

    @AfterAll
    static void stopCluster() {
        nodes.forEach(Store::close);
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

    @Test
    void putGetAppendCasScanDelete() {
        assertEquals(new Run(0, "OK (created)\n"), ctl("put", "fruit/apple", "red"));
        assertEquals(new Run(0, "red\n"), ctl("get", "fruit/apple"));
        assertEquals(new Run(0, "OK (length 7)\n"), ctl("append", "fruit/apple", "dish"));
        assertEquals(new Run(0, "{\"found\":true,\"value\":\"reddish\"}\n"), ctl("--json", "get", "fruit/apple"));
        assertEquals(new Run(1, "not swapped (value differs)\n"), ctl("cas", "fruit/apple", "green", "blue"));
        assertEquals(new Run(0, "swapped\n"), ctl("cas", "fruit/apple", "reddish", "green"));
        assertEquals(new Run(0, "swapped\n"), ctl("cas", "--absent", "fruit/kiwi", "brown"));
        assertEquals(new Run(0, "fruit/apple = green\nfruit/kiwi = brown\n(2 keys)\n"), ctl("scan", "fruit/"));
        assertEquals(new Run(0, "deleted\n"), ctl("del", "fruit/apple"));
        assertEquals(new Run(1, "(not found)\n"), ctl("get", "fruit/apple"));
    }

    @Test
    void timeToLivePutTtlExpirePersist() throws InterruptedException {
        assertEquals(new Run(0, "OK (created)\n"), ctl("put", "ttl/k", "v", "--ttl", "1h"));
        Run ttl = ctl("ttl", "ttl/k");
        assertEquals(0, ttl.exitCode());
        assertTrue(ttl.out().matches("(59m\\d+(\\.\\d+)?s|1h) \\(expires 20\\d\\d-.*Z\\)\n"), ttl.out());
        Run json = ctl("--json", "ttl", "ttl/k");
        assertTrue(json.out().startsWith("{\"found\":true,\"expires_at_millis\":"), json.out());
        assertEquals(new Run(0, "OK\n"), ctl("persist", "ttl/k"));
        assertEquals(new Run(0, "none\n"), ctl("ttl", "ttl/k"));
        assertEquals(new Run(0, "OK\n"), ctl("expire", "ttl/k", "300ms"));
        Thread.sleep(600);
        assertEquals(new Run(1, "(not found)\n"), ctl("get", "ttl/k"));
        assertEquals(new Run(1, "(not found)\n"), ctl("ttl", "ttl/k"));
        assertEquals(new Run(1, "(not found)\n"), ctl("expire", "ttl/k", "10s"));
        assertEquals(2, ctl("put", "ttl/k", "v", "--ttl", "soon").exitCode(), "not a duration");
        assertEquals(2, ctl("put", "ttl/k", "v", "--ttl", "0s").exitCode(), "a ttl of zero");
        assertEquals(new Run(1, "(not found)\n"), ctl("get", "ttl/k"), "a refused put wrote nothing");
    }

    @Test
    void statusAndMembers() throws InterruptedException {
        // Each of the two groups (the shard controller, group 0, and group 1) elects on its own: wait for both.
        long deadline = System.nanoTime() + 30_000_000_000L;
        Run status;
        while (true) {
            status = ctl("--json", "status");
            assertEquals(0, status.exitCode());
            String[] lines = status.out().split("\n");
            assertEquals(6, lines.length, "3 stores, each with the shard controller (group 0) and group 1: " + status.out());
            boolean oneLeaderEach = true;
            for (int group = 0; group <= 1; group++) {
                String leader = "\"group\":" + group + ",\"role\":\"LEADER\"";
                oneLeaderEach &= java.util.Arrays.stream(lines).filter(l -> l.contains(leader)).count() == 1;
            }
            if (oneLeaderEach) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, "not one leader per group within 30 s: " + status.out());
            Thread.sleep(50);
        }
        Run members = ctl("member", "list");
        assertEquals(0, members.exitCode());
        assertEquals(3, members.out().lines().count(), members.out());
        assertTrue(members.out().contains("(leader)"), members.out());
    }

    @Test
    void badInputGetsAClearErrorAndExitCode() {
        Run empty = ctl("put", "", "x");
        assertEquals(1, empty.exitCode());
        Run badCluster = ctlRaw("--cluster", "not-a-folder-or-address", "get", "k");
        assertEquals(2, badCluster.exitCode());
    }

    @Test
    void outputOptionsWorkBeforeAndAfterTheSubcommand() {
        assertEquals(0, ctl("put", "opt/k", "v").exitCode());
        Run before = ctl("--json", "get", "opt/k");
        assertEquals(new Run(0, "{\"found\":true,\"value\":\"v\"}\n"), before);
        assertEquals(before, ctl("get", "opt/k", "--json"));
        assertEquals(before, ctl("get", "-w", "json", "opt/k"));
        assertEquals(before, ctlRaw("get", "opt/k", "--cluster", confFolder.toString(), "--write-out=json"));
        assertEquals(new Run(0, "v\n"), ctl("get", "opt/k", "-w", "table"));
        assertEquals(2, ctl("get", "opt/k", "--json", "-w", "table").exitCode());
        Run status = ctl("status", "--json");
        assertEquals(0, status.exitCode());
        assertTrue(status.out().lines().allMatch(l -> l.startsWith("{")), status.out());
    }

    @Test
    void putReadsTheValueFromStandardInputOrAFile() throws IOException {
        byte[] binary = {0, 1, 2, (byte) 0xff, '\n', 'x'};
        assertEquals(new Run(0, "OK (created)\n"), withStdin(binary, () -> ctl("put", "stdin/k")));
        try (io.loomkv.net.client.KvClient client = client()) {
            assertEquals(java.util.Optional.of(com.google.protobuf.ByteString.copyFrom(binary)),
                    client.get(com.google.protobuf.ByteString.copyFromUtf8("stdin/k")));
        }
        Path file = dir.resolve("value.txt");
        Files.writeString(file, "from a file");
        assertEquals(new Run(0, "OK (created)\n"), ctl("put", "file/k", "--file", file.toString()));
        assertEquals(new Run(0, "from a file\n"), ctl("get", "file/k"));
        assertEquals(2, ctl("put", "file/k", "inline", "--file", file.toString()).exitCode());
        assertEquals(2, ctl("put", "file/k", "--file", dir.resolve("missing").toString()).exitCode());
    }

    @Test
    void putRefusesAValueLargerThanTheClustersLimitAndWritesNothing() {
        byte[] tooLarge = new byte[io.loomkv.core.kv.KvLimits.DEFAULT_MAX_VALUE_BYTES + 1];
        Err refused = withStderr(() -> withStdin(tooLarge, () -> ctl("put", "big/k")));
        assertEquals(2, refused.run().exitCode());
        assertTrue(refused.err().contains("max-value-bytes"), refused.err());
        assertEquals(new Run(1, "(not found)\n"), ctl("get", "big/k"));
    }

    @Test
    void unreachableClusterFailsWithAClearMessageBeforeTheDeadline() throws IOException {
        int closed = freePort();
        // A deadline of two minutes: the error names the refused connection, so ctl did not wait it out.
        Err run = withStderr(() -> ctlRaw("--cluster", "127.0.0.1:" + closed, "--timeout-ms", "120000", "get", "k"));
        assertEquals(1, run.run().exitCode());
        assertTrue(run.err().contains("no store answered") && run.err().contains("127.0.0.1:" + closed), run.err());
    }

    private static io.loomkv.net.client.KvClient client() {
        return new io.loomkv.net.client.KvClient(io.loomkv.net.client.KvClientConfig.of(
                nodes.stream().map(n -> n.config().clientAddress()).toList(), "ctl-test"));
    }

    private record Err(Run run, String err) {
    }

    private static Err withStderr(java.util.function.Supplier<Run> action) {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            Run run = action.get();
            return new Err(run, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(original);
        }
    }

    private static Run withStdin(byte[] input, java.util.function.Supplier<Run> action) {
        java.io.InputStream original = System.in;
        System.setIn(new java.io.ByteArrayInputStream(input));
        try {
            return action.get();
        } finally {
            System.setIn(original);
        }
    }
}
