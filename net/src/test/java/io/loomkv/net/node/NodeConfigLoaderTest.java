package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.rpc.RpcServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigLoaderTest {
    @TempDir
    Path dir;

    private static final String GOOD = """
            node-id=2
            cluster-id=c1
            client-address=127.0.0.1:7102
            peer-address=127.0.0.1:7202
            data-dir=run/node2
            members=1=127.0.0.1:7101/127.0.0.1:7201, 2=127.0.0.1:7102/127.0.0.1:7202
            snapshot-threshold-entries=500
            lease-reads=true
            """;

    private Path write(String text) throws Exception {
        Path file = dir.resolve("node.properties");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void loadsEveryKeyWithDefaults() throws Exception {
        NodeConfig config = NodeConfigLoader.load(write(GOOD), Map.of());
        assertEquals(2, config.nodeId());
        assertEquals("c1", config.clusterId());
        assertEquals(7102, config.clientAddress().getPort());
        assertEquals(Path.of("run/node2"), config.dataDirectory());
        assertEquals(2, config.members().size());
        assertEquals(7201, config.members().get(0).peerAddress().getPort());
        assertEquals(500, config.snapshotThresholdEntries());
        assertTrue(config.leaseReads());
        assertEquals(50, config.tickIntervalMillis());
        assertEquals(10, config.electionTimeoutTicks());
    }

    @Test
    void theRespEndpointIsOffUnlessAnAddressIsGiven() throws Exception {
        assertNull(NodeConfigLoader.load(write(GOOD), Map.of()).respAddress(), "off by default");
        assertNull(NodeConfigLoader.load(write(GOOD + "resp-address=\n"), Map.of()).respAddress(), "empty: off");
        NodeConfig on = NodeConfigLoader.load(write(GOOD), Map.of("resp-address", "127.0.0.1:7302"));
        assertEquals(7302, on.respAddress().getPort());
        NodeConfigException bad = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD + "resp-address=localhost\n"), Map.of()));
        assertTrue(bad.getMessage().contains("'resp-address'"), bad.getMessage());
        NodeConfigException anyPort = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("resp-address", "127.0.0.1:0")));
        assertTrue(anyPort.getMessage().contains("port 0"), anyPort.getMessage());
    }

    @Test
    void flagsOverrideTheFile() throws Exception {
        NodeConfig config = NodeConfigLoader.load(write(GOOD), Map.of("snapshot-threshold-entries", "7", "tick-interval-ms", "20"));
        assertEquals(7, config.snapshotThresholdEntries());
        assertEquals(20, config.tickIntervalMillis());
    }

    @Test
    void errorsNameTheKeyAndTheFile() throws Exception {
        Path file = write(GOOD.replace("node-id=2", "node-id=two"));
        NodeConfigException bad = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(file, Map.of()));
        assertTrue(bad.getMessage().contains("'node-id'") && bad.getMessage().contains(file.toString()), bad.getMessage());

        Path missing = write(GOOD.replace("data-dir=run/node2\n", ""));
        NodeConfigException absent = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(missing, Map.of()));
        assertTrue(absent.getMessage().contains("'data-dir'") && absent.getMessage().contains(missing.toString()), absent.getMessage());

        Path unknown = write(GOOD + "colour=blue\n");
        NodeConfigException typo = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(unknown, Map.of()));
        assertTrue(typo.getMessage().contains("'colour'"), typo.getMessage());

        Path badMember = write(GOOD.replace("2=127.0.0.1:7102/127.0.0.1:7202", "2=127.0.0.1:7102"));
        NodeConfigException member = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(badMember, Map.of()));
        assertTrue(member.getMessage().contains("'members'"), member.getMessage());

        NodeConfigException flag = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("heartbeat-ticks", "0")));
        assertTrue(flag.getMessage().contains("command line") && flag.getMessage().contains("'heartbeat-ticks'"), flag.getMessage());
    }

    /** TLS keys: off by default; the files of a port go together, and what is missing is named. */
    @Test
    void tlsKeysGoTogetherAndMissingOnesAreNamed() throws Exception {
        assertEquals(StoreTls.PLAIN, NodeConfigLoader.load(write(GOOD), Map.of()).tls());
        NodeConfig both = NodeConfigLoader.load(write(GOOD), Map.of("client-cert-file", "c.pem", "client-key-file", "c-key.pem",
                "client-trusted-ca-file", "ca.pem", "client-cert-auth", "true", "peer-cert-file", "p.pem",
                "peer-key-file", "p-key.pem", "peer-trusted-ca-file", "peer-ca.pem"));
        assertEquals(Path.of("c.pem"), both.tls().client().certFile());
        assertTrue(both.tls().client().requireClientCert());
        assertTrue(both.tls().peer().requireClientCert(), "peers always verify each other");
        assertEquals(Path.of("peer-ca.pem"), both.tls().peer().trustedCaFile());
        NodeConfig serverOnly = NodeConfigLoader.load(write(GOOD), Map.of("client-cert-file", "c.pem", "client-key-file", "k.pem"));
        assertEquals(null, serverOnly.tls().client().trustedCaFile());
        assertEquals(null, serverOnly.tls().peer());

        NodeConfigException noKey = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("client-cert-file", "c.pem")));
        assertTrue(noKey.getMessage().contains("'client-key-file'"), noKey.getMessage());
        NodeConfigException authWithoutCa = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(write(GOOD),
                Map.of("client-cert-file", "c.pem", "client-key-file", "k.pem", "client-cert-auth", "true")));
        assertTrue(authWithoutCa.getMessage().contains("'client-trusted-ca-file'"), authWithoutCa.getMessage());
        NodeConfigException peerWithoutCa = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(write(GOOD),
                Map.of("peer-cert-file", "p.pem", "peer-key-file", "k.pem")));
        assertTrue(peerWithoutCa.getMessage().contains("'peer-trusted-ca-file'"), peerWithoutCa.getMessage());
    }

    @Test
    void respAndMetricsTlsFollowTheClientPortsFiles() throws Exception {
        Map<String, String> clientTls = Map.of("client-cert-file", "c.pem", "client-key-file", "k.pem",
                "client-trusted-ca-file", "ca.pem", "resp-address", "127.0.0.1:6379", "metrics-tls", "true");
        NodeConfig tls = NodeConfigLoader.load(write(GOOD), clientTls);
        assertEquals(6379, tls.respAddress().getPort(), "resp-address goes with client TLS (the RESP port speaks TLS too)");
        assertTrue(tls.tls().metricsHttps());
        assertEquals(false, NodeConfigLoader.load(write(GOOD), Map.of()).tls().metricsHttps());

        NodeConfigException respWithoutCa = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(write(GOOD),
                Map.of("client-cert-file", "c.pem", "client-key-file", "k.pem", "resp-address", "127.0.0.1:6379")));
        assertTrue(respWithoutCa.getMessage().contains("client-trusted-ca-file"), respWithoutCa.getMessage());
        NodeConfigException metricsWithoutCert = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("metrics-tls", "true")));
        assertTrue(metricsWithoutCert.getMessage().contains("'client-cert-file'"), metricsWithoutCert.getMessage());
    }

    @Test
    void theLogFormatIsTextOrJson() throws Exception {
        assertEquals("", NodeConfigLoader.logFormat(write(GOOD), Map.of()), "unset: the process's default stays");
        assertEquals("text", NodeConfigLoader.logFormat(write(GOOD + "log-format=text\n"), Map.of()));
        assertEquals("json", NodeConfigLoader.logFormat(write(GOOD + "log-format=json\n"), Map.of()));
        assertEquals("json", NodeConfigLoader.logFormat(write(GOOD), Map.of("log-format", "JSON")));
        NodeConfigException bad = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("log-format", "xml")));
        assertTrue(bad.getMessage().contains("'log-format'") && bad.getMessage().contains("xml"), bad.getMessage());
    }

    @Test
    void frameCompressionIsLz4ByDefaultOrOff() throws Exception {
        NodeConfig byDefault = NodeConfigLoader.load(write(GOOD), Map.of());
        assertTrue(byDefault.frameCompression());
        assertEquals(RpcServerConfig.LZ4_COMPRESS_THRESHOLD_BYTES, byDefault.frameCompressThresholdBytes());
        NodeConfig off = NodeConfigLoader.load(write(GOOD + "frame-compression=off\n"), Map.of());
        assertFalse(off.frameCompression());
        assertEquals(RpcServerConfig.COMPRESSION_OFF, off.frameCompressThresholdBytes());
        assertTrue(NodeConfigLoader.load(write(GOOD + "frame-compression=off\n"), Map.of("frame-compression", "LZ4"))
                .frameCompression(), "the flag wins over the file");
        NodeConfigException bad = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("frame-compression", "zstd")));
        assertTrue(bad.getMessage().contains("'frame-compression'") && bad.getMessage().contains("zstd"), bad.getMessage());
    }

    @Test
    void fsyncDefaultsOnAndCanBeTurnedOff() throws Exception {
        assertTrue(NodeConfigLoader.load(write(GOOD), Map.of()).fsync());
        assertEquals(false, NodeConfigLoader.load(write(GOOD + "fsync=false\n"), Map.of()).fsync());
        assertEquals(false, NodeConfigLoader.load(write(GOOD), Map.of("fsync", "false")).fsync());

        Path typo = write(GOOD + "fsync=maybe\n");
        NodeConfigException bad = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(typo, Map.of()));
        assertTrue(bad.getMessage().contains("'fsync'") && bad.getMessage().contains(typo.toString()), bad.getMessage());
    }

    @Test
    void theEngineAndItsOptionsComeFromTheFileOrFlags() throws Exception {
        NodeConfig defaults = NodeConfigLoader.load(write(GOOD), Map.of());
        assertEquals(EngineConfig.defaults(EngineKind.MEMORY), defaults.engine());

        NodeConfig rocksdb = NodeConfigLoader.load(write(GOOD + "engine=rocksdb\nengine.rocksdb.block-cache-bytes=33554432\n"),
                Map.of("engine.btree.cache-mb", "16", "engine.rocksdb.write-buffer-bytes", "8388608"));
        assertEquals(EngineKind.ROCKSDB, rocksdb.engine().kind());
        assertEquals(32L << 20, rocksdb.engine().rocksdbBlockCacheBytes());
        assertEquals(8L << 20, rocksdb.engine().rocksdbWriteBufferBytes());
        assertEquals(16, rocksdb.engine().btreeCacheMegabytes());
        assertEquals(EngineKind.BITCASK, NodeConfigLoader.load(write(GOOD), Map.of("engine", "BitCask")).engine().kind());

        Path unknown = write(GOOD + "engine=lsm\n");
        NodeConfigException bad = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(unknown, Map.of()));
        assertTrue(bad.getMessage().contains("'engine'") && bad.getMessage().contains("choose memory, rocksdb, btree or bitcask"),
                bad.getMessage());
        NodeConfigException tiny = assertThrows(NodeConfigException.class,
                () -> NodeConfigLoader.load(write(GOOD), Map.of("engine.rocksdb.block-cache-bytes", "1000")));
        assertTrue(tiny.getMessage().contains("'engine.rocksdb.block-cache-bytes'"), tiny.getMessage());
    }

    @Test
    void shippedConfigsLoad() throws Exception {
        Path conf = Path.of("..", "conf");
        if (!Files.isDirectory(conf)) {
            conf = Path.of("conf");
        }
        for (String cluster : new String[] {"local-3node", "local-5node"}) {
            int size = cluster.equals("local-3node") ? 3 : 5;
            for (int id = 1; id <= size; id++) {
                NodeConfig config = NodeConfigLoader.load(conf.resolve(cluster).resolve("node" + id + ".properties"), Map.of());
                assertEquals(id, config.nodeId());
                assertEquals(size, config.members().size());
            }
        }
        // The fourth store of the sharded cluster joins it: the three members, their cluster, join on.
        NodeConfig sharded = NodeConfigLoader.load(conf.resolve("sharded-3node").resolve("node1.properties"), Map.of());
        NodeConfig fourth = NodeConfigLoader.load(conf.resolve("sharded-store4").resolve("node4.properties"), Map.of());
        assertEquals(4, fourth.nodeId());
        assertTrue(fourth.join());
        assertEquals(sharded.members(), fourth.members());
        assertEquals(sharded.clusterId(), fourth.clusterId());
        assertEquals(sharded.dataGroups(), fourth.dataGroups());
    }
}
