package io.loomkv.net.resp;

import io.loomkv.core.shard.SlotRange;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a backend embedded in a store tells Redis Cluster clients about the cluster: the answer to
 * {@code CLUSTER SLOTS|SHARDS|NODES|MYID|INFO}. A backend without one (the proxy-style gateway)
 * answers those with Redis's "cluster support disabled".
 *
 * <p>Redis Cluster's model has one master per slot range and replicas that follow one master; a
 * loomkv store leads some groups and follows others. So every store is shown as a master owning
 * the slots of the groups it leads, and each shard (a Raft group) lists its other replicas.
 */
public interface RespCluster {

    /** This store's node id (40 hex characters). */
    String myId();

    /** The current view: every slot in exactly one shard (as long as any store of its group is known). */
    CompletableFuture<View> view();

    /**
     * A store as Redis Cluster shows a node: its id, the RESP address clients reach it on;
     * {@code failed} when it did not answer the last time it was asked (Redis's {@code fail} flag).
     */
    record Node(String id, String host, int port, boolean myself, boolean failed) {}

    /**
     * One Raft group: its slot ranges, the store that leads it (or, with no leader known, one of
     * its replicas, which answers {@code -CLUSTERDOWN} until there is one), and its other replicas.
     */
    record Shard(long groupId, List<SlotRange> ranges, Node master, boolean leaderKnown, List<Node> replicas) {}

    /** The shards in slot order, and every known store; {@code epoch} is the layout version. */
    record View(List<Shard> shards, List<Node> nodes, long epoch) {}

    /** The 40-hex-character id Redis Cluster clients expect, derived stably from the cluster and store id. */
    static String nodeId(String clusterId, long storeId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest(("loomkv/" + clusterId + "/" + storeId).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }
}
