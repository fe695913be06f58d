package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvKeys;
import io.loomkv.core.kv.proto.KeyRange;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiGetEntry;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.ScanResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing on a Multi-Raft store: requests find their group's leader by slot, stores refuse what is
 * not theirs with the hint the client needs ({@code NOT_LEADER} naming the leader's store,
 * {@code WRONG_GROUP} with the layout version), the client follows those hints, and the client's
 * multi-key operations split and merge across groups as a single ordered key space would behave
 * (checked against a model).
 */
class StoreRoutingTest {
    private static final int GROUPS = 4;

    @TempDir
    Path dir;

    private static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /**
     * A client that never waits out a backoff within its deadline: it succeeds only where the
     * first attempt does or a NOT_LEADER hint leads it straight to the leader.
     */
    private static KvClient hintOnlyClient(List<InetSocketAddress> servers) {
        return new KvClient(new KvClientConfig(servers, LocalCluster.CLUSTER_ID, Duration.ofSeconds(2), Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofSeconds(60), 64));
    }

    /**
     * A write as a session would send it. Stores route and refuse before any session is looked up,
     * so the session need not exist for the refusals these tests expect.
     */
    private static KvRequest.Builder write() {
        return KvRequest.newBuilder().setClientId(1).setSequence(1).setAcknowledgedBelow(1);
    }

    private static KvReply call(RpcClient rpc, InetSocketAddress address, KvRequest request) {
        return rpc.call(address, NodeMethods.KV, request, Duration.ofSeconds(10)).join();
    }

    /**
     * Waits until every group has a leader that every running replica knows, and the running
     * stores lead numbers of groups within one of each other, for two polls in a row: the balancer
     * moves nothing from there, so leaders stay put while a test relies on them. Returns each
     * group's leader.
     */
    static Map<Long, Long> awaitSettledLeaders(LocalCluster cluster) {
        SlotLayout layout = cluster.layout();
        Map<Long, Long>[] previous = new Map[] {null};
        LocalCluster.awaitCondition(() -> "every group led, known to every replica, evenly spread: " + leaders(cluster), () -> {
            Map<Long, Long> now = settledLeaders(cluster, layout);
            boolean stable = now != null && now.equals(previous[0]);
            previous[0] = now;
            return stable;
        });
        return previous[0];
    }

    /** Each group's leader when all of them are led, known to every running replica, and evenly spread; else null. */
    private static Map<Long, Long> settledLeaders(LocalCluster cluster, SlotLayout layout) {
        Map<Long, Long> leaders = new TreeMap<>();
        Map<Long, Integer> counts = new TreeMap<>();
        cluster.runningIds().forEach(id -> counts.put(id, 0));
        for (long g : cluster.groups()) {
            List<Long> hosts = cluster.runningIds().stream().filter(id -> layout.replicas(g).contains(id)).sorted().toList();
            long leader = hosts.isEmpty() ? 0 : cluster.node(hosts.get(0)).leaderId(g);
            if (leader == 0 || cluster.node(leader) == null || !cluster.node(leader).isLeader(g)
                    || !hosts.stream().allMatch(id -> cluster.node(id).leaderId(g) == leader)) {
                return null;
            }
            leaders.put(g, leader);
            counts.merge(leader, 1, Integer::sum);
        }
        int most = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int least = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        return most - least <= 1 ? leaders : null;
    }

    /** "group=leader as seen by store s1,s2,..." for every group. */
    static String leaders(LocalCluster cluster) {
        return cluster.groups().stream().map(g -> g + "=" + cluster.runningIds().stream().sorted()
                .map(id -> Long.toString(cluster.node(id).leaderId(g))).collect(Collectors.joining(",")))
                .collect(Collectors.joining(" "));
    }

