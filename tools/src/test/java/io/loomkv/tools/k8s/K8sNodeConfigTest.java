package io.loomkv.tools.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.Store;
import io.loomkv.net.rpc.LoopbackPorts;
import io.loomkv.tools.LoomKv;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node config a StatefulSet pod renders from its ordinal: the id, its own addresses and the
 * member list every pod derives alike; and a cluster started from the rendered configs. Pods
 * share the ports and differ by host, so the test gives each "pod" its own loopback address
 * (127.0.0.1, .2, .3) through the host template, with the same ports, instead of DNS names.
 */
class K8sNodeConfigTest {
    @TempDir
    Path dir;

    private static K8sNodeConfig config(String hostname, int replicas, Map<String, String> extra) {
        return new K8sNodeConfig(hostname, replicas, "loomkv-peers", "prod", "cluster.local", K8sNodeConfig.DEFAULT_HOST_TEMPLATE,
                2379, 2380, 2381, "/var/lib/loomkv/data", "", extra);
    }

    @Test
    void podOrdinalGivesTheNodeIdItsAddressesAndTheSharedMemberList() {
        K8sNodeConfig config = config("loomkv-2", 3, Map.of("data-groups", "4"));
        Map<String, String> properties = config.properties();
        assertEquals("3", properties.get("node-id"));
        assertEquals("loomkv", properties.get("cluster-id"));
        assertEquals("loomkv-2.loomkv-peers.prod.svc.cluster.local:2379", properties.get("client-address"));
        assertEquals("loomkv-2.loomkv-peers.prod.svc.cluster.local:2380", properties.get("peer-address"));
        assertEquals("1=loomkv-0.loomkv-peers.prod.svc.cluster.local:2379/loomkv-0.loomkv-peers.prod.svc.cluster.local:2380,"
                + "2=loomkv-1.loomkv-peers.prod.svc.cluster.local:2379/loomkv-1.loomkv-peers.prod.svc.cluster.local:2380,"
                + "3=loomkv-2.loomkv-peers.prod.svc.cluster.local:2379/loomkv-2.loomkv-peers.prod.svc.cluster.local:2380",
                properties.get("members"));
        assertEquals("4", properties.get("data-groups"));
        // The metrics key arrives with the metrics endpoints; until then nothing names it.
        boolean metricsKey = io.loomkv.net.node.NodeConfigKey.byKey(K8sNodeConfig.METRICS_ADDRESS_KEY) != null;
        assertEquals(metricsKey ? "0.0.0.0:2381" : null, properties.get("metrics-address"));
        assertEquals(config("loomkv-0", 3, Map.of()).properties().get("members"), properties.get("members"));
    }

    @Test
    void refusesWhatIsNotAStatefulSetPodOrOverridesTheDerivedKeys() {
        assertThrows(IllegalArgumentException.class, () -> config("loomkv", 3, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> config("Loomkv-0", 3, Map.of()));
        IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class, () -> config("loomkv-3", 3, Map.of()));
        assertTrue(beyond.getMessage().contains("member add"), beyond.getMessage());
        assertThrows(IllegalArgumentException.class, () -> config("loomkv-0", 0, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> config("loomkv-0", 3, Map.of("node-id", "7")));
        assertThrows(IllegalArgumentException.class, () -> config("loomkv-0", 3, Map.of("no-such-key", "1")));
        assertThrows(IllegalArgumentException.class, () -> new K8sNodeConfig("loomkv-0", 3, "loomkv-peers", "prod",
                "cluster.local", "{name}:{nope}", 2379, 2380, 0, "/data", "", Map.of()).properties());
        assertThrows(IllegalArgumentException.class, () -> new K8sNodeConfig("loomkv-0", 3, "loomkv-peers", "prod",
                "cluster.local", K8sNodeConfig.DEFAULT_HOST_TEMPLATE, 2379, 2380, 2379, "/data", "", Map.of()));
    }

    @Test
    void commandRefusesABadSetWithExitCodeTwoAndWritesNothing() {
        Path out = dir.resolve("node.properties");
        int code = LoomKv.commandLine().execute("k8s-config", "--hostname", "loomkv-0", "--replicas", "3",
                "--set", "tick-interval-ms=0", "--out", out.toString());
        assertEquals(2, code);
        assertTrue(Files.notExists(out));
    }

    @Test
    void storesStartedFromTheRenderedConfigsFormACluster() throws Exception {
        int[] ports = portsFreeOnLoopbacks(3);
        List<Store> stores = new ArrayList<>();
        try {
            for (int ordinal = 0; ordinal < 3; ordinal++) {
                Path file = dir.resolve("loomkv-" + ordinal + ".properties");
                String err = render(List.of("k8s-config", "--hostname", "loomkv-" + ordinal, "--replicas", "3",
                        "--host-template", "127.0.0.{id}", "--client-port", Integer.toString(ports[0]),
                        "--peer-port", Integer.toString(ports[1]), "--metrics-port", "0", "--data-dir", dir.resolve("data-" + ordinal).toString(),
                        "--set", "tick-interval-ms=20", "--wait-dns-seconds", "5", "--out", file.toString()));
                assertTrue(err.contains("for node " + (ordinal + 1) + " of 3"), err);
                NodeConfig config = NodeConfigLoader.load(file, Map.of());
                assertEquals(ordinal + 1, config.nodeId());
                assertEquals(new InetSocketAddress("127.0.0." + (ordinal + 1), ports[0]), config.clientAddress());
                stores.add(Store.start(config));
            }
            List<InetSocketAddress> clients = List.of(new InetSocketAddress("127.0.0.1", ports[0]),
                    new InetSocketAddress("127.0.0.2", ports[0]), new InetSocketAddress("127.0.0.3", ports[0]));
            try (KvClient kv = new KvClient(KvClientConfig.of(clients, "loomkv").withDeadline(Duration.ofSeconds(60), Duration.ofSeconds(2)))) {
                kv.put(ByteString.copyFromUtf8("pod"), ByteString.copyFromUtf8("ordinal"));
                assertEquals(Optional.of(ByteString.copyFromUtf8("ordinal")), kv.get(ByteString.copyFromUtf8("pod")));
            }
        } finally {
            stores.forEach(Store::close);
        }
    }

    /** Runs the command; returns its standard error, failing on a non-zero exit. */
    private static String render(List<String> args) {
        PrintStream original = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = LoomKv.commandLine().execute(args.toArray(String[]::new));
        } finally {
            System.setErr(original);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text);
        return text;
    }

    /** A client and a peer port that are free on 127.0.0.1 .. 127.0.0.N alike, as every pod uses the same ports. */
    private static int[] portsFreeOnLoopbacks(int hosts) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int client = freePort();
            int peer = freePort();
            if (client != peer && freeOnEveryHost(client, hosts) && freeOnEveryHost(peer, hosts)) {
                return new int[] {client, peer};
            }
        }
        throw new IOException("no port pair free on 127.0.0.1.." + hosts + " after 50 tries");
    }

    private static boolean freeOnEveryHost(int port, int hosts) {
        for (int host = 1; host <= hosts; host++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress("127.0.0." + host, port));
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
