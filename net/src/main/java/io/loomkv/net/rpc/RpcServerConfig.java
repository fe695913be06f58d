package io.loomkv.net.rpc;

import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.tls.TlsContext;
import java.time.Duration;

/**
 * Limits and identity of an {@link RpcServer}.
 *
 * @param clusterId peers must present exactly this id in their Hello; clients may leave it empty
 * @param nodeId this server's node id, sent in its Hello reply (0 when it is not a Raft node)
 * @param maxConnections further connections are refused with {@code CODE_OVERLOADED}
 * @param maxInFlightPerConnection requests read but not yet answered; at the limit the reader
 *     stops reading that connection (TCP back-pressure) until responses are written
 * @param maxFrameSizeBytes header plus body, on the wire and after decompression
 * @param readIdleTimeout a connection with no frame started for this long is closed; zero: never
 * @param partialFrameTimeout a frame must arrive whole within this time of its first byte; also
 *     the time allowed for the handshake
 * @param compressThresholdBytes bodies at least this large are LZ4-compressed when that pays;
 *     {@link #COMPRESSION_OFF} disables compression
 * @param tls accepted connections speak TLS with this context; null: plain TCP
 */
public record RpcServerConfig(String clusterId, long nodeId, int maxConnections, int maxInFlightPerConnection,
        int maxFrameSizeBytes, Duration readIdleTimeout, Duration partialFrameTimeout, int compressThresholdBytes,
        TlsContext tls) {
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
    public static final int DEFAULT_MAX_FRAME_SIZE_BYTES = 16 * 1024 * 1024;
    public static final Duration DEFAULT_READ_IDLE_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_PARTIAL_FRAME_TIMEOUT = Duration.ofSeconds(10);
    /** A compression threshold no body reaches: nothing is sent compressed (compressed bodies are still read). */
    public static final int COMPRESSION_OFF = Integer.MAX_VALUE;
    /** The threshold when LZ4 is on: below it a body rarely compresses enough to pay for LZ4's own cost. */
    public static final int LZ4_COMPRESS_THRESHOLD_BYTES = 8 * 1024;
    /**
     * LZ4 from 8 KiB, for servers and clients alike. Whether it pays on a fast link depends on the
     * load: with 4 KB values on 3 loopback stores, alternated runs did 4-18% more operations
     * without it on the memory engine (1 and 16 groups), and about 15% fewer on 16 rocksdb groups
     * (docs/performance.md, 2026-12-07); so it stays on, and a store can turn it off
     * ({@code frame-compression=off}).
     */
    public static final int DEFAULT_COMPRESS_THRESHOLD_BYTES = LZ4_COMPRESS_THRESHOLD_BYTES;

    public RpcServerConfig {
        if (clusterId == null) {
            throw new IllegalArgumentException("clusterId is null");
        }
        if (maxConnections < 1 || maxInFlightPerConnection < 1 || maxInFlightPerConnection > 1 << 20) {
            throw new IllegalArgumentException("limits out of range: maxConnections=" + maxConnections
                    + " maxInFlightPerConnection=" + maxInFlightPerConnection);
        }
        if (maxFrameSizeBytes < FrameCodec.MIN_MAX_FRAME_SIZE_BYTES) {
            throw new IllegalArgumentException("maxFrameSizeBytes " + maxFrameSizeBytes + " below "
                    + FrameCodec.MIN_MAX_FRAME_SIZE_BYTES);
        }
        if (readIdleTimeout.isNegative() || readIdleTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("readIdleTimeout out of range: " + readIdleTimeout);
        }
        if (partialFrameTimeout.toMillis() < 1 || partialFrameTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("partialFrameTimeout out of range: " + partialFrameTimeout);
        }
        if (compressThresholdBytes < 0) {
            throw new IllegalArgumentException("negative compressThresholdBytes " + compressThresholdBytes);
        }
    }

    public static RpcServerConfig defaults(String clusterId) {
        return new RpcServerConfig(clusterId, 0, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
                DEFAULT_MAX_FRAME_SIZE_BYTES, DEFAULT_READ_IDLE_TIMEOUT, DEFAULT_PARTIAL_FRAME_TIMEOUT,
                DEFAULT_COMPRESS_THRESHOLD_BYTES, null);
    }

    public RpcServerConfig withNodeId(long id) {
        return new RpcServerConfig(clusterId, id, maxConnections, maxInFlightPerConnection, maxFrameSizeBytes,
                readIdleTimeout, partialFrameTimeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withMaxConnections(int max) {
        return new RpcServerConfig(clusterId, nodeId, max, maxInFlightPerConnection, maxFrameSizeBytes,
                readIdleTimeout, partialFrameTimeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withMaxInFlightPerConnection(int max) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, max, maxFrameSizeBytes, readIdleTimeout,
                partialFrameTimeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withMaxFrameSizeBytes(int max) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, maxInFlightPerConnection, max,
                readIdleTimeout, partialFrameTimeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withReadIdleTimeout(Duration timeout) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, maxInFlightPerConnection, maxFrameSizeBytes,
                timeout, partialFrameTimeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withPartialFrameTimeout(Duration timeout) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, maxInFlightPerConnection, maxFrameSizeBytes,
                readIdleTimeout, timeout, compressThresholdBytes, tls);
    }

    public RpcServerConfig withCompressThresholdBytes(int threshold) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, maxInFlightPerConnection, maxFrameSizeBytes,
                readIdleTimeout, partialFrameTimeout, threshold, tls);
    }

    /** Accepted connections speak TLS with {@code context} (null: plain TCP). */
    public RpcServerConfig withTls(TlsContext context) {
        return new RpcServerConfig(clusterId, nodeId, maxConnections, maxInFlightPerConnection, maxFrameSizeBytes,
                readIdleTimeout, partialFrameTimeout, compressThresholdBytes, context);
    }
}