    /**
     * Leadership of the groups store 1 prefers moves away (store 1 stops) and back (store 1
     * restarts, leadership is transferred to it): a client that cached the leaders in between
     * writes to every group again; a write to a moved group reaches the old leader, which answers
     * NOT_LEADER naming store 1, and the client goes straight there (it has no time for a backoff).
     */
    @Test
    void staleLeaderCacheFollowsNotLeaderToTheNewLeader() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll(); KvClient admin = cluster.client()) {
            Map<Long, Long> settled = awaitSettledLeaders(cluster);
            List<Long> moving = cluster.groups().stream().filter(g -> settled.get(g) == 1).toList();
            assertFalse(moving.isEmpty(), "store 1 leads no group: " + settled);
            cluster.stop(1);
            LocalCluster.awaitCondition(() -> "groups led by stores 2 and 3, known to both: " + leaders(cluster),
                    () -> cluster.groups().stream().allMatch(g -> {
                        long leader = cluster.node(2).leaderId(g);
                        return leader != 0 && leader != 1 && cluster.node(leader).isLeader(g) && cluster.node(3).leaderId(g) == leader;
                    }));
            Map<Long, Long> cached = new TreeMap<>();
            try (KvClient stale = hintOnlyClient(List.of(cluster.address(2).clientAddress(), cluster.address(3).clientAddress()))) {
                for (long g : cluster.groups()) {
                    stale.put(cluster.keyIn(g, "stale"), "before");
                    cached.put(g, cluster.node(2).leaderId(g));
                }
                cluster.start(1);
                for (long g : moving) {
                    transferTo(cluster, admin, g, 1);
                }
                awaitSettledLeaders(cluster);
                for (long g : moving) {
                    assertNotEquals(1L, cached.get(g), "the client's cached leader of group " + g + " is not stale");
                }
                for (long g : cluster.groups()) {
                    stale.put(cluster.keyIn(g, "stale"), "after");
                    assertEquals(Optional.of("after"), stale.get(cluster.keyIn(g, "stale")));
                }
            }
        }
    }

    /** Asks the leader of {@code group} to hand over to {@code target}, again every second until it leads. */
    static void transferTo(LocalCluster cluster, KvClient admin, long group, long target) {
        long[] lastAskNanos = {0};
        LocalCluster.awaitCondition("store " + target + " leads group " + group, () -> {
            if (cluster.node(target).isLeader(group)) {
                return true;
            }
            if (System.nanoTime() - lastAskNanos[0] > 1_000_000_000L) {
                lastAskNanos[0] = System.nanoTime();
                admin.transferLeader(group, target);
            }
            return false;
        });
    }

    /** A follower of each group refuses a write with NOT_LEADER naming the group and its leader's store and client address. */
    @Test
    void followerAnswersNotLeaderNamingTheLeader() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            Map<Long, Long> settled = awaitSettledLeaders(cluster);
            for (long g : cluster.groups()) {
                long leader = settled.get(g);
                long follower = leader % 3 + 1;
                KvReply reply = call(rpc, cluster.address(follower).clientAddress(), write()
                        .setPut(Put.newBuilder().setKey(b(cluster.keyIn(g, "nl"))).setValue(b("v"))).build());
                assertEquals(Status.NOT_LEADER, reply.getStatus(), reply.toString());
                assertEquals(g, reply.getGroupId(), reply.toString());
                assertEquals(leader, reply.getLeaderId(), reply.toString());
                assertEquals(MemberAddress.format(cluster.address(leader).clientAddress()), reply.getLeaderAddress(), reply.toString());
            }
        }
    }

    /**
     * With 4 stores and 3 replicas per group, store 4 hosts no replica of group 1: asked for a key
     * of group 1 it answers WRONG_GROUP with its layout version, as does any store asked for a group
     * the layout does not have. A client whose leader cache names store 4 for group 1 (fed here by
     * a layout source that says so) is refused there and still reaches group 1's leader.
     */
    @Test
    void storeWithoutReplicaAnswersWrongGroupAndTheClientRecovers() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, GROUPS).withReplicasPerGroup(3).startAll();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            cluster.awaitLeaders();
            SlotLayout layout = cluster.layout();
            assertEquals(List.of(1L, 2L, 3L), layout.replicas(1).stream().sorted().toList(), layout.toString());
            String key = cluster.keyIn(1, "wrong");
            InetSocketAddress outsider = cluster.address(4).clientAddress();
            KvReply refused = call(rpc, outsider, write()
                    .setPut(Put.newBuilder().setKey(b(key)).setValue(b("v"))).build());
            assertEquals(Status.WRONG_GROUP, refused.getStatus(), refused.toString());
            assertEquals(layout.version(), refused.getLayoutVersion(), refused.toString());
            assertTrue(refused.getMessage().contains("group 1"), refused.getMessage());
            KvReply unknownGroup = call(rpc, cluster.address(1).clientAddress(), KvRequest.newBuilder().setGroupId(99)
                    .setScan(Scan.newBuilder().setPrefix(b("any/"))).build());
            assertEquals(Status.WRONG_GROUP, unknownGroup.getStatus(), unknownGroup.toString());
            assertEquals(layout.version(), unknownGroup.getLayoutVersion(), unknownGroup.toString());
            KvReply misaddressed = call(rpc, cluster.address(1).clientAddress(), write().setGroupId(99)
                    .setPut(Put.newBuilder().setKey(b(key)).setValue(b("v"))).build());
            assertEquals(Status.WRONG_GROUP, misaddressed.getStatus(), misaddressed.toString());

            LayoutReply real = rpc.call(cluster.address(1).clientAddress(), NodeMethods.LAYOUT, LayoutRequest.getDefaultInstance(),
                    Duration.ofSeconds(10)).join();
            LayoutReply.Builder poisoned = real.toBuilder().clearGroups();
            for (GroupView view : real.getGroupsList()) {
                poisoned.addGroups(view.getGroupId() == 1 ? view.toBuilder().setLeaderId(4).build() : view);
            }
            LayoutReply wrongLeader = poisoned.build();
            RpcServer layoutSource = new RpcServer(RpcServerConfig.defaults(LocalCluster.CLUSTER_ID), RpcHandlers.builder()
                    .add(NodeMethods.LAYOUT, (request, context) -> CompletableFuture.completedFuture(wrongLeader)).build());
            try (layoutSource; KvClient client = new KvClient(KvClientConfig.of(
                    List.of(new InetSocketAddress("127.0.0.1", layoutSource.start(new InetSocketAddress("127.0.0.1", 0)))),
                    LocalCluster.CLUSTER_ID).withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)))) {
                client.put(key, "recovered");
                assertEquals(Optional.of("recovered"), client.get(key));
            }
        }
    }

    /**
     * A multi-key request whose keys span groups is refused as a whole, before any group sees it,
     * with a message that says what to do; so is a scan that names no group.
     */
    @Test
    void rawMultiKeyRequestSpanningGroupsIsRefused() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000, GROUPS).startAll();
                RpcClient rpc = new RpcClient(RpcClientConfig.client(LocalCluster.CLUSTER_ID))) {
            cluster.awaitLeaders();
            ByteString first = b(cluster.keyIn(1, "span"));
            ByteString second = b(cluster.keyIn(2, "span"));
            InetSocketAddress leaderOfOne = cluster.address(cluster.awaitLeader(1).storeId()).clientAddress();
            KvReply multiGet = call(rpc, leaderOfOne, KvRequest.newBuilder()
                    .setMultiGet(MultiGet.newBuilder().addKeys(first).addKeys(second)).build());
            assertEquals(Status.INVALID_ARGUMENT, multiGet.getStatus(), multiGet.toString());
            assertTrue(multiGet.getMessage().contains("span groups [1, 2]"), multiGet.getMessage());
            KvReply multiPut = call(rpc, leaderOfOne, write().setMultiPut(MultiPut.newBuilder()
                    .addEntries(KeyValue.newBuilder().setKey(first).setValue(b("1")))
                    .addEntries(KeyValue.newBuilder().setKey(second).setValue(b("2")))).build());
            assertEquals(Status.INVALID_ARGUMENT, multiPut.getStatus(), multiPut.toString());
            assertTrue(multiPut.getMessage().contains("span groups [1, 2]"), multiPut.getMessage());
            KvReply scan = call(rpc, leaderOfOne, KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(b("span"))).build());
            assertEquals(Status.INVALID_ARGUMENT, scan.getStatus(), scan.toString());
            try (KvClient client = cluster.client()) {
                // Nothing of the refused multi-put was applied in either group.
                assertEquals(Optional.empty(), client.get(first));
                assertEquals(Optional.empty(), client.get(second));
            }
        }
    }

    /**
     * The client's multi-get, multi-put and scans over keys of every group, against a model: a
     * multi-get answers in request order, a multi-put of keys with a common hash tag goes to one
     * group, scans page through all groups in key order with continuations. Last, two of the four
     * stores stop, so only groups 1 and 4 keep a majority: a scan whose prefix (or range) pins a hash
     * tag of group 1 still answers, since it asks only that group.
     */
    @Test
    void multiKeyOperationsAcrossGroupsMatchAModel() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 4, 10_000, GROUPS).withReplicasPerGroup(3).startAll();
                KvClient client = cluster.client()) {
            cluster.awaitLeaders();
            TreeMap<ByteString, ByteString> model = new TreeMap<>(KvKeys.ORDER);
            Random random = new Random(20_251_206L);
            for (int batch = 0; batch < 3; batch++) {
                Map<ByteString, ByteString> entries = new LinkedHashMap<>();
                for (int i = 0; i < 40; i++) {
                    entries.put(b("m/" + random.nextInt(1_000)), b("v" + batch + "." + i));
                }
                client.multiPut(entries);
                model.putAll(entries);
            }
            assertEquals(GROUPS, model.keySet().stream().map(client::groupOf).distinct().count(),
                    "the multi-puts should have covered every group");

            String tag = tagOfGroup(client.layout(), 1);
            Map<ByteString, ByteString> tagged = new LinkedHashMap<>();
            for (String field : List.of("name", "email", "age", "city")) {
                tagged.put(b("user:{" + tag + "}:" + field), b(field + "-value"));
            }
            assertEquals(Set.of(1L), tagged.keySet().stream().map(client::groupOf).collect(Collectors.toSet()));
            client.multiPut(tagged);
            model.putAll(tagged);

            List<ByteString> asked = new ArrayList<>(model.keySet().stream().filter(k -> random.nextInt(3) == 0).toList());
            for (int i = 0; i < 10; i++) {
                asked.add(b("m/missing" + i));
            }
            Collections.shuffle(asked, random);
            MultiGetResult got = client.multiGet(asked);
            assertEquals(asked.size(), got.getEntriesCount());
            for (int i = 0; i < asked.size(); i++) {
                MultiGetEntry entry = got.getEntries(i);
                assertEquals(asked.get(i), entry.getKey(), "entry " + i + " is not in request order");
                assertEquals(model.containsKey(asked.get(i)), entry.getFound(), entry.toString());
                assertEquals(model.getOrDefault(asked.get(i), ByteString.EMPTY), entry.getValue(), entry.toString());
            }

            assertEquals(expected(model, k -> k.startsWith(b("m/"))), scanAll(client, prefix(b("m/")), 7));
            assertEquals(expected(model, k -> true), scanAll(client, prefix(ByteString.EMPTY), 11));
            ByteString from = b("m/2");
            ByteString to = b("m/6");
            assertEquals(expected(model, k -> KvKeys.compare(k, from) >= 0 && KvKeys.compare(k, to) < 0),
                    scanAll(client, Scan.newBuilder().setRange(KeyRange.newBuilder().setStart(from).setEnd(to)), 5));

            // Stores 3 and 4 stop: groups 2 ({2,3,4}) and 3 ({3,4,1}) lose their majority, 1 and 4 keep theirs.
            cluster.stop(3);
            cluster.stop(4);
            ByteString taggedPrefix = b("user:{" + tag + "}:");
            Map<ByteString, ByteString> taggedModel = expected(model, k -> k.startsWith(taggedPrefix));
            assertEquals(tagged.size(), taggedModel.size());
            assertEquals(taggedModel, scanAll(client, prefix(taggedPrefix), 3));
            ByteString rangeStart = b("user:{" + tag + "}:b");
            ByteString rangeEnd = b("user:{" + tag + "}:z");
            assertEquals(expected(model, k -> KvKeys.compare(k, rangeStart) >= 0 && KvKeys.compare(k, rangeEnd) < 0),
                    scanAll(client, Scan.newBuilder().setRange(KeyRange.newBuilder().setStart(rangeStart).setEnd(rangeEnd)), 2));
        }
    }

    /** A hash tag whose keys the layout puts in {@code group}. */
    private static String tagOfGroup(SlotLayout layout, long group) {
        for (int i = 0; i < 100_000; i++) {
            if (layout.groupOf(Slots.slotOf(b("{t" + i + "}"))) == group) {
                return "t" + i;
            }
        }
        throw new AssertionError("no hash tag of group " + group);
    }

    private static Scan.Builder prefix(ByteString prefix) {
        return Scan.newBuilder().setPrefix(prefix);
    }

    private static Map<ByteString, ByteString> expected(TreeMap<ByteString, ByteString> model, java.util.function.Predicate<ByteString> selected) {
        Map<ByteString, ByteString> result = new LinkedHashMap<>();
        model.forEach((k, v) -> {
            if (selected.test(k)) {
                result.put(k, v);
            }
        });
        return result;
    }

    /** Pages through a scan with {@code limit} keys a page; checks page sizes and key order; returns everything, in order. */
    private static Map<ByteString, ByteString> scanAll(KvClient client, Scan.Builder scan, int limit) {
        Map<ByteString, ByteString> all = new LinkedHashMap<>();
        ByteString resume = ByteString.EMPTY;
        ByteString previous = null;
        for (int page = 0; page < 10_000; page++) {
            ScanResult result = client.scanAsync(scan.setLimit(limit).setResumeAfter(resume).build(), ReadConsistency.LINEARIZABLE).join();
            assertTrue(result.getEntriesCount() <= limit, "page of " + result.getEntriesCount() + " keys over the limit " + limit);
            for (KeyValue entry : result.getEntriesList()) {
                if (previous != null) {
                    assertTrue(KvKeys.compare(previous, entry.getKey()) < 0, "keys out of order: " + previous.toStringUtf8()
                            + " then " + entry.getKey().toStringUtf8());
                }
                previous = entry.getKey();
                all.put(entry.getKey(), entry.getValue());
            }
            if (!result.getMore()) {
                return all;
            }
            assertEquals(previous, result.getContinuation(), "the continuation is the last key returned");
            resume = result.getContinuation();
        }
        throw new AssertionError("scan did not end within 10,000 pages");
    }
}
