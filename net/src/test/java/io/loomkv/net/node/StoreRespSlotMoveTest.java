package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvModel;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.LinearizabilityChecker;
import io.loomkv.core.lincheck.Operation;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.net.client.KvClient;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.exceptions.JedisMovedDataException;
import redis.clients.jedis.resps.ClusterShardInfo;

/**
 * Redis Cluster clients (Jedis {@code JedisCluster}, Lettuce {@code RedisClusterClient}) on the
 * stores' RESP endpoints while slots move between groups: 3 stores, 3 data groups, keys in every
 * part of the slot space, and blocks of slots moved again and again by the shard controller while
 * five clients SET, GET, INCR and APPEND. Every command must succeed: the stores may answer only
 * what these clients retry by themselves (-MOVED, -ASK), so a slot that is frozen or being pulled
 * makes the command wait (no -TRYAGAIN, no -ERR WRONG_GROUP), and two stores must never send a
 * client back and forth until it gives up (5 redirections). The history the clients saw is
 * linearizable, and after each move CLUSTER SLOTS and -MOVED name the new owner's leader.
 */
class StoreRespSlotMoveTest {
    private static final int STORES = 3;
    private static final int GROUPS = 3;
    private static final int KEYS = 24;
    private static final int MOVES = 8;
    private static final int BLOCK_SLOTS = 4_096;
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** A key and what is done to it: registers are SET, counters INCR'd, logs APPENDed to; all are read. */
    private record TestKey(String name, Kind kind) {}

    private enum Kind { REGISTER, COUNTER, LOG }

    /** One client's commands, as the history records them; the answers come from Jedis or Lettuce. */
    private interface RedisOps {
        String get(String key);

        void set(String key, String value);

        long incr(String key);

        void append(String key, String value);
    }

