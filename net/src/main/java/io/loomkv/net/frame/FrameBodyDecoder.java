package io.loomkv.net.frame;

/** Turns a body that arrived with the {@link FrameFlags#LZ4} flag back into protobuf bytes. */
@FunctionalInterface
public interface FrameBodyDecoder {
    /**
     * @param maxDecompressedBytes the body may not grow beyond this; larger is a format error
     * @throws FrameFormatException when the body is corrupt, truncated or too large
     */
    byte[] decompress(byte[] source, int offset, int length, int maxDecompressedBytes) throws FrameFormatException;

    /** A decoder for a side that does not accept compressed bodies. */
    FrameBodyDecoder REJECT = (source, offset, length, max) -> {
        throw new FrameFormatException("LZ4-compressed body not accepted on this connection");
    };
}
