package io.loomkv.net.node;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * An in-process cluster of real {@link KvNode}s on loopback (ephemeral ports, a temp data
 * directory per node), for tests. Nodes can be stopped and restarted on the same data.
 */
final class LocalCluster implements AutoCloseable {
    static final String CLUSTER_ID = "test-cluster";

    private final Path root;
    private final long snapshotThresholdEntries;
    private final Map<Long, MemberAddress> addresses = new TreeMap<>();
    private final Map<Long, KvNode> running = new TreeMap<>();
    private final List<Long> initialMembers = new ArrayList<>();
    private boolean leaseReads;

    LocalCluster(Path root, int size, long snapshotThresholdEntries) throws IOException {
        this.root = root;
        this.snapshotThresholdEntries = snapshotThresholdEntries;
        for (long id = 1; id <= size; id++) {
            addresses.put(id, newAddress(id));
            initialMembers.add(id);
        }
    }

    static MemberAddress newAddress(long id) throws IOException {
        return new MemberAddress(id, new InetSocketAddress("127.0.0.1", freePort()), new InetSocketAddress("127.0.0.1", freePort()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    NodeConfig config(long id, boolean join) {
        MemberAddress self = addresses.get(id);
        List<MemberAddress> members = initialMembers.stream().map(addresses::get).toList();
        return new NodeConfig(id, CLUSTER_ID, self.clientAddress(), self.peerAddress(), root.resolve("node" + id), members,
                join, 20, 10, 1, snapshotThresholdEntries, true, leaseReads, 1024, 64 * 1024, 5_000);
    }

    /** Serve LEASE reads from the leader's lease (set before starting nodes). */
    LocalCluster withLeaseReads() {
        leaseReads = true;
        return this;
    }

    LocalCluster startAll() throws IOException {
        for (long id : initialMembers) {
            start(id);
        }
        return this;
    }

    KvNode start(long id) throws IOException {
        KvNode node = KvNode.start(config(id, !initialMembers.contains(id)));
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
        KvNode node = running.remove(id);
        if (node != null) {
            node.close();
        }
    }

    KvNode node(long id) {
        return running.get(id);
    }

    KvNode awaitLeader() {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (KvNode node : running.values()) {
                if (node.isLeader()) {
                    return node;
                }
            }
            sleep(20);
        }
        throw new AssertionError("no leader within 30 s among " + running.keySet());
    }

    static void awaitCondition(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(20);
        }
        throw new AssertionError("timed out after 30 s waiting for: " + what);
    }

    List<InetSocketAddress> clientAddresses() {
        return addresses.values().stream().map(MemberAddress::clientAddress).toList();
    }

    MemberAddress address(long id) {
        return addresses.get(id);
    }

    KvClient client() {
        return new KvClient(KvClientConfig.of(clientAddresses(), CLUSTER_ID).withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)));
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
