package io.loomkv.core.engine;

/**
 * Keys in {@code [startKey, endKey)}, at most {@code limit} of them and stopping once their keys
 * and values pass {@code maxBytes} (but always at least one key when any is in range).
 *
 * @param startKey first key (inclusive); an empty array means "from the start"
 * @param endKey end (exclusive), or null for no end
 */
public record ScanRequest(byte[] startKey, byte[] endKey, int limit, long maxBytes) {
    /** The most keys one page may hold, whatever a caller asks for. */
    public static final int MAX_LIMIT = 100_000;

    public ScanRequest {
        if (startKey == null) {
            throw new IllegalArgumentException("startKey must not be null (use an empty array for the start)");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in 1.." + MAX_LIMIT + ", got " + limit);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
    }

    public static ScanRequest range(byte[] startKey, byte[] endKey, int limit) {
        return new ScanRequest(startKey, endKey, limit, Long.MAX_VALUE);
    }

    /** Every key that starts with {@code prefix}. */
    public static ScanRequest prefix(byte[] prefix, int limit) {
        return new ScanRequest(prefix, Keys.prefixEnd(prefix), limit, Long.MAX_VALUE);
    }

    /** The request for the page after {@code page}, or null when {@code page} was the last one. */
    public ScanRequest next(ScanPage page) {
        return page.continuationKey() == null ? null : new ScanRequest(page.continuationKey(), endKey, limit, maxBytes);
    }

    /** True when {@code key} is inside this request's range. */
    public boolean contains(byte[] key) {
        return Keys.compare(key, startKey) >= 0 && (endKey == null || Keys.compare(key, endKey) < 0);
    }
}
