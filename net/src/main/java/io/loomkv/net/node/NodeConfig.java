package io.loomkv.net.node;

import io.loomkv.net.rpc.RpcServerConfig;
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
 * @param dataGroups data groups of a new cluster: the 16384 slots are split evenly over them
 * @param replicasPerGroup stores per data group (0: every initial member hosts every group)
 * @param raftWorkers threads that run the replicas' Raft turns, whatever the number of groups
 * @param applyThreads threads that apply committed entries, whatever the number of groups
 * @param tls TLS on the client and peer ports ({@link StoreTls#PLAIN}: none)
 * @param engine the storage engine of the data groups and its options
 * @param respAddress where Redis-protocol clients connect (the store then answers as a Redis
 *     Cluster node, see docs/resp.md); null: no RESP endpoint
 * @param metricsAddress where the store serves {@code /metrics}, {@code /livez}, {@code /readyz} and
 *     {@code /health} over HTTP; null: no HTTP endpoint, and metrics are not recorded at all
 * @param frameCompression whether the frames this store sends to peers and clients are
 *     LZ4-compressed (from 8 KiB, when that makes them smaller); on by default, see
 *     {@link RpcServerConfig#DEFAULT_COMPRESS_THRESHOLD_BYTES} for when off pays. Frames that
 *     arrive compressed are read either way, so stores with different settings talk to each other.
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
        long requestTimeoutMillis,
        int dataGroups,
        int replicasPerGroup,
        int raftWorkers,
        int applyThreads,
        StoreTls tls,
        EngineConfig engine,
        InetSocketAddress respAddress,
        InetSocketAddress metricsAddress,
        boolean frameCompression) {

    /** Plain TCP on the memory engine, no RESP or metrics endpoint (tests and tools written before those). */
    public NodeConfig(long nodeId, String clusterId, InetSocketAddress clientAddress, InetSocketAddress peerAddress,
            Path dataDirectory, List<MemberAddress> members, boolean join, int tickIntervalMillis, int electionTimeoutTicks,
            int heartbeatTicks, long snapshotThresholdEntries, boolean fsync, boolean leaseReads, int maxKeyBytes,
            int maxValueBytes, long requestTimeoutMillis, int dataGroups, int replicasPerGroup, int raftWorkers,
            int applyThreads) {
        this(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join, tickIntervalMillis,
                electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads, maxKeyBytes, maxValueBytes,
                requestTimeoutMillis, dataGroups, replicasPerGroup, raftWorkers, applyThreads, StoreTls.PLAIN,
                EngineConfig.defaults(EngineKind.MEMORY), null, null, true);
    }

    public NodeConfig {
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(engine, "engine");
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
        if (dataGroups < 1 || dataGroups > MAX_DATA_GROUPS) {
            throw new IllegalArgumentException("dataGroups must be in 1.." + MAX_DATA_GROUPS + ", got " + dataGroups);
        }
        if (replicasPerGroup < 0 || replicasPerGroup > 7) {
            throw new IllegalArgumentException("replicasPerGroup must be in 0..7 (0: every store), got " + replicasPerGroup);
        }
        if (respAddress != null && respAddress.getPort() == 0) {
            throw new IllegalArgumentException("respAddress needs a fixed port (other stores are told it), got port 0");
        }
        if (respAddress != null && tls.client() != null && tls.client().trustedCaFile() == null) {
            // Behind its RESP port a store asks the other stores' client ports (layouts, forwarded commands) over TLS.
            throw new IllegalArgumentException("resp-address with TLS on the client port needs client-trusted-ca-file: the "
                    + "store calls the other stores' client ports and verifies their certificates with it");
        }
        if (raftWorkers < 1 || raftWorkers > 64 || applyThreads < 1 || applyThreads > 64) {
            throw new IllegalArgumentException("raftWorkers and applyThreads must be in 1..64, got " + raftWorkers
                    + " and " + applyThreads);
        }
    }

    /** At most one group per slot. */
    public static final int MAX_DATA_GROUPS = 16_384;
    /**
     * A quarter of the cores, 1 to 8: one worker keeps up with a store's turns on a small machine,
     * and one pass over every replica with work batches more per flush than two half passes (16
     * groups on 3 stores of 2 cores: 12% more throughput with 1 worker than with 2, half the
     * flushes per request; docs/performance.md). TiKV's raftstore pool defaults to 2.
     */
    public static final int DEFAULT_RAFT_WORKERS = Math.clamp(Runtime.getRuntime().availableProcessors() / 4, 1, 8);
    public static final int DEFAULT_APPLY_THREADS = 2;

    /** The same configuration with {@code groups} data groups (tests and tools). */
    public NodeConfig withDataGroups(int groups) {
        return new NodeConfig(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join,
                tickIntervalMillis, electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads,
                maxKeyBytes, maxValueBytes, requestTimeoutMillis, groups, replicasPerGroup, raftWorkers, applyThreads, tls,
                engine, respAddress, metricsAddress, frameCompression);
    }

    /** The same configuration with TLS settings {@code settings} (tests and tools). */
    public NodeConfig withTls(StoreTls settings) {
        return new NodeConfig(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join,
                tickIntervalMillis, electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads,
                maxKeyBytes, maxValueBytes, requestTimeoutMillis, dataGroups, replicasPerGroup, raftWorkers, applyThreads, settings,
                engine, respAddress, metricsAddress, frameCompression);
    }

    /** The same configuration on another storage engine (tests and tools). */
    public NodeConfig withEngine(EngineConfig newEngine) {
        return new NodeConfig(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join,
                tickIntervalMillis, electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads,
                maxKeyBytes, maxValueBytes, requestTimeoutMillis, dataGroups, replicasPerGroup, raftWorkers, applyThreads, tls,
                newEngine, respAddress, metricsAddress, frameCompression);
    }

    /** The same configuration with a RESP endpoint on {@code address} (null: none). */
    public NodeConfig withRespAddress(InetSocketAddress address) {
        return new NodeConfig(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join,
                tickIntervalMillis, electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads,
                maxKeyBytes, maxValueBytes, requestTimeoutMillis, dataGroups, replicasPerGroup, raftWorkers, applyThreads, tls,
                engine, address, metricsAddress, frameCompression);
    }

    /** The same configuration serving metrics and health on {@code address} (null: none). */
    public NodeConfig withMetricsAddress(InetSocketAddress address) {
        return new NodeConfig(nodeId, clusterId, clientAddress, peerAddress, dataDirectory, members, join,
                tickIntervalMillis, electionTimeoutTicks, heartbeatTicks, snapshotThresholdEntries, fsync, leaseReads,
                maxKeyBytes, maxValueBytes, requestTimeoutMillis, dataGroups, replicasPerGroup, raftWorkers, applyThreads, tls,
                engine, respAddress, address, frameCompression);
    }

    /** The body size from which this store compresses the frames it sends (never without {@link #frameCompression}). */
    public int frameCompressThresholdBytes() {
        return frameCompression ? RpcServerConfig.LZ4_COMPRESS_THRESHOLD_BYTES : RpcServerConfig.COMPRESSION_OFF;
    }

    /** Stores per group: {@link #replicasPerGroup}, where 0 means every initial member. */
    public int effectiveReplicasPerGroup() {
        return replicasPerGroup == 0 ? members.size() : replicasPerGroup;
    }

    /** This node's addresses as a member. */
    public MemberAddress self() {
        return new MemberAddress(nodeId, clientAddress, peerAddress);
    }
}
