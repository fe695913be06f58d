package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bench kv} against an in-process sharded cluster (3 stores, 4 data groups): every
 * operation of the workloads, scans and multi-put preloads included, must succeed, since the
 * client routes each to its group (a scan sent as one request has no group to go to).
 */
class KvBenchShardedClusterTest {
    @TempDir
    static Path dir;
    static final List<Store> stores = new ArrayList<>();
    static String addresses;

    @BeforeAll
    static void startCluster() throws Exception {
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()),
                    new InetSocketAddress("127.0.0.1", freePort())));
        }
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        for (MemberAddress m : members) {
            Path file = Files.writeString(dir.resolve("store" + m.id() + ".properties"), String.join("\n",
                    "node-id=" + m.id(), "cluster-id=bench-sharded", "client-address=" + MemberAddress.format(m.clientAddress()),
                    "peer-address=" + MemberAddress.format(m.peerAddress()), "data-dir=" + dir.resolve("data" + m.id()),
                    "members=" + memberList, "data-groups=4", "tick-interval-ms=20", "fsync=false", ""));
            stores.add(Store.start(NodeConfigLoader.load(file, Map.of())));
        }
        addresses = members.stream().map(m -> MemberAddress.format(m.clientAddress())).collect(Collectors.joining(","));
    }

    @AfterAll
    static void stopCluster() {
        stores.forEach(Store::close);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Runs {@code bench kv} with {@code args}; returns its exit code, its JSON line and all of stdout. */
    private static String[] bench(String... args) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            List<String> all = new ArrayList<>(List.of("--cluster", addresses, "--clients", "4", "--keys", "200",
                    "--warmup", "0s", "--duration", "1s", "--json"));
            all.addAll(List.of(args));
            int code = new CommandLine(new KvBenchCommand()).execute(all.toArray(String[]::new));
            // Test logging also goes to stdout: pick the report's JSON line out of it.
            String json = out.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("{\"throughput_ops_s\":"))
                    .reduce((first, second) -> second).orElse("");
            return new String[] {Integer.toString(code), json, out.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
    }

    @Test
    void scansInsertsAndMultiPutPreloadsSucceedAcrossGroups() {
        String[] run = bench("--workload", "E", "--preload-batch", "20");
        assertEquals("0", run[0], run[2]);
        assertTrue(run[1].endsWith(",\"errors\":0}"), run[2]);
        assertTrue(run[2].contains("preload: 200 keys written"), run[2]);
    }

    @Test
    void readModifyWritesSucceedAcrossGroups() {
        String[] run = bench("--workload", "F");
        assertEquals("0", run[0], run[2]);
        assertTrue(run[1].endsWith(",\"errors\":0}"), run[2]);
    }
}
