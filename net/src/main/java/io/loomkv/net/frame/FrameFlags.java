package io.loomkv.net.frame;

/** Bits of the 16-bit flags field of the frame header. Unknown bits are a protocol error. */
public final class FrameFlags {
    /** The body on the wire is an LZ4 block (see {@link FrameCodec}); decompress before parsing. */
    public static final int LZ4 = 1;
    /** A {@link FrameType#RESPONSE} whose body is an {@code ErrorReply} rather than the method's reply. */
    public static final int ERROR = 1 << 1;
    /** Every bit this protocol version defines. */
    public static final int KNOWN = LZ4 | ERROR;

    private FrameFlags() {
    }

    public static boolean isSet(int flags, int bit) {
        return (flags & bit) != 0;
    }
}
