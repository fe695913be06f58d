package io.loomkv.net.rpc;

import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.proto.Hello;
import io.loomkv.net.tls.TlsContext;
import java.time.Duration;

/**
 * How an {@link RpcClient} connects and what it allows itself.
 *
 * @param role {@code ROLE_CLIENT} for applications, {@code ROLE_PEER} for Raft nodes
 * @param clusterId presented in the Hello; a peer must match the server's, a client may leave it
 *     empty. When set, a server of another cluster is refused too.
 * @param nodeId this node's id when {@code role} is peer
 * @param connectionsPerEndpoint size of each endpoint's pool
 * @param maxInFlightPerConnection further calls on a full connection fail at once with {@code CODE_OVERLOADED}
 * @param maxFrameSizeBytes larger requests fail locally with {@code CODE_TOO_LARGE}; larger incoming frames close the connection
 * @param connectTimeout for TCP connect and for the handshake reply
 * @param partialFrameTimeout a response frame must arrive whole within this time of its first byte
 * @param reconnectBackoffInitial first wait after a failed connect; doubles per failure, with jitter
 * @param reconnectBackoffMax the wait never grows beyond this
 * @param compressThresholdBytes bodies at least this large are LZ4-compressed when that pays
 * @param tls connections speak TLS with this context; null: plain TCP
 */
public record RpcClientConfig(Hello.Role role, String clusterId, long nodeId, int connectionsPerEndpoint,
        int maxInFlightPerConnection, int maxFrameSizeBytes, Duration connectTimeout, Duration partialFrameTimeout,
        Duration reconnectBackoffInitial, Duration reconnectBackoffMax, int compressThresholdBytes, TlsContext tls) {
    public static final int DEFAULT_CONNECTIONS_PER_ENDPOINT = 2;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(50);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(5);

    public RpcClientConfig {
        if (role != Hello.Role.ROLE_CLIENT && role != Hello.Role.ROLE_PEER) {
            throw new IllegalArgumentException("role must be client or peer, got " + role);
        }
        if (clusterId == null || (role == Hello.Role.ROLE_PEER && clusterId.isEmpty())) {
            throw new IllegalArgumentException("a peer needs a cluster id; clusterId=" + clusterId);
        }
        if (connectionsPerEndpoint < 1 || connectionsPerEndpoint > 64) {
            throw new IllegalArgumentException("connectionsPerEndpoint not in [1, 64]: " + connectionsPerEndpoint);
        }
        if (maxInFlightPerConnection < 1 || maxInFlightPerConnection > 1 << 20) {
            throw new IllegalArgumentException("maxInFlightPerConnection out of range: " + maxInFlightPerConnection);
        }
        if (maxFrameSizeBytes < FrameCodec.MIN_MAX_FRAME_SIZE_BYTES) {
            throw new IllegalArgumentException("maxFrameSizeBytes " + maxFrameSizeBytes + " below "
                    + FrameCodec.MIN_MAX_FRAME_SIZE_BYTES);
        }
        for (Duration d : new Duration[] {connectTimeout, partialFrameTimeout, reconnectBackoffInitial}) {
            if (d.toMillis() < 1 || d.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("timeout out of range: " + d);
            }
        }
        if (reconnectBackoffMax.compareTo(reconnectBackoffInitial) < 0) {
            throw new IllegalArgumentException("reconnectBackoffMax " + reconnectBackoffMax + " below initial "
                    + reconnectBackoffInitial);
        }
        if (compressThresholdBytes < 0) {
            throw new IllegalArgumentException("negative compressThresholdBytes " + compressThresholdBytes);
        }
    }

    /** An application client; {@code clusterId} may be empty to accept any cluster. */
    public static RpcClientConfig client(String clusterId) {
        return new RpcClientConfig(Hello.Role.ROLE_CLIENT, clusterId, 0, DEFAULT_CONNECTIONS_PER_ENDPOINT,
                DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, RpcServerConfig.DEFAULT_MAX_FRAME_SIZE_BYTES,
                DEFAULT_CONNECT_TIMEOUT, RpcServerConfig.DEFAULT_PARTIAL_FRAME_TIMEOUT, DEFAULT_BACKOFF_INITIAL,
                DEFAULT_BACKOFF_MAX, RpcServerConfig.DEFAULT_COMPRESS_THRESHOLD_BYTES, null);
    }

    /** A Raft node talking to its peers. */
    public static RpcClientConfig peer(String clusterId, long nodeId) {
        return client(clusterId).withRole(Hello.Role.ROLE_PEER, nodeId);
    }

    public RpcClientConfig withRole(Hello.Role newRole, long newNodeId) {
        return new RpcClientConfig(newRole, clusterId, newNodeId, connectionsPerEndpoint, maxInFlightPerConnection,
                maxFrameSizeBytes, connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, tls);
    }

    public RpcClientConfig withConnectionsPerEndpoint(int connections) {
        return new RpcClientConfig(role, clusterId, nodeId, connections, maxInFlightPerConnection, maxFrameSizeBytes,
                connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, tls);
    }

    public RpcClientConfig withMaxInFlightPerConnection(int max) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, max, maxFrameSizeBytes,
                connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, tls);
    }

    public RpcClientConfig withMaxFrameSizeBytes(int max) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, maxInFlightPerConnection, max,
                connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, tls);
    }

    public RpcClientConfig withConnectTimeout(Duration timeout) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, maxInFlightPerConnection,
                maxFrameSizeBytes, timeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, tls);
    }

    public RpcClientConfig withReconnectBackoff(Duration initial, Duration max) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, maxInFlightPerConnection,
                maxFrameSizeBytes, connectTimeout, partialFrameTimeout, initial, max, compressThresholdBytes, tls);
    }

    public RpcClientConfig withCompressThresholdBytes(int threshold) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, maxInFlightPerConnection,
                maxFrameSizeBytes, connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                threshold, tls);
    }

    /** Connections speak TLS with {@code context} (null: plain TCP). */
    public RpcClientConfig withTls(TlsContext context) {
        return new RpcClientConfig(role, clusterId, nodeId, connectionsPerEndpoint, maxInFlightPerConnection,
                maxFrameSizeBytes, connectTimeout, partialFrameTimeout, reconnectBackoffInitial, reconnectBackoffMax,
                compressThresholdBytes, context);
    }
}
