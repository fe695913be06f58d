package io.loomkv.net.frame;

/**
 * A decoded frame header. {@code bodyLengthBytes} is the length on the wire (compressed when
 * {@link FrameFlags#LZ4} is set).
 */
public record FrameHeader(FrameType type, int flags, long requestId, int methodId, int bodyLengthBytes) {
    public FrameHeader {
        if (type == null) {
            throw new IllegalArgumentException("frame type is null");
        }
        if ((flags & ~FrameFlags.KNOWN) != 0) {
            throw new IllegalArgumentException("unknown flag bits 0x" + Integer.toHexString(flags & ~FrameFlags.KNOWN));
        }
        if (bodyLengthBytes < 0) {
            throw new IllegalArgumentException("negative body length " + bodyLengthBytes);
        }
    }

    public boolean hasFlag(int bit) {
        return (flags & bit) != 0;
    }
}