    @Test
    void clusterClientsSeeOnlySuccessWhileSlotsMoveAndTheHistoryIsLinearizable() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, STORES, 10_000, GROUPS).withResp().startAll();
                KvClient admin = cluster.client()) {
            cluster.awaitLeaders();
            List<TestKey> keys = keysOverEverySlotRange();
            List<Operation<KvInput, KvOutput>> history = Collections.synchronizedList(new ArrayList<>());
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong slowestMillis = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            List<AutoCloseable> clients = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                JedisCluster jedis = new JedisCluster(seeds(cluster),
                        DefaultJedisClientConfig.builder().socketTimeoutMillis((int) PATIENCE.toMillis()).build(), 5, PATIENCE);
                clients.add(jedis);
                workers.add(worker("jedis-" + c, c, jedisOps(jedis), keys, history, errors, stop, slowestMillis));
            }
            RedisClusterClient lettuce = lettuce(cluster);
            StatefulRedisClusterConnection<String, String> connection = lettuce.connect();
            clients.add(connection);
            clients.add(lettuce::shutdown);
            workers.add(worker("lettuce", 4, lettuceOps(connection.sync()), keys, history, errors, stop, slowestMillis));
            try {
                Thread.sleep(300);
                SlotLayout layout = cluster.layout();
                for (int move = 0; move < MOVES; move++) {
                    int first = (move % (Slots.SLOT_COUNT / BLOCK_SLOTS)) * BLOCK_SLOTS;
                    long target = layout.groupOf(first) % GROUPS + 1;
                    layout = moveSlots(admin, first, first + BLOCK_SLOTS - 1, target);
                    awaitSettled(cluster, layout.version());
                    assertClusterViewFollowsTheMove(cluster, first, target);
                }
            } finally {
                stop.set(true);
                for (Thread worker : workers) {
                    worker.join(PATIENCE.toMillis());
                }
                for (AutoCloseable client : clients) {
                    client.close();
                }
            }
            assertEquals(List.of(), errors, "the cluster clients got only answers they handle themselves");
            long perKeyMinimum = history.stream().map(op -> keyOf(op.input())).collect(Collectors.groupingBy(Function.identity(),
                    Collectors.counting())).values().stream().mapToLong(Long::longValue).min().orElse(0);
            assertTrue(history.size() > 200 && perKeyMinimum > 0, history.size() + " commands, every key used at least "
                    + perKeyMinimum + " times");
            CheckResult result = LinearizabilityChecker.withDefaults().check(new KvModel(), List.copyOf(history));
            assertTrue(result.isOk(), result.toString());
            System.out.printf("%d commands over %d moves, slowest %d ms%n", history.size(), MOVES, slowestMillis.get());
        }
    }

    /**
     * One key in each 1/KEYS of the slot space, so every block that moves holds some; kinds rotate,
     * so each block has keys of every kind.
     */
    private static List<TestKey> keysOverEverySlotRange() {
        List<TestKey> keys = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) {
            int low = i * Slots.SLOT_COUNT / KEYS;
            int high = (i + 1) * Slots.SLOT_COUNT / KEYS;
            for (int n = 0; ; n++) {
                String name = "move-key-" + i + "-" + n;
                int slot = Slots.slotOf(ByteString.copyFromUtf8(name));
                if (slot >= low && slot < high) {
                    keys.add(new TestKey(name, Kind.values()[i % Kind.values().length]));
                    break;
                }
            }
        }
        return keys;
    }

    /**
     * A client thread: random commands on random keys until stopped, each recorded with its answer.
     * An INCR that answered n is recorded as the compare-and-set it is on the store (the value read
     * was n - 1, absent for 1: counters are only ever INCR'd), which the model checks exactly. A
     * command that failed is an error of the test, and a failed write is recorded as pending (it may
     * or may not have happened), so the check stays sound.
     */
    private static Thread worker(String name, int clientNumber, RedisOps ops, List<TestKey> keys,
            List<Operation<KvInput, KvOutput>> history, List<String> errors, AtomicBoolean stop, AtomicLong slowestMillis) {
        return Thread.ofPlatform().name(name).start(() -> {
            Random random = new Random(7_000 + clientNumber);
            for (int i = 0; !stop.get(); i++) {
                TestKey key = keys.get(random.nextInt(keys.size()));
                boolean read = random.nextInt(3) == 0;
                String value = "c" + clientNumber + "." + i + ";";
                KvInput input = read ? new KvInput.Get(key.name()) : switch (key.kind()) {
                    case REGISTER -> new KvInput.Put(key.name(), value);
                    case LOG -> new KvInput.Append(key.name(), value);
                    case COUNTER -> null;
                };
                long start = System.nanoTime();
                try {
                    KvOutput output = KvOutput.OK;
                    if (read) {
                        output = new KvOutput.Value(ops.get(key.name()));
                    } else if (key.kind() == Kind.REGISTER) {
                        ops.set(key.name(), value);
                    } else if (key.kind() == Kind.LOG) {
                        ops.append(key.name(), value);
                    } else {
                        long counted = ops.incr(key.name());
                        input = new KvInput.CompareAndSet(key.name(), counted == 1 ? null : Long.toString(counted - 1),
                                Long.toString(counted));
                        output = new KvOutput.CasResult(true);
                    }
                    long end = System.nanoTime();
                    history.add(Operation.completed(clientNumber, input, start, output, end));
                    slowestMillis.accumulateAndGet(Duration.ofNanos(end - start).toMillis(), Math::max);
                } catch (RuntimeException e) {
                    errors.add(name + " " + (input == null ? "incr " + key.name() : input) + ": " + e);
                    if (input != null && !read) {
                        history.add(Operation.pending(clientNumber, input, start));
                    }
                }
            }
        });
    }

    private static String keyOf(KvInput input) {
        return switch (input) {
            case KvInput.Get get -> get.key();
            case KvInput.Put put -> put.key();
            case KvInput.Append append -> append.key();
            case KvInput.CompareAndSet cas -> cas.key();
            default -> throw new IllegalStateException("not recorded here: " + input);
        };
    }

    private static RedisOps jedisOps(JedisCluster jedis) {
        return new RedisOps() {
            @Override
            public String get(String key) {
                return jedis.get(key);
            }

            @Override
            public void set(String key, String value) {
                assertEquals("OK", jedis.set(key, value));
            }

            @Override
            public long incr(String key) {
                return jedis.incr(key);
            }

            @Override
            public void append(String key, String value) {
                jedis.append(key, value);
            }
        };
    }

    private static RedisOps lettuceOps(RedisAdvancedClusterCommands<String, String> redis) {
        return new RedisOps() {
            @Override
            public String get(String key) {
                return redis.get(key);
            }

            @Override
            public void set(String key, String value) {
                assertEquals("OK", redis.set(key, value));
            }

            @Override
            public long incr(String key) {
                return redis.incr(key);
            }

            @Override
            public void append(String key, String value) {
                redis.append(key, value);
            }
        };
    }

    private static Set<HostAndPort> seeds(LocalCluster cluster) {
        Set<HostAndPort> seeds = new HashSet<>();
        for (long id : cluster.runningIds()) {
            seeds.add(new HostAndPort("127.0.0.1", cluster.respAddress(id).getPort()));
        }
        return seeds;
    }

    /** Lettuce as an application would set it up: topology refreshed on redirects, at most 5 of them per command. */
    private static RedisClusterClient lettuce(LocalCluster cluster) {
        List<RedisURI> seeds = cluster.runningIds().stream()
                .map(id -> RedisURI.create("127.0.0.1", cluster.respAddress(id).getPort())).collect(Collectors.toList());
        seeds.forEach(uri -> uri.setTimeout(PATIENCE));
        RedisClusterClient client = RedisClusterClient.create(seeds);
        client.setOptions(ClusterClientOptions.builder().maxRedirects(5)
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers().build())
                .build());
        return client;
    }

    /** Moves slots first..last to {@code group}; returns the configuration that made. */
    private static SlotLayout moveSlots(KvClient admin, int first, int last, long group) {
        ControllerReply reply = admin.controller(ControllerCommand.newBuilder()
                .setMove(MoveSlots.newBuilder().setFirst(first).setLast(last).setGroupId(group)).build());
        assertEquals("", reply.getError());
        return SlotLayout.fromProto(reply.getConfig());
    }

    /** Waits until every group's leader has applied {@code config} and moves no slot. */
    private static void awaitSettled(LocalCluster cluster, long config) {
        LocalCluster.awaitCondition("every group settles at configuration " + config, () -> {
            for (long group = 1; group <= GROUPS; group++) {
                SlotOwnershipState ownership = cluster.awaitLeader(group).slotOwnership(group);
                if (ownership == null || ownership.getConfigNumber() != config || ownership.getMovingCount() != 0) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Once a move settled, every store's CLUSTER SLOTS, SHARDS and NODES give the moved block to the
     * new group's leader, and a store that does not lead it answers a key there with -MOVED to that
     * leader. (Waited for: the leader balancer may move a leadership meanwhile.)
     */
    private static void assertClusterViewFollowsTheMove(LocalCluster cluster, int first, long group) {
        LocalCluster.awaitCondition(() -> "every store shows slot " + first + " at group " + group + "'s leader", () -> {
            int leaderPort = cluster.respAddress(cluster.awaitLeader(group).storeId()).getPort();
            for (long store : cluster.runningIds()) {
                try (Jedis jedis = jedis(cluster, store)) {
                    if (masterPortOf(jedis.clusterSlots(), first) != leaderPort
                            || shardMasterPortOf(jedis.clusterShards(), first) != leaderPort
                            || nodesMasterPortOf(jedis.clusterNodes(), first) != leaderPort) {
                        return false;
                    }
                    if (store != cluster.awaitLeader(group).storeId() && movedPort(jedis, keyInSlotsFrom(first)) != leaderPort) {
                        return false;
                    }
                }
            }
            return true;
        });
    }

    private static Jedis jedis(LocalCluster cluster, long store) {
        InetSocketAddress resp = cluster.respAddress(store);
        return new Jedis(new HostAndPort(resp.getHostString(), resp.getPort()),
                DefaultJedisClientConfig.builder().socketTimeoutMillis((int) PATIENCE.toMillis()).build());
    }

    private static long masterPortOf(List<Object> slots, int slot) {
        for (Object entry : slots) {
            List<?> range = (List<?>) entry;
            if ((Long) range.get(0) <= slot && slot <= (Long) range.get(1)) {
                return (Long) ((List<?>) range.get(2)).get(1);
            }
        }
        throw new AssertionError("CLUSTER SLOTS does not cover slot " + slot + ": " + slots);
    }

    private static long shardMasterPortOf(List<ClusterShardInfo> shards, int slot) {
        for (ClusterShardInfo shard : shards) {
            for (List<Long> range : shard.getSlots()) {
                if (range.get(0) <= slot && slot <= range.get(1)) {
                    return shard.getNodes().stream().filter(node -> node.getRole().equals("master")).findFirst()
                            .orElseThrow(() -> new AssertionError("shard without a master: " + shard.getClusterShardInfo()))
                            .getPort();
                }
            }
        }
        throw new AssertionError("CLUSTER SHARDS does not cover slot " + slot);
    }

    /** The port of the CLUSTER NODES line whose slots (fields 9 on: "a-b" or "a") hold {@code slot}. */
    private static long nodesMasterPortOf(String nodes, int slot) {
        for (String line : nodes.lines().toList()) {
            String[] fields = line.split(" ");
            for (int i = 8; i < fields.length; i++) {
                String[] bounds = fields[i].split("-");
                long low = Long.parseLong(bounds[0]);
                long high = bounds.length == 1 ? low : Long.parseLong(bounds[1]);
                if (low <= slot && slot <= high) {
                    return Long.parseLong(fields[1].substring(fields[1].indexOf(':') + 1, fields[1].indexOf('@')));
                }
            }
        }
        throw new AssertionError("CLUSTER NODES does not cover slot " + slot + ":\n" + nodes);
    }

    /** The port a -MOVED for {@code key} names (-1 when the store answered it instead). */
    private static int movedPort(Jedis jedis, String key) {
        try {
            jedis.get(key);
            return -1;
        } catch (JedisMovedDataException e) {
            assertEquals(Slots.slotOf(ByteString.copyFrom(key, StandardCharsets.UTF_8)), e.getSlot());
            return e.getTargetNode().getPort();
        }
    }

    private static String keyInSlotsFrom(int first) {
        for (int n = 0; ; n++) {
            String key = "probe-" + n;
            int slot = Slots.slotOf(ByteString.copyFromUtf8(key));
            if (slot >= first && slot < first + BLOCK_SLOTS) {
                return key;
            }
        }
    }
}
