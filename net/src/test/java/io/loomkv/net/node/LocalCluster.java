package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * An in-process cluster of real {@link Store}s on loopback (ephemeral ports, a temp data
 * directory per store), for tests. Stores can be stopped and restarted on the same data. With
 * {@code groups > 1} the slots are split over that many data groups, each on every store.
 */
final class LocalCluster implements AutoCloseable {
    static final String CLUSTER_ID = "test-cluster";
    /** The data group a single-group test talks about. */
    static final long GROUP = 1;
    /**
     * Two, whatever the machine's default: the stores' groups then run on different workers, so
     * the tests cover turns of one store's groups interleaved on two threads.
     */
    static final int RAFT_WORKERS = 2;

    private final Path root;
    private final long snapshotThresholdEntries;
    private final int groups;
    private final Map<Long, MemberAddress> addresses = new TreeMap<>();
    // Concurrent: a partitioner thread re-cuts the network while the test thread waits.
    private final Map<Long, Store> running = new ConcurrentSkipListMap<>();
    private final List<Long> initialMembers = new ArrayList<>();
    /** The stores' RESP endpoints, when {@link #withResp()} asked for them. */
    private final Map<Long, InetSocketAddress> respAddresses = new TreeMap<>();
    private boolean leaseReads;
    /** Stores per group; 0: every initial member hosts every group. */
    private int replicasPerGroup;
    private long requestTimeoutMillis = 5_000;
    private int electionTimeoutTicks = 10;
    /** Serve metrics and health on an ephemeral port (see {@link Store#metricsAddress()}). */
    private boolean metrics;
    /** Each store's TLS settings (plain TCP unless a test says otherwise). */
    private java.util.function.LongFunction<StoreTls> tls = id -> StoreTls.PLAIN;
    private EngineConfig engine = EngineConfig.defaults(EngineKind.MEMORY);
    /** Bumped when startAll retries on fresh ports; new data directories go with the new addresses. */
    private int generation;

    LocalCluster(Path root, int size, long snapshotThresholdEntries) throws IOException {
        this(root, size, snapshotThresholdEntries, 1);
    }

    LocalCluster(Path root, int size, long snapshotThresholdEntries, int groups) throws IOException {
        this.root = root;
        this.snapshotThresholdEntries = snapshotThresholdEntries;
        this.groups = groups;
        for (long id = 1; id <= size; id++) {
            addresses.put(id, newAddress(id));
            initialMembers.add(id);
        }
    }

