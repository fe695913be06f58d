package io.loomkv.net.node;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything one node needs to start. Loaded by {@link NodeConfigLoader} from a {@code .properties}
 * file whose keys are listed in {@link NodeConfigKey}; every key is also a command-line flag.
 *
 * @param nodeId this node's Raft id (positive, unique in the cluster)
 * @param clusterId peers must present the same id in their handshake
 * @param clientAddress where clients connect (host:port)
 * @param peerAddress where other nodes connect for Raft traffic
 * @param dataDirectory holds the WAL and snapshots
 * @param members the cluster's initial members (this node included unless it joins later)
 * @param join true for a node added to a running cluster: it starts with no membership and waits
 *     for the leader to add it
 * @param tickIntervalMillis length of one Raft tick
 * @param electionTimeoutTicks election timeout, in ticks
 * @param heartbeatTicks heartbeat interval, in ticks
 * @param snapshotThresholdEntries take a snapshot once this many entries were applied since the last one
 * @param fsync whether WAL appends are forced to disk before they count as durable; {@code false}
 *     survives a process crash but not a power loss (see {@code StoreLogOptions#fsync()})
 * @param leaseReads serve LEASE reads from the leader's lease instead of a ReadIndex round
 * @param maxKeyBytes the largest key accepted
 * @param maxValueBytes the largest value accepted
 * @param requestTimeoutMillis a request without an outcome after this long gets TIMEOUT
 */
public record NodeConfig(
        long nodeId,
        String clusterId,
        InetSocketAddress clientAddress,
        InetSocketAddress peerAddress,
        Path dataDirectory,
        List<MemberAddress> members,
        boolean join,
        int tickIntervalMillis,
        int electionTimeoutTicks,
        int heartbeatTicks,
        long snapshotThresholdEntries,
        boolean fsync,
        boolean leaseReads,
        int maxKeyBytes,
        int maxValueBytes,
        long requestTimeoutMillis) {

    public NodeConfig {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(peerAddress, "peerAddress");
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        members = List.copyOf(members);
        if (nodeId <= 0) {
            throw new IllegalArgumentException("nodeId must be positive, got " + nodeId);
        }
        if (clusterId.isBlank()) {
            throw new IllegalArgumentException("clusterId must not be blank");
        }
        if (!join && members.stream().noneMatch(m -> m.id() == nodeId)) {
            throw new IllegalArgumentException("members " + members + " do not include this node " + nodeId
                    + " (set join=true for a node added later)");
        }
        if (members.stream().map(MemberAddress::id).distinct().count() != members.size()) {
            throw new IllegalArgumentException("members " + members + " list an id twice");
        }
        if (tickIntervalMillis < 1 || tickIntervalMillis > 10_000) {
            throw new IllegalArgumentException("tickIntervalMillis must be in 1..10000, got " + tickIntervalMillis);
        }
        if (heartbeatTicks < 1 || electionTimeoutTicks <= heartbeatTicks) {
            throw new IllegalArgumentException("need 1 <= heartbeatTicks < electionTimeoutTicks, got "
                    + heartbeatTicks + " and " + electionTimeoutTicks);
        }
        if (snapshotThresholdEntries < 1) {
            throw new IllegalArgumentException("snapshotThresholdEntries must be positive, got " + snapshotThresholdEntries);
        }
        if (maxKeyBytes < 1 || maxValueBytes < 0) {
            throw new IllegalArgumentException("bad key/value limits: " + maxKeyBytes + "/" + maxValueBytes);
        }
        if (requestTimeoutMillis < 1) {
            throw new IllegalArgumentException("requestTimeoutMillis must be positive, got " + requestTimeoutMillis);
        }
    }

    /** This node's addresses as a member. */
    public MemberAddress self() {
        return new MemberAddress(nodeId, clientAddress, peerAddress);
    }
}
