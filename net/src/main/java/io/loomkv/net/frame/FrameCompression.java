package io.loomkv.net.frame;

import io.loomkv.compress.CorruptDataException;
import io.loomkv.compress.Lz4BlockCodec;

/**
 * The body compression a connection uses: an encoder for large outgoing bodies (null: never
 * compress) and a decoder for incoming bodies flagged {@link FrameFlags#LZ4}.
 *
 * <p>The standard one is {@link Lz4BlockCodec}: a body travels compressed only when that makes it
 * smaller, and a compressed body declares its decompressed size, which is checked against the
 * frame limit before anything is allocated; corrupt blocks fail their checksum.
 */
public record FrameCompression(FrameBodyEncoder encoder, FrameBodyDecoder decoder) {
    /** Sends raw bodies and refuses compressed ones. */
    public static final FrameCompression NONE = new FrameCompression(null, FrameBodyDecoder.REJECT);

    private static final FrameCompression LZ4 = lz4(Lz4BlockCodec.withDefaults());

    public FrameCompression {
        if (decoder == null) {
            throw new IllegalArgumentException("decoder is required (use FrameBodyDecoder.REJECT)");
        }
    }

    /** What loomkv connections use: LZ4 both ways. */
    public static FrameCompression standard() {
        return LZ4;
    }

    /** LZ4 block compression with {@code codec}. */
    public static FrameCompression lz4(Lz4BlockCodec codec) {
        FrameBodyEncoder encoder = new FrameBodyEncoder() {
            @Override
            public int maxCompressedLength(int bodyLengthBytes) {
                return codec.maxCompressedLength(bodyLengthBytes);
            }

            @Override
            public int compress(byte[] body, int offset, int length, byte[] destination, int destinationOffset) {
                int written = codec.compress(body, offset, length, destination, destinationOffset);
                return written == Lz4BlockCodec.RAW ? RAW : written;
            }
        };
        FrameBodyDecoder decoder = (source, offset, length, maxDecompressedBytes, destination) -> {
            try {
                int declared = Lz4BlockCodec.decompressedLength(source, offset, length, maxDecompressedBytes);
                return codec.decompress(source, offset, length, destination.apply(declared), 0, maxDecompressedBytes);
            } catch (CorruptDataException e) {
                throw new FrameFormatException("bad LZ4 body: " + e.getMessage(), e);
            }
        };
        return new FrameCompression(encoder, decoder);
    }
}
