package io.loomkv.net.frame;

/** Compresses large frame bodies for the {@link FrameFlags#LZ4} flag, only when that pays. */
public interface FrameBodyEncoder {
    /** Returned by {@link #compress} when the body should travel raw. */
    int RAW = -1;

    /** Room {@link #compress} may need in its destination for a body of {@code bodyLengthBytes}. */
    int maxCompressedLength(int bodyLengthBytes);

    /**
     * Compresses {@code body[offset, offset + length)} into {@code destination} at
     * {@code destinationOffset}, which has {@link #maxCompressedLength} bytes of room, without
     * allocating. Returns the compressed length, or {@link #RAW} when compression does not make
     * the body smaller (the destination's bytes are then unspecified).
     */
    int compress(byte[] body, int offset, int length, byte[] destination, int destinationOffset);

    /** The compressed form of {@code body} in a new array, or {@code null} when it should travel raw. */
    default byte[] compressIfSmaller(byte[] body) {
        byte[] destination = new byte[maxCompressedLength(body.length)];
        int written = compress(body, 0, body.length, destination, 0);
        return written == RAW ? null : java.util.Arrays.copyOf(destination, written);
    }
}
