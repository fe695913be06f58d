package io.loomkv.bench.kv;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bench's keys: {@code k} plus a 15-digit zero-padded index, 16 bytes each, so keys sort by
 * index (scans walk consecutive keys). Indexes {@code [0, preloadedKeys)} exist after the preload;
 * inserts take the next index from a shared counter. Shared by all workers; thread-safe.
 */
public final class KeySpace {
    public static final int KEY_SIZE_BYTES = 16;
    /** The largest index a 15-digit key can hold. */
    public static final long MAX_INDEX = 999_999_999_999_999L;
    /**
     * A prime above every allowed key count: rank -> rank * SCRAMBLE mod n is a bijection, so the
     * zipfian hot keys are spread over the key space (as YCSB's scrambled zipfian does) without
     * changing the distribution.
     */
    private static final long SCRAMBLE_PRIME = 2_147_483_647L;

    private final long preloadedKeys;
    private final KeyDistribution distribution;
    private final ZipfianGenerator zipfian;
    private final AtomicLong nextInsert;

    public KeySpace(long preloadedKeys, KeyDistribution distribution) {
        if (preloadedKeys < 1 || preloadedKeys >= SCRAMBLE_PRIME) {
            throw new IllegalArgumentException("key count must be in 1.." + (SCRAMBLE_PRIME - 1) + ", got " + preloadedKeys);
        }
        this.preloadedKeys = preloadedKeys;
        this.distribution = distribution;
        this.zipfian = distribution == KeyDistribution.UNIFORM ? null
                : new ZipfianGenerator(preloadedKeys, ZipfianGenerator.YCSB_THETA);
        this.nextInsert = new AtomicLong(preloadedKeys);
    }

    public static ByteString key(long index) {
        if (index < 0 || index > MAX_INDEX) {
            throw new IllegalArgumentException("key index out of range: " + index);
        }
        // The digits written straight into the key's bytes: String.format took 4% of the load
        // generator's CPU, which it shares with the servers on a small machine.
        byte[] bytes = new byte[KEY_SIZE_BYTES];
        bytes[0] = 'k';
        long rest = index;
        for (int i = KEY_SIZE_BYTES - 1; i > 0; i--) {
            bytes[i] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        return UnsafeByteOperations.unsafeWrap(bytes);
    }

    /** The end (exclusive) of the whole key space: every key starts with 'k'. */
    public static ByteString keySpaceEnd() {
        return ByteString.copyFrom("l", StandardCharsets.US_ASCII);
    }

    public long preloadedKeys() {
        return preloadedKeys;
    }

    /** A fresh index for an insert. */
    public long nextInsertIndex() {
        long index = nextInsert.getAndIncrement();
        if (index > MAX_INDEX) {
            throw new IllegalStateException("key space exhausted at index " + index);
        }
        return index;
    }

    /** An index of an existing key (one preloaded or inserted so far), by the distribution. */
    public long nextExistingIndex(SplittableRandom random) {
        return switch (distribution) {
            case UNIFORM -> random.nextLong(preloadedKeys);
            case ZIPFIAN -> Math.floorMod(zipfian.next(random) * SCRAMBLE_PRIME, preloadedKeys);
            case LATEST -> {
                // Counted back from the newest insert: the newest keys are the hottest (YCSB D).
                long newest = nextInsert.get() - 1;
                yield Math.max(0, newest - zipfian.next(random));
            }
        };
    }
}
