package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ctl move-leaders --from ID}, what the Kubernetes preStop hook runs: afterwards every
 * group the store led has another leader. A cluster of its own (4 data groups on 3 stores), since
 * moving leaders under other tests would change what they see.
 */
class MoveLeadersTest {
    @TempDir
    Path dir;

    @Test
    void everyGroupTheStoreLedGetsAnotherLeader() throws Exception {
        List<MemberAddress> members = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            members.add(new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()), new InetSocketAddress("127.0.0.1", freePort())));
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        String memberList = members.stream().map(MemberAddress::toString).collect(Collectors.joining(","));
        List<Store> stores = new ArrayList<>();
        try {
            for (MemberAddress m : members) {
                Path file = conf.resolve("node" + m.id() + ".properties");
                Files.writeString(file, String.join("\n", "node-id=" + m.id(), "cluster-id=move-test",
                        "client-address=" + MemberAddress.format(m.clientAddress()), "peer-address=" + MemberAddress.format(m.peerAddress()),
                        "data-dir=" + dir.resolve("data" + m.id()), "members=" + memberList, "data-groups=4", "tick-interval-ms=20", ""));
                stores.add(Store.start(NodeConfigLoader.load(file, Map.of())));
            }
            List<InetSocketAddress> addresses = members.stream().map(MemberAddress::clientAddress).toList();
            try (KvClient client = new KvClient(KvClientConfig.of(addresses, "move-test").withDeadline(Duration.ofSeconds(60), Duration.ofSeconds(2)))) {
                GroupTable table = ClusterProcesses.awaitEveryGroupLed(ClusterTarget.fromFolder(conf), Duration.ofSeconds(60), true)
                        .orElseThrow();
                assertTrue(table.leaderless().isEmpty(), "groups without a leader: " + table.leaderless());
                long from = table.groupsByLeader().keySet().iterator().next();
                List<Long> led = table.groupsByLeader().get(from);

                Run moved = ctl("ctl", "move-leaders", "--from", Long.toString(from), "--cluster", conf.toString(), "--timeout-ms", "60000");
                assertEquals(0, moved.exitCode(), moved.out());
                GroupTable after = GroupTable.gather(client, addresses).orElseThrow();
                for (long group : led) {
                    long leader = after.group(group).leaderId();
                    assertTrue(leader != from && leader != 0, "group " + group + " is led by " + leader + " after moving away from " + from);
                }
                // The leader balancer may already have handed a group back to the store (it evens out
                // leaderships within seconds): moving again must succeed either way.
                Run again = ctl("ctl", "--cluster", conf.toString(), "move-leaders", "--from", Long.toString(from));
                assertEquals(0, again.exitCode(), again.out());
                assertTrue(again.out().endsWith("store " + from + " leads no group\n"), again.out());
                client.put(ByteString.copyFromUtf8("after/move"), ByteString.copyFromUtf8("ok"));
            }
        } finally {
            stores.forEach(Store::close);
        }
    }

    private record Run(int exitCode, String out) {
    }

    private static Run ctl(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            int code = LoomKv.commandLine().execute(args);
            return new Run(code, buffer.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
