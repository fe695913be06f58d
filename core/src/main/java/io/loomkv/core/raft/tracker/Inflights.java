package io.loomkv.core.raft.tracker;

/**
 * The appends sent to one follower and not yet acknowledged: a ring of (last index, bytes),
 * bounded both in count and in total bytes, so that a slow follower cannot make the leader
 * buffer without limit.
 */
public final class Inflights {
    private final int capacity;
    private final long maxBytes;
    private final long[] lastIndexes;
    private final long[] sizesBytes;
    private int start;
    private int count;
    private long bytes;

    public Inflights(int capacity, long maxBytes) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        this.capacity = capacity;
        this.maxBytes = maxBytes;
        this.lastIndexes = new long[capacity];
        this.sizesBytes = new long[capacity];
    }

    /** Records an append whose last entry is {@code lastIndex}. */
    public void add(long lastIndex, long sizeBytes) {
        if (full()) {
            throw new IllegalStateException("cannot add into a full inflights window: count=" + count
                    + " capacity=" + capacity + " bytes=" + bytes + " maxBytes=" + maxBytes);
        }
        if (count > 0) {
            long previous = lastIndexes[(start + count - 1) % capacity];
            if (lastIndex <= previous) {
                throw new IllegalStateException("inflight index " + lastIndex + " not above previous " + previous);
            }
        }
        int slot = (start + count) % capacity;
        lastIndexes[slot] = lastIndex;
        sizesBytes[slot] = sizeBytes;
        count++;
        bytes += sizeBytes;
    }

    /** Frees every append whose last index is at most {@code index}. */
    public void freeLessOrEqual(long index) {
        while (count > 0 && lastIndexes[start] <= index) {
            bytes -= sizesBytes[start];
            start = (start + 1) % capacity;
            count--;
        }
        if (count == 0) {
            start = 0;
        }
    }

    public boolean full() {
        return count == capacity || bytes >= maxBytes;
    }

    public int count() {
        return count;
    }

    public long bytes() {
        return bytes;
    }

    /** An independent copy holding the same in-flight appends. */
    public Inflights copy() {
        Inflights copy = new Inflights(capacity, maxBytes);
        System.arraycopy(lastIndexes, 0, copy.lastIndexes, 0, capacity);
        System.arraycopy(sizesBytes, 0, copy.sizesBytes, 0, capacity);
        copy.start = start;
        copy.count = count;
        copy.bytes = bytes;
        return copy;
    }

    public void reset() {
        start = 0;
        count = 0;
        bytes = 0;
    }
}
