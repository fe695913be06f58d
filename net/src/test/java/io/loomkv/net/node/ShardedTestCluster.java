package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.client.KvClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A {@link LocalCluster} of several stores and data groups, for tests in other packages (the
 * proxy's): only what they need, in public methods.
 */
public final class ShardedTestCluster implements AutoCloseable {
    public static final String CLUSTER_ID = LocalCluster.CLUSTER_ID;

    private final LocalCluster cluster;

    private ShardedTestCluster(LocalCluster cluster) {
        this.cluster = cluster;
    }

    /** Starts {@code stores} stores hosting {@code groups} data groups each, and waits for every group's leader. */
    public static ShardedTestCluster start(Path dir, int stores, int groups) throws IOException {
        LocalCluster cluster = new LocalCluster(dir, stores, 10_000, groups).startAll();
        try {
            cluster.awaitLeaders();
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
        return new ShardedTestCluster(cluster);
    }

    public List<InetSocketAddress> clientAddresses() {
        return cluster.clientAddresses();
    }

    public List<Long> groups() {
        return cluster.groups();
    }

    public SlotLayout layout() {
        return cluster.layout();
    }

    /** A key of {@code group} near {@code base} (see {@link LocalCluster#keyIn}). */
    public String keyIn(long group, String base) {
        return cluster.keyIn(group, base);
    }

    /** The id of the store leading {@code group}, once one does. */
    public long leaderOf(long group) {
        return cluster.awaitLeader(group).storeId();
    }

    public Set<Long> storeIds() {
        return cluster.runningIds();
    }

    /** What store {@code storeId} has applied of {@code group}. */
    public long appliedIndex(long storeId, long group) {
        return cluster.node(storeId).appliedIndex(group);
    }

    /** Cuts the peer traffic between the two sides (clients still reach every store). */
    public void partition(Set<Long> sideA, Set<Long> sideB) {
        cluster.partition(sideA, sideB);
    }

    public void connectAll() {
        cluster.connectAll();
    }

    /** A client that talks to the stores directly. */
    public KvClient client() {
        return cluster.client();
    }

    public static void awaitCondition(String what, BooleanSupplier condition) {
        LocalCluster.awaitCondition(what, condition);
    }

    @Override
    public void close() {
        cluster.close();
    }
}
