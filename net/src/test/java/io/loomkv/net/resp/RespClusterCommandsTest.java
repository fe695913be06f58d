package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.shard.SlotRange;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Redis Cluster commands' exact reply shapes, over an in-memory backend that presents a fixed
 * cluster: store A (this one) leads slots 0-99 and 200-16383 in two groups, store B leads 100-199,
 * and a third group (no leader known) is shown under A. Also READONLY reaching the backend, and
 * -CROSSSLOT before any key is touched.
 */
class RespClusterCommandsTest {
    private static final String ID_A = RespCluster.nodeId("c", 1);
    private static final String ID_B = RespCluster.nodeId("c", 2);
    private static final RespCluster.Node A = new RespCluster.Node(ID_A, "127.0.0.1", 7001, true, false);
    private static final RespCluster.Node B = new RespCluster.Node(ID_B, "127.0.0.1", 7002, false, false);

    /** The memory backend as a cluster node; remembers the READONLY flag of the last connection. */
    private static final class ClusterBackend implements RespBackend, RespCluster {
        final MemoryBackend memory = new MemoryBackend();
        final AtomicReference<BooleanSupplier> readOnly = new AtomicReference<>();

        @Override
        public RespBackend forConnection(BooleanSupplier connectionReadOnly) {
            readOnly.set(connectionReadOnly);
            return this;
        }

        @Override
        public Optional<RespCluster> cluster() {
            return Optional.of(this);
        }

        @Override
        public String myId() {
            return ID_A;
        }

        @Override
        public CompletableFuture<View> view() {
            return CompletableFuture.completedFuture(new View(List.of(
                    new Shard(1, List.of(new SlotRange(0, 99)), A, true, List.of(B)),
                    new Shard(2, List.of(new SlotRange(100, 199)), B, true, List.of(A)),
                    new Shard(3, List.of(new SlotRange(200, 16383)), A, false, List.of(B))), List.of(A, B), 7));
        }

        @Override
        public CompletableFuture<Optional<ByteString>> get(ByteString key) {
            return memory.get(key);
        }

        @Override
        public CompletableFuture<Boolean> put(ByteString key, ByteString value, io.loomkv.core.kv.proto.Expiry expiry) {
            return memory.put(key, value, expiry);
        }

        @Override
        public CompletableFuture<io.loomkv.core.kv.proto.ExpireResult> expire(io.loomkv.core.kv.proto.Expire expire) {
            return memory.expire(expire);
        }

        @Override
        public CompletableFuture<io.loomkv.net.client.KeyTtl> ttl(ByteString key) {
            return memory.ttl(key);
        }

        @Override
        public CompletableFuture<Boolean> delete(ByteString key) {
            return memory.delete(key);
        }

        @Override
        public CompletableFuture<Long> append(ByteString key, ByteString value) {
            return memory.append(key, value);
        }

        @Override
        public CompletableFuture<CasOutcome> compareAndSet(ByteString key, Optional<ByteString> expected, ByteString newValue,
                io.loomkv.core.kv.proto.Expiry expiry) {
            return memory.compareAndSet(key, expected, newValue, expiry);
        }

        @Override
        public CompletableFuture<List<Optional<ByteString>>> multiGet(List<ByteString> keys) {
            return memory.multiGet(keys);
        }

        @Override
        public CompletableFuture<Void> multiPut(SequencedMap<ByteString, ByteString> entries) {
            return memory.multiPut(entries);
        }

        @Override
        public CompletableFuture<ScanPage> scan(ByteString prefix, ByteString resumeAfter, int limit) {
            return memory.scan(prefix, resumeAfter, limit);
        }

        @Override
        public Map<String, String> clusterInfo() {
            return Map.of();
        }
    }

    private ClusterBackend backend;
    private RespServer server;
    private RespTestClient client;

