package io.loomkv.core.shard;

/**
 * Where a key's hash tag sits: the bytes between the key's first {@code '{'} and the next
 * {@code '}'}, when there is at least one byte between them. Only those bytes decide the key's
 * slot, so every key that starts with the same bytes up to and including that {@code '}'} is in
 * the same slot (see {@link Slots#hashTag}).
 *
 * @param offset index of the tag's first byte (just after the {@code '{'})
 * @param lengthBytes number of bytes in the tag, at least 1
 */
public record HashTag(int offset, int lengthBytes) {
    public HashTag {
        if (offset < 1) {
            throw new IllegalArgumentException("a hash tag starts after a '{', so its offset is at least 1, got " + offset);
        }
        if (lengthBytes < 1) {
            throw new IllegalArgumentException("a hash tag holds at least one byte, got " + lengthBytes);
        }
    }

    /** Index just past the closing {@code '}'}: the length of the shortest key prefix that fixes the slot. */
    public int closedLengthBytes() {
        return offset + lengthBytes + 1;
    }
}
