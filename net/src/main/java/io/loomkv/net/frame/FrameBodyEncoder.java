package io.loomkv.net.frame;

/** Compresses large frame bodies for the {@link FrameFlags#LZ4} flag, only when that pays. */
@FunctionalInterface
public interface FrameBodyEncoder {
    /**
     * Returns the compressed form of {@code body}, or {@code null} when compression does not make
     * it smaller (the body is then sent raw).
     */
    byte[] compressIfSmaller(byte[] body);
}
