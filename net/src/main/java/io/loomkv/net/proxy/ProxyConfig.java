package io.loomkv.net.proxy;

import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.net.rpc.RpcServerConfig;
import java.time.Duration;

/**
 * The limits of a {@link KvProxy}. A breach of a limit on requests is answered with a status and a
 * message that names the limit; only a protocol violation (a frame over {@code maxFrameSizeBytes},
 * garbage) closes the connection, and nothing else is affected.
 *
 * @param maxConnections further connections are refused at once with {@code CODE_OVERLOADED}
 * @param maxInFlightPerConnection requests of one connection being worked on; one more is answered
 *     {@code UNAVAILABLE} (the Java client retries it with backoff). Beyond twice this the server
 *     stops reading the connection until answers are written (TCP back-pressure), like a store
 * @param maxInFlightTotal requests of all connections being worked on; one more: {@code UNAVAILABLE}
 * @param maxRequestBytes a larger request is answered {@code INVALID_ARGUMENT}, like a store does
 * @param maxFrameSizeBytes a larger frame closes the connection (a protocol violation)
 * @param maxSessions client sessions kept; opening one more forgets the least recently used
 * @param sessionIdleTimeout a session unused this long is forgotten
 * @param maxUnacknowledgedWrites writes of one session whose replies the client has not yet
 *     acknowledged; one more is answered {@code RESOURCE_EXHAUSTED} and not applied
 * @param upstreamClients slot-aware clients the proxy forwards through; each holds its own session
 *     per group, and the server caps a session's writes in flight, so more clients allow more
 *     concurrent writes to one group
 */
public record ProxyConfig(int maxConnections, int maxInFlightPerConnection, int maxInFlightTotal, int maxRequestBytes,
        int maxFrameSizeBytes, int maxSessions, Duration sessionIdleTimeout, int maxUnacknowledgedWrites, int upstreamClients) {
    public static final int DEFAULT_MAX_CONNECTIONS = RpcServerConfig.DEFAULT_MAX_CONNECTIONS;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
    public static final int DEFAULT_MAX_IN_FLIGHT_TOTAL = 16 * 1024;
    public static final int DEFAULT_MAX_SESSIONS = 100_000;
    public static final Duration DEFAULT_SESSION_IDLE_TIMEOUT = Duration.ofHours(1);
    public static final int DEFAULT_UPSTREAM_CLIENTS = 4;
    /** Twice this many requests per connection would exceed what the RPC server accepts in flight. */
    static final int MAX_IN_FLIGHT_PER_CONNECTION_LIMIT = 1 << 19;

    public ProxyConfig {
        if (maxConnections < 1 || maxInFlightPerConnection < 1 || maxInFlightPerConnection > MAX_IN_FLIGHT_PER_CONNECTION_LIMIT
                || maxInFlightTotal < 1) {
            throw new IllegalArgumentException("limits out of range: maxConnections=" + maxConnections
                    + " maxInFlightPerConnection=" + maxInFlightPerConnection + " (at most " + MAX_IN_FLIGHT_PER_CONNECTION_LIMIT
                    + ") maxInFlightTotal=" + maxInFlightTotal);
        }
        if (maxRequestBytes < 1 || maxFrameSizeBytes <= maxRequestBytes) {
            throw new IllegalArgumentException("need 1 <= maxRequestBytes < maxFrameSizeBytes, got " + maxRequestBytes + " and "
                    + maxFrameSizeBytes);
        }
        if (maxSessions < 1 || sessionIdleTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("need maxSessions >= 1 and sessionIdleTimeout >= 1 ms, got " + maxSessions + " and "
                    + sessionIdleTimeout);
        }
        if (maxUnacknowledgedWrites < 1 || maxUnacknowledgedWrites > SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES) {
            throw new IllegalArgumentException("maxUnacknowledgedWrites must be in 1.." + SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES
                    + ", got " + maxUnacknowledgedWrites);
        }
        if (upstreamClients < 1 || upstreamClients > 64) {
            throw new IllegalArgumentException("upstreamClients must be in 1..64, got " + upstreamClients);
        }
    }

    /** A store's limits: 1,024 connections, 1,024 requests per connection, 4 MiB requests, 16 MiB frames. */
    public static ProxyConfig defaults() {
        return new ProxyConfig(DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, DEFAULT_MAX_IN_FLIGHT_TOTAL,
                KvLimits.DEFAULT_MAX_REQUEST_BYTES, RpcServerConfig.DEFAULT_MAX_FRAME_SIZE_BYTES, DEFAULT_MAX_SESSIONS,
                DEFAULT_SESSION_IDLE_TIMEOUT, SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES, DEFAULT_UPSTREAM_CLIENTS);
    }

    public ProxyConfig withMaxConnections(int max) {
        return new ProxyConfig(max, maxInFlightPerConnection, maxInFlightTotal, maxRequestBytes, maxFrameSizeBytes, maxSessions,
                sessionIdleTimeout, maxUnacknowledgedWrites, upstreamClients);
    }

    public ProxyConfig withMaxInFlight(int perConnection, int total) {
        return new ProxyConfig(maxConnections, perConnection, total, maxRequestBytes, maxFrameSizeBytes, maxSessions,
                sessionIdleTimeout, maxUnacknowledgedWrites, upstreamClients);
    }

    public ProxyConfig withMaxRequestBytes(int max) {
        return new ProxyConfig(maxConnections, maxInFlightPerConnection, maxInFlightTotal, max, maxFrameSizeBytes, maxSessions,
                sessionIdleTimeout, maxUnacknowledgedWrites, upstreamClients);
    }

    public ProxyConfig withSessions(int max, Duration idleTimeout) {
        return new ProxyConfig(maxConnections, maxInFlightPerConnection, maxInFlightTotal, maxRequestBytes, maxFrameSizeBytes, max,
                idleTimeout, maxUnacknowledgedWrites, upstreamClients);
    }

    public ProxyConfig withUpstreamClients(int clients) {
        return new ProxyConfig(maxConnections, maxInFlightPerConnection, maxInFlightTotal, maxRequestBytes, maxFrameSizeBytes,
                maxSessions, sessionIdleTimeout, maxUnacknowledgedWrites, clients);
    }

    /** The RPC server's settings: the connection and frame limits, and room for twice the per-connection requests. */
    RpcServerConfig serverConfig(String clusterId) {
        return RpcServerConfig.defaults(clusterId).withMaxConnections(maxConnections)
                .withMaxInFlightPerConnection(2 * maxInFlightPerConnection).withMaxFrameSizeBytes(maxFrameSizeBytes);
    }
}
