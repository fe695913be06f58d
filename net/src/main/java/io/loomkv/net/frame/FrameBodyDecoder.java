package io.loomkv.net.frame;

import java.util.function.IntFunction;

/** Turns a body that arrived with the {@link FrameFlags#LZ4} flag back into protobuf bytes. */
@FunctionalInterface
public interface FrameBodyDecoder {
    /**
     * Decompresses into the array {@code destination} returns for the declared length (at least
     * that long: the reader lends one from {@link FrameArrayPool}), from its offset 0.
     *
     * @param maxDecompressedBytes the body may not grow beyond this; larger is a format error, found
     *     before {@code destination} is asked for anything
     * @return the decompressed length
     * @throws FrameFormatException when the body is corrupt, truncated or too large
     */
    int decompress(byte[] source, int offset, int length, int maxDecompressedBytes, IntFunction<byte[]> destination)
            throws FrameFormatException;

    /** A decoder for a side that does not accept compressed bodies. */
    FrameBodyDecoder REJECT = (source, offset, length, max, destination) -> {
        throw new FrameFormatException("LZ4-compressed body not accepted on this connection");
    };
}
