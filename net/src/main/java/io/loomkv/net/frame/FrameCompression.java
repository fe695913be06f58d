package io.loomkv.net.frame;

/**
 * The body compression a connection uses: an encoder for large outgoing bodies (null: never
 * compress) and a decoder for incoming bodies flagged {@link FrameFlags#LZ4}.
 */
public record FrameCompression(FrameBodyEncoder encoder, FrameBodyDecoder decoder) {
    /** Sends raw bodies and refuses compressed ones. */
    public static final FrameCompression NONE = new FrameCompression(null, FrameBodyDecoder.REJECT);

    public FrameCompression {
        if (decoder == null) {
            throw new IllegalArgumentException("decoder is required (use FrameBodyDecoder.REJECT)");
        }
    }

    /** What loomkv connections use. */
    public static FrameCompression standard() {
        return NONE;
    }
}
