package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.Store;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
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

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
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
}