    @BeforeEach
    void start() throws IOException {
        backend = new ClusterBackend();
        server = new RespServer(RespServerConfig.defaults(), backend);
        server.start(new InetSocketAddress("127.0.0.1", 0));
        client = new RespTestClient(server.port());
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    private Object call(String... arguments) throws IOException {
        return client.call(arguments);
    }

    private static List<Object> slotsNode(RespCluster.Node node) {
        return List.of(node.host(), (long) node.port(), node.id(), List.of());
    }

    @Test
    void clusterSlotsListsEachRangeWithItsMasterFirst() throws IOException {
        assertEquals(List.of(
                List.of(0L, 99L, slotsNode(A), slotsNode(B)),
                List.of(100L, 199L, slotsNode(B), slotsNode(A)),
                List.of(200L, 16383L, slotsNode(A), slotsNode(B))), call("CLUSTER", "SLOTS"));
    }

    @Test
    void clusterNodesJoinsAdjacentRangesOfOneMaster() throws IOException {
        assertEquals(ID_A + " 127.0.0.1:7001@17001 myself,master - 0 0 7 connected 0-99 200-16383\n"
                + ID_B + " 127.0.0.1:7002@17002 master - 0 0 7 connected 100-199\n", call("CLUSTER", "NODES"));
        assertEquals(ID_A, call("CLUSTER", "MYID"));
        assertEquals(40, ID_A.length());
        assertFalse(ID_A.equals(ID_B));
        assertEquals(RespCluster.nodeId("c", 1), ID_A, "ids are stable");
    }

    @Test
    void clusterShardsAndInfo() throws IOException {
        List<?> shards = (List<?>) call("CLUSTER", "SHARDS");
        assertEquals(3, shards.size());
        assertEquals(List.of("slots", List.of(100L, 199L), "nodes", List.of(
                List.of("id", ID_B, "port", 7002L, "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "master",
                        "replication-offset", 0L, "health", "online"),
                List.of("id", ID_A, "port", 7001L, "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "replica",
                        "replication-offset", 0L, "health", "online"))), shards.get(1));
        assertTrue(((List<?>) ((List<?>) shards.get(2)).get(3)).get(0).toString().contains("failed"),
                "the stand-in for a group without a leader is not healthy");
        assertEquals("cluster_state:fail\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:200\r\n"
                + "cluster_slots_pfail:0\r\ncluster_slots_fail:16184\r\ncluster_known_nodes:2\r\ncluster_size:2\r\n"
                + "cluster_current_epoch:7\r\ncluster_my_epoch:7\r\ncluster_stats_messages_sent:0\r\n"
                + "cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
                call("CLUSTER", "INFO"));
        assertEquals("-ERR unknown subcommand 'nope'. Try CLUSTER HELP.", call("CLUSTER", "nope"));
        assertEquals("-ERR wrong number of arguments for 'cluster|slots' command", call("CLUSTER", "SLOTS", "x"));
        assertTrue(((String) call("INFO", "cluster")).contains("cluster_enabled:1"));
    }

    @Test
    void readOnlyAndReadWriteReachTheBackend() throws IOException {
        assertEquals("PONG", call("PING"));
        BooleanSupplier readOnly = backend.readOnly.get();
        assertFalse(readOnly.getAsBoolean());
        assertEquals("OK", call("READONLY"));
        assertTrue(readOnly.getAsBoolean());
        assertEquals("OK", call("READWRITE"));
        assertFalse(readOnly.getAsBoolean());
        assertEquals("OK", call("ASKING"));
    }

    @Test
    void keysOfSeveralSlotsAreRefusedBeforeAnythingRuns() throws IOException {
        String crossSlot = "-CROSSSLOT Keys in request don't hash to the same slot";
        assertEquals(crossSlot, call("MSET", "a", "1", "b", "2"));
        assertEquals(0, backend.memory.size(), "nothing was written");
        assertEquals(crossSlot, call("MGET", "a", "b"));
        assertEquals(crossSlot, call("DEL", "a", "b"));
        assertEquals(crossSlot, call("EXISTS", "a", "b"));
        assertEquals("OK", call("MSET", "{t}a", "1", "{t}b", "2"));
        assertEquals(List.of("1", "2"), call("MGET", "{t}a", "{t}b"));
        assertEquals("OK", call("MSET", "a", "1", "a", "2"), "one key twice is one slot");
    }

    @Test
    void aGatewayHasNoClusterCommandsButKeySlot() throws IOException {
        try (RespServer gateway = new RespServer(RespServerConfig.defaults(), new MemoryBackend())) {
            gateway.start(new InetSocketAddress("127.0.0.1", 0));
            try (RespTestClient plain = new RespTestClient(gateway.port())) {
                String disabled = "-ERR This instance has cluster support disabled";
                for (String[] command : List.of(new String[] {"CLUSTER", "SLOTS"}, new String[] {"CLUSTER", "NODES"},
                        new String[] {"READONLY"}, new String[] {"READWRITE"}, new String[] {"ASKING"})) {
                    assertEquals(disabled, plain.call(command));
                }
                assertEquals(12182L, plain.call("CLUSTER", "KEYSLOT", "foo"));
                assertEquals("OK", plain.call("MSET", "a", "1", "b", "2"), "a gateway splits multi-key commands itself");
            }
        }
    }
}
