package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.ShardedTestCluster;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy in front of 3 stores with 3 data groups on loopback, used by an unmodified
 * {@link KvClient} that knows only the proxy's address: it sees one group, and the proxy routes
 * single-key requests to every real group, splits and merges a 100-key multi-get, a multi-put and
 * scans across the groups, answers status and refuses administration. Exactly-once, follower
 * reads and a leader change under load have their own classes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KvProxyClusterTest {
    private ShardedTestCluster cluster;
    private KvProxy proxy;
    private KvClient direct;
    private KvClient caller;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        cluster = ShardedTestCluster.start(dir, 3, 3);
        direct = cluster.client();
        proxy = ProxyTests.startProxy(cluster, ProxyConfig.defaults());
        caller = ProxyTests.callerOf(proxy);
    }

    @AfterAll
    void stop() {
        ProxyTests.closeAll(caller, proxy, direct, cluster);
    }

    private long realGroupOf(String key) {
        return cluster.layout().groupOf(Slots.slotOf(ByteString.copyFromUtf8(key)));
    }

    @Test
    void callerSeesOneGroupAndItsRequestsReachEveryRealGroup() {
        assertEquals(List.of(VirtualLayout.GROUP_ID), caller.layout().groups());
        for (long group : cluster.groups()) {
            String key = cluster.keyIn(group, "route");
            assertFalse(caller.put(key, "v" + group), key + " is new");
            assertEquals("v" + group, direct.get(key).orElseThrow(), "group " + group + " holds what went through the proxy");
            assertEquals("v" + group, caller.get(key).orElseThrow());
            assertTrue(caller.delete(ByteString.copyFromUtf8(key)));
            assertTrue(caller.get(key).isEmpty());
        }
    }

    @Test
    void multiGetOf100KeysAcrossAllGroupsKeepsRequestOrder() {
        Map<ByteString, ByteString> stored = new LinkedHashMap<>();
        List<ByteString> asked = new ArrayList<>();
        Set<Long> groups = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String key = String.format("mget:%03d", i);
            groups.add(realGroupOf(key));
            asked.add(ByteString.copyFromUtf8(key));
            if (i % 7 != 3) { // some keys stay absent
                stored.put(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8("value-" + i));
            }
        }
        assertEquals(Set.copyOf(cluster.groups()), groups, "the 100 keys span every group");
        direct.multiPut(stored);
        MultiGetResult result = caller.multiGet(asked);
        assertEquals(100, result.getEntriesCount());
        for (int i = 0; i < 100; i++) {
            assertEquals(asked.get(i), result.getEntries(i).getKey(), "entry " + i + " in request order");
            ByteString expected = stored.get(asked.get(i));
            assertEquals(expected != null, result.getEntries(i).getFound(), "entry " + i);
            if (expected != null) {
                assertEquals(expected, result.getEntries(i).getValue());
            }
        }
    }

    @Test
    void multiPutAcrossGroupsWritesEveryPart() {
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            entries.put(ByteString.copyFromUtf8("mput:" + i), ByteString.copyFromUtf8("m" + i));
        }
        caller.multiPut(entries);
        MultiGetResult back = direct.multiGet(List.copyOf(entries.keySet()));
        for (int i = 0; i < 30; i++) {
            assertEquals("m" + i, back.getEntries(i).getValue().toStringUtf8(), "mput:" + i);
        }
    }

    @Test
    void scanPagesMergeTheGroupsInKeyOrder() {
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String key = String.format("scan:%03d", i);
            expected.add(key);
            entries.put(ByteString.copyFromUtf8(key), ByteString.copyFromUtf8("s" + i));
        }
        direct.multiPut(entries);
        List<String> seen = new ArrayList<>();
        ByteString after = ByteString.EMPTY;
        for (int page = 0; page < 10; page++) {
            ScanResult result = caller.scan(ByteString.copyFromUtf8("scan:"), 25, after);
            result.getEntriesList().forEach(e -> seen.add(e.getKey().toStringUtf8()));
            if (!result.getMore()) {
                break;
            }
            after = result.getContinuation();
        }
        assertEquals(expected, seen, "every key once, in key order, over pages of 25");
    }

    @Test
    void statusIsTheProxysAndAdministrationIsRefused() throws Exception {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", proxy.port());
        assertEquals(VirtualLayout.ROLE, caller.status(address).getRole());
        var refused = caller.transferLeader(1, 2);
        assertFalse(refused.getOk());
        assertTrue(refused.getMessage().contains("not through a proxy"), refused.getMessage());
        assertTrue(caller.config(-1).getError().isEmpty(), "a shard controller query passes through the proxy");
    }

    @Test
    void serializableReadIsServedLikeALinearizableOne() {
        String key = cluster.keyIn(2, "serial");
        caller.put(key, "s");
        // A follower may not have applied the put yet: wait until one read (a follower's or the leader's) sees it.
        ShardedTestCluster.awaitCondition("a serializable read sees the put", () -> caller.get(ByteString.copyFromUtf8(key),
                ReadConsistency.SERIALIZABLE).map(v -> v.toStringUtf8().equals("s")).orElse(false));
    }
}