    static MemberAddress newAddress(long id) throws IOException {
        return new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()), new InetSocketAddress("127.0.0.1", freePort()));
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }

    NodeConfig config(long id, boolean join) {
        MemberAddress self = addresses.get(id);
        List<MemberAddress> members = initialMembers.stream().map(addresses::get).toList();
        return baseConfig(id, join, self, members).withRespAddress(respAddresses.get(id));
    }

    private NodeConfig baseConfig(long id, boolean join, MemberAddress self, List<MemberAddress> members) {
        return new NodeConfig(id, CLUSTER_ID, self.clientAddress(), self.peerAddress(), root.resolve(generation == 0 ? "node" + id : "node" + id + "-retry" + generation), members,
                join, 20, electionTimeoutTicks, 1, snapshotThresholdEntries, true, leaseReads, 1024, 64 * 1024, requestTimeoutMillis, groups, replicasPerGroup,
                RAFT_WORKERS, NodeConfig.DEFAULT_APPLY_THREADS).withTls(tls.apply(id)).withEngine(engine)
                .withMetricsAddress(metrics ? new InetSocketAddress("127.0.0.1", 0) : null);
    }

    /** Every store serves /metrics and the health endpoints on an ephemeral port (set before starting nodes). */
    LocalCluster withMetrics() {
        metrics = true;
        return this;
    }

    /** Store {@code id} uses TLS settings {@code settings.apply(id)} (set before starting nodes). */
    LocalCluster withTls(java.util.function.LongFunction<StoreTls> settings) {
        tls = settings;
        return this;
    }

    /** Keeps the groups' data in {@code kind} with small caches (set before starting nodes). */
    LocalCluster withEngine(EngineKind kind) {
        engine = new EngineConfig(kind, 8L << 20, 4L << 20, 8, EngineConfig.MIN_BITCASK_FILE_BYTES);
        return this;
    }

    /** Gives every initial store a RESP endpoint (set before starting nodes). */
    LocalCluster withResp() throws IOException {
        for (long id : initialMembers) {
            respAddresses.put(id, new InetSocketAddress("127.0.0.1", freePort()));
        }
        return this;
    }

    /** The RESP endpoint of store {@code id} (null without {@link #withResp()}). */
    InetSocketAddress respAddress(long id) {
        return respAddresses.get(id);
    }

    /** Serve LEASE reads from the leader's lease (set before starting nodes). */
    LocalCluster withLeaseReads() {
        leaseReads = true;
        return this;
    }

    /** How long a store lets a request wait for its outcome before answering TIMEOUT (set before starting nodes). */
    LocalCluster withRequestTimeoutMillis(long millis) {
        requestTimeoutMillis = millis;
        return this;
    }

    /** The election timeout in 20 ms ticks, 10 by default (set before starting nodes); also the stores' liveness timeout. */
    LocalCluster withElectionTimeoutTicks(int ticks) {
        electionTimeoutTicks = ticks;
        return this;
    }

    /** Places every group on {@code replicas} stores only (set before starting nodes). */
    LocalCluster withReplicasPerGroup(int replicas) {
        replicasPerGroup = replicas;
        return this;
    }

    /** The layout the initial members compute when first started. */
    SlotLayout layout() {
        return StoreLayouts.initial(config(initialMembers.get(0), false));
    }

    /**
     * A key of {@code group}: the first of {@code base}, {@code base.1}, {@code base.2}, ... whose
     * slot the layout gives to that group (so with one group, {@code base} itself).
     */
    String keyIn(long group, String base) {
        return keyIn(layout(), group, base);
    }

    static String keyIn(SlotLayout layout, long group, String base) {
        for (int i = 0; i < 100_000; i++) {
            String key = i == 0 ? base : base + "." + i;
            if (layout.groupOf(Slots.slotOf(ByteString.copyFromUtf8(key))) == group) {
                return key;
            }
        }
        throw new IllegalArgumentException("no key of group " + group + " near '" + base + "' in " + layout);
    }

    /**
     * Starts the initial members. A port picked free may be taken before the node binds it (by an
     * outgoing connection of another test or process on this shared box): then the whole cluster
     * starts again on fresh ports and fresh data directories (the old ones name the old addresses).
     */
    LocalCluster startAll() throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                for (long id : initialMembers) {
                    start(id);
                }
                return this;
            } catch (BindException e) {
                close();
                if (attempt == 3) {
                    throw e;
                }
                generation++;
                for (long id : initialMembers) {
                    addresses.put(id, newAddress(id));
                    if (respAddresses.containsKey(id)) {
                        respAddresses.put(id, new InetSocketAddress("127.0.0.1", freePort()));
                    }
                }
            }
        }
    }

    Store start(long id) throws IOException {
        Store node = Store.start(config(id, !initialMembers.contains(id)));
        running.put(id, node);
        return node;
    }

    /** Adds the address of a node that will join later. */
    MemberAddress reserve(long id) throws IOException {
        MemberAddress address = newAddress(id);
        addresses.put(id, address);
        return address;
    }

    void stop(long id) {
        Store node = running.remove(id);
        if (node != null) {
            node.close();
        }
    }

    Store node(long id) {
        return running.get(id);
    }

    /** The store leading {@link #GROUP}. */
    Store awaitLeader() {
        return awaitLeader(GROUP);
    }

    /** The store leading {@code group}, once one does. */
    Store awaitLeader(long group) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (Store node : running.values()) {
                if (node.isLeader(group)) {
                    return node;
                }
            }
            sleep(20);
        }
        throw new AssertionError("no leader of group " + group + " within 30 s among " + running.keySet());
    }

    /** Waits until every data group has a leader. */
    void awaitLeaders() {
        for (long group : groups()) {
            awaitLeader(group);
        }
    }

    /** The data groups, 1..groups. */
    List<Long> groups() {
        return java.util.stream.LongStream.rangeClosed(1, groups).boxed().toList();
    }

    static void awaitCondition(String what, BooleanSupplier condition) {
        awaitCondition(() -> what, condition);
    }

    /** As {@link #awaitCondition(String, BooleanSupplier)}, describing the condition as it stands at the timeout. */
    static void awaitCondition(Supplier<String> what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(20);
        }
        throw new AssertionError("timed out after 30 s waiting for: " + what.get());
    }

    List<InetSocketAddress> clientAddresses() {
        return addresses.values().stream().map(MemberAddress::clientAddress).toList();
    }

    MemberAddress address(long id) {
        return addresses.get(id);
    }

    KvClient client() {
        return client(Duration.ofSeconds(2));
    }

    /**
     * A client that gives up on an attempt after {@code attemptTimeout} and retries (same session
     * sequence) elsewhere: short timeouts make retries of writes that did commit, which the
     * servers must apply once.
     */
    KvClient client(Duration attemptTimeout) {
        return new KvClient(KvClientConfig.of(clientAddresses(), CLUSTER_ID).withDeadline(Duration.ofSeconds(30), attemptTimeout));
    }

    /** A client that only knows (and so only talks to) the nodes {@code ids}. */
    KvClient client(Collection<Long> ids) {
        List<InetSocketAddress> servers = ids.stream().map(id -> addresses.get(id).clientAddress()).toList();
        return new KvClient(KvClientConfig.of(servers, CLUSTER_ID).withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)));
    }

    Set<Long> runningIds() {
        return Set.copyOf(running.keySet());
    }

    /**
     * Cuts the network between {@code sideA} and {@code sideB} (both directions), replacing any
     * earlier cut; random drops and delays stay as they were.
     */
    void partition(Set<Long> sideA, Set<Long> sideB) {
        connectAll();
        for (long id : sideA) {
            Store node = running.get(id);
            if (node != null) {
                node.peerFaults().block(sideB);
            }
        }
        for (long id : sideB) {
            Store node = running.get(id);
            if (node != null) {
                node.peerFaults().block(sideA);
            }
        }
    }

    /** Ends any partition (random drops and delays stay). */
    void connectAll() {
        for (Store node : running.values()) {
            node.peerFaults().unblock();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        for (long id : List.copyOf(running.keySet())) {
            stop(id);
        }
    }
}
