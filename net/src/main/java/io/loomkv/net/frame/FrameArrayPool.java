package io.loomkv.net.frame;

import org.jctools.queues.MpmcArrayQueue;

/**
 * Byte arrays for frame bodies too large for a connection's own read or write buffer (over 64
 * KiB: a batch of 4 KB requests, or the Raft entries a leader sends a follower), lent by one pool
 * that every connection of the process shares.
 *
 * <p>Why: allocating such an array per frame, and another for its (de)compressed form, was most of
 * what a store allocated under 4 KB values (readers: 44% of a follower's bytes; writers: most of a
 * leader's), and the young collections that followed took a fifth of the stores' CPU. Why shared
 * rather than kept per connection: a store may have a thousand client connections, and an array
 * kept by each would hold gigabytes; the pool holds at most {@link #ARRAYS_PER_CLASS} arrays of
 * each size class (about 15 MiB), and a connection holds a lent array only while it reads, writes
 * or parses one frame.
 *
 * <p>Arrays come in four classes, 128 KiB to 1 MiB (powers of two); a request above the largest
 * gets a new array of its own length, which {@link #give} then drops. Thread-safe.
 */
public final class FrameArrayPool {
    static final int SMALLEST_CLASS_BYTES = 128 * 1024;
    public static final int LARGEST_CLASS_BYTES = 1024 * 1024;
    static final int ARRAYS_PER_CLASS = 8;
    private static final int CLASS_COUNT = Integer.numberOfTrailingZeros(LARGEST_CLASS_BYTES / SMALLEST_CLASS_BYTES) + 1;

    /** The one every connection of this process uses. */
    public static final FrameArrayPool SHARED = new FrameArrayPool(ARRAYS_PER_CLASS);

    private final MpmcArrayQueue<byte[]>[] classes;

    @SuppressWarnings("unchecked")
    FrameArrayPool(int arraysPerClass) {
        if (arraysPerClass < 2) {
            throw new IllegalArgumentException("arraysPerClass must be at least 2 (JCTools' minimum), got " + arraysPerClass);
        }
        classes = new MpmcArrayQueue[CLASS_COUNT];
        for (int i = 0; i < CLASS_COUNT; i++) {
            classes[i] = new MpmcArrayQueue<>(arraysPerClass);
        }
    }

    /**
     * An array of at least {@code lengthBytes}: of its class's size, pooled or new, when that is at
     * most {@link #LARGEST_CLASS_BYTES}; else a new one of exactly {@code lengthBytes}. Its
     * contents are whatever the last borrower left.
     */
    public byte[] take(int lengthBytes) {
        if (lengthBytes < 0) {
            throw new IllegalArgumentException("lengthBytes must be >= 0, got " + lengthBytes);
        }
        if (lengthBytes > LARGEST_CLASS_BYTES) {
            return new byte[lengthBytes];
        }
        int index = classOf(lengthBytes);
        byte[] pooled = classes[index].relaxedPoll();
        return pooled != null ? pooled : new byte[SMALLEST_CLASS_BYTES << index];
    }

    /**
     * Gives back an array from {@link #take}; the caller must not touch it afterwards. Arrays of
     * no class size, and any beyond a full class, are left to the garbage collector.
     */
    public void give(byte[] array) {
        int length = array.length;
        if (length < SMALLEST_CLASS_BYTES || length > LARGEST_CLASS_BYTES || Integer.bitCount(length) != 1) {
            return;
        }
        classes[classOf(length)].relaxedOffer(array);
    }

    /** Arrays held for lending now (for tests). */
    int pooledArrays() {
        int total = 0;
        for (MpmcArrayQueue<byte[]> queue : classes) {
            total += queue.size();
        }
        return total;
    }

    private static int classOf(int lengthBytes) {
        if (lengthBytes <= SMALLEST_CLASS_BYTES) {
            return 0;
        }
        // The smallest power of two at least lengthBytes, as a shift above the smallest class.
        int ceilingPowerOfTwo = Integer.highestOneBit(lengthBytes - 1) << 1;
        return Integer.numberOfTrailingZeros(ceilingPowerOfTwo / SMALLEST_CLASS_BYTES);
    }
}
