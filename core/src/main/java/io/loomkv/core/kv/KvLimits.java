package io.loomkv.core.kv;

import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.engine.WriteBatch;

/**
 * Size and count limits of the key-value service. A request over any of them gets
 * {@code INVALID_ARGUMENT} (or {@code RESOURCE_EXHAUSTED} for replies) and changes nothing.
 *
 * <p>Defaults ({@link #defaults()}):
 * <ul>
 *   <li>{@code maxKeyBytes} = 4096 (4 KiB); keys must also be non-empty;</li>
 *   <li>{@code maxValueBytes} = 1048576 (1 MiB), also the largest value an append may produce;</li>
 *   <li>{@code maxKeysPerMultiOp} = 1024 keys in one multi-get or multi-put;</li>
 *   <li>{@code defaultScanLimit} = 1000 entries when a scan gives limit 0;</li>
 *   <li>{@code maxScanLimit} = 10000 entries per scan page;</li>
 *   <li>{@code maxRequestBytes} = 4194304 (4 MiB), the encoded size of one request;</li>
 *   <li>{@code maxReplyBytes} = 16777216 (16 MiB): a scan page stops early once its keys and
 *       values reach this many bytes (so it may pass it by one entry, and always holds at least
 *       one); a multi-get whose keys and values add up to more is refused.</li>
 * </ul>
 *
 * <p>These limits are a cluster-wide setting: the state machine re-checks them when it applies
 * a command (an append's result size, a multi-put's shape), so every replica of a group must use
 * the same values or replicas could decide differently on the same log entry.
 */
public record KvLimits(
        int maxKeyBytes,
        int maxValueBytes,
        int maxKeysPerMultiOp,
        int defaultScanLimit,
        int maxScanLimit,
        int maxRequestBytes,
        int maxReplyBytes) {

    public static final int DEFAULT_MAX_KEY_BYTES = 4 * 1024;
    public static final int DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_KEYS_PER_MULTI_OP = 1024;
    public static final int DEFAULT_SCAN_LIMIT = 1000;
    public static final int DEFAULT_MAX_SCAN_LIMIT = 10_000;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
    public static final int DEFAULT_MAX_REPLY_BYTES = 16 * 1024 * 1024;

    public KvLimits {
        requirePositive("maxKeyBytes", maxKeyBytes);
        requirePositive("maxValueBytes", maxValueBytes);
        requirePositive("maxKeysPerMultiOp", maxKeysPerMultiOp);
        requirePositive("defaultScanLimit", defaultScanLimit);
        requirePositive("maxScanLimit", maxScanLimit);
        requirePositive("maxRequestBytes", maxRequestBytes);
        requirePositive("maxReplyBytes", maxReplyBytes);
        if (defaultScanLimit > maxScanLimit) {
            throw new IllegalArgumentException("defaultScanLimit " + defaultScanLimit
                    + " exceeds maxScanLimit " + maxScanLimit);
        }
        if (maxScanLimit > ScanRequest.MAX_LIMIT) {
            throw new IllegalArgumentException("maxScanLimit " + maxScanLimit + " exceeds the engine's page limit "
                    + ScanRequest.MAX_LIMIT);
        }
        if (maxKeysPerMultiOp > WriteBatch.MAX_OPS) {
            throw new IllegalArgumentException("maxKeysPerMultiOp " + maxKeysPerMultiOp
                    + " exceeds the engine's batch limit " + WriteBatch.MAX_OPS);
        }
        if (maxRequestBytes < maxKeyBytes + maxValueBytes) {
            throw new IllegalArgumentException("maxRequestBytes " + maxRequestBytes
                    + " cannot hold one key of maxKeyBytes " + maxKeyBytes
                    + " and one value of maxValueBytes " + maxValueBytes);
        }
    }

    /** The documented defaults. */
    public static KvLimits defaults() {
        return new KvLimits(
                DEFAULT_MAX_KEY_BYTES,
                DEFAULT_MAX_VALUE_BYTES,
                DEFAULT_MAX_KEYS_PER_MULTI_OP,
                DEFAULT_SCAN_LIMIT,
                DEFAULT_MAX_SCAN_LIMIT,
                DEFAULT_MAX_REQUEST_BYTES,
                DEFAULT_MAX_REPLY_BYTES);
    }

    public KvLimits withMaxKeyBytes(int value) {
        return new KvLimits(value, maxValueBytes, maxKeysPerMultiOp, defaultScanLimit, maxScanLimit,
                maxRequestBytes, maxReplyBytes);
    }

    public KvLimits withMaxValueBytes(int value) {
        return new KvLimits(maxKeyBytes, value, maxKeysPerMultiOp, defaultScanLimit, maxScanLimit,
                maxRequestBytes, maxReplyBytes);
    }

    public KvLimits withMaxKeysPerMultiOp(int value) {
        return new KvLimits(maxKeyBytes, maxValueBytes, value, defaultScanLimit, maxScanLimit,
                maxRequestBytes, maxReplyBytes);
    }

    public KvLimits withScanLimits(int defaultLimit, int maxLimit) {
        return new KvLimits(maxKeyBytes, maxValueBytes, maxKeysPerMultiOp, defaultLimit, maxLimit,
                maxRequestBytes, maxReplyBytes);
    }

    public KvLimits withMaxRequestBytes(int value) {
        return new KvLimits(maxKeyBytes, maxValueBytes, maxKeysPerMultiOp, defaultScanLimit, maxScanLimit,
                value, maxReplyBytes);
    }

    public KvLimits withMaxReplyBytes(int value) {
        return new KvLimits(maxKeyBytes, maxValueBytes, maxKeysPerMultiOp, defaultScanLimit, maxScanLimit,
                maxRequestBytes, value);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
