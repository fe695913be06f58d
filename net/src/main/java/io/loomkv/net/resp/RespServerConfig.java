package io.loomkv.net.resp;

import java.time.Duration;

/**
 * Limits of a {@link RespServer}. A request over a parser limit is answered with
 * {@code -ERR Protocol error: ...} and its connection closed; other connections go on.
 *
 * <p>Memory: a connection holds at most {@code maxInFlightPerConnection} parsed requests, each at
 * most {@code maxRequestBytes}, and a reply buffer that shrinks back after a large reply.
 *
 * @param maxConnections further connections get {@code -ERR max number of clients reached} and are closed
 * @param maxInFlightPerConnection requests read but not yet answered on one connection (pipelining);
 *     at the limit the reader stops reading (TCP back-pressure) for up to {@code inFlightWait}
 * @param inFlightWait how long a full pipeline may stay full before the connection is closed with an error
 * @param maxBulkBytes the largest bulk string (one argument) a request may carry
 * @param maxArrayLength the most arguments in one request
 * @param maxInlineBytes the longest inline command line (and the longest {@code *N} / {@code $N} header line)
 * @param maxRequestBytes the sum of one request's argument sizes
 * @param replyTimeout how long after its request was read a reply of the backend may take before an
 *     error is answered in its place (checked a few times per timeout, at least every second; the
 *     backend's own deadline normally comes first)
 * @param maxKeysListed the most keys {@code KEYS} returns and {@code DBSIZE} counts before it
 *     answers an error instead (both walk the whole key space)
 * @param maxScanCursors cursors the gateway remembers for {@code SCAN}; the oldest are forgotten first
 * @param maxCasRetries attempts of a read-modify-write command ({@code INCR}, {@code SET ... XX})
 *     that lost a compare-and-set race before it answers an error
 */
public record RespServerConfig(int maxConnections, int maxInFlightPerConnection, Duration inFlightWait, int maxBulkBytes,
        int maxArrayLength, int maxInlineBytes, int maxRequestBytes, Duration replyTimeout, int maxKeysListed,
        int maxScanCursors, int maxCasRetries) {
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1024;
    public static final Duration DEFAULT_IN_FLIGHT_WAIT = Duration.ofSeconds(30);
    /** 4 MiB: the cluster's largest request (KvLimits.maxRequestBytes); values themselves stop at 1 MiB. */
    public static final int DEFAULT_MAX_BULK_BYTES = 4 * 1024 * 1024;
    /** An MSET of 1024 pairs (the cluster's multi-put limit) is 2049 arguments. */
    public static final int DEFAULT_MAX_ARRAY_LENGTH = 4096;
    /** Redis's PROTO_INLINE_MAX_SIZE. */
    public static final int DEFAULT_MAX_INLINE_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;
    public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_KEYS_LISTED = 100_000;
    public static final int DEFAULT_MAX_SCAN_CURSORS = 10_000;
    public static final int DEFAULT_MAX_CAS_RETRIES = 64;

    public RespServerConfig {
        requireAtLeast("maxConnections", maxConnections, 1);
        requireAtLeast("maxInFlightPerConnection", maxInFlightPerConnection, 1);
        requireAtLeast("maxBulkBytes", maxBulkBytes, 1);
        requireAtLeast("maxArrayLength", maxArrayLength, 1);
        requireAtLeast("maxInlineBytes", maxInlineBytes, 64);
        requireAtLeast("maxRequestBytes", maxRequestBytes, maxBulkBytes);
        requireAtLeast("maxKeysListed", maxKeysListed, 1);
        requireAtLeast("maxScanCursors", maxScanCursors, 1);
        requireAtLeast("maxCasRetries", maxCasRetries, 1);
        if (inFlightWait.toMillis() < 1 || replyTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("inFlightWait and replyTimeout must be at least 1 ms, got "
                    + inFlightWait + " and " + replyTimeout);
        }
    }

    private static void requireAtLeast(String name, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException(name + " must be at least " + least + ", got " + value);
        }
    }

    public static RespServerConfig defaults() {
        return new RespServerConfig(DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, DEFAULT_IN_FLIGHT_WAIT,
                DEFAULT_MAX_BULK_BYTES, DEFAULT_MAX_ARRAY_LENGTH, DEFAULT_MAX_INLINE_BYTES, DEFAULT_MAX_REQUEST_BYTES,
                DEFAULT_REPLY_TIMEOUT, DEFAULT_MAX_KEYS_LISTED, DEFAULT_MAX_SCAN_CURSORS, DEFAULT_MAX_CAS_RETRIES);
    }

    public RespServerConfig withMaxConnections(int max) {
        return new RespServerConfig(max, maxInFlightPerConnection, inFlightWait, maxBulkBytes, maxArrayLength,
                maxInlineBytes, maxRequestBytes, replyTimeout, maxKeysListed, maxScanCursors, maxCasRetries);
    }

    public RespServerConfig withMaxInFlightPerConnection(int max, Duration wait) {
        return new RespServerConfig(maxConnections, max, wait, maxBulkBytes, maxArrayLength, maxInlineBytes,
                maxRequestBytes, replyTimeout, maxKeysListed, maxScanCursors, maxCasRetries);
    }

    /** The parser's limits: bulk, array, inline, request (in that order). */
    public RespServerConfig withParserLimits(int bulkBytes, int arrayLength, int inlineBytes, int requestBytes) {
        return new RespServerConfig(maxConnections, maxInFlightPerConnection, inFlightWait, bulkBytes, arrayLength,
                inlineBytes, requestBytes, replyTimeout, maxKeysListed, maxScanCursors, maxCasRetries);
    }

    public RespServerConfig withReplyTimeout(Duration timeout) {
        return new RespServerConfig(maxConnections, maxInFlightPerConnection, inFlightWait, maxBulkBytes, maxArrayLength,
                maxInlineBytes, maxRequestBytes, timeout, maxKeysListed, maxScanCursors, maxCasRetries);
    }

    public RespServerConfig withMaxKeysListed(int max) {
        return new RespServerConfig(maxConnections, maxInFlightPerConnection, inFlightWait, maxBulkBytes, maxArrayLength,
                maxInlineBytes, maxRequestBytes, replyTimeout, max, maxScanCursors, maxCasRetries);
    }
}
