package io.loomkv.net.frame;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Encodes and decodes the fixed frame header, and writes protobuf bodies straight into an output
 * array (no intermediate copy).
 *
 * <h2>Byte layout</h2>
 * Every frame is a 24-byte header followed by the body. All integers are big-endian.
 * <pre>
 * offset size field
 *   0     4   magic          0x4C4F4F4D ("LOOM")
 *   4     1   version        1
 *   5     1   frame type     1 HELLO, 2 REQUEST, 3 RESPONSE, 4 ONE_WAY  ({@link FrameType})
 *   6     2   flags          bit 0 LZ4 (body is an LZ4 block), bit 1 ERROR (body is an ErrorReply);
 *                            every other bit must be 0  ({@link FrameFlags})
 *   8     8   request id     matches a RESPONSE to its REQUEST; 0 for HELLO and ONE_WAY
 *  16     4   method id      (service id &lt;&lt; 16) | method index; 0 for HELLO
 *  20     4   body length    bytes of body on the wire, 0 &lt;= length &lt;= maxFrameSize - 24
 *  24     n   body           a protobuf message (LZ4-compressed when the LZ4 flag is set)
 * </pre>
 * A reader checks magic, version, type, flags and length before it reads or allocates anything
 * for the body, so a hostile length can never make it allocate more than the configured maximum.
 */
public final class FrameCodec {
    public static final int MAGIC = 0x4C4F4F4D;
    public static final int VERSION = 1;
    public static final int HEADER_SIZE_BYTES = 24;
    /** The smallest maximum frame size a connection may be configured with. */
    public static final int MIN_MAX_FRAME_SIZE_BYTES = 1024;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);

    private FrameCodec() {
    }

    /** Writes a header at {@code offset}; the caller guarantees {@link #HEADER_SIZE_BYTES} of room. */
    public static void writeHeader(byte[] destination, int offset, FrameType type, int flags, long requestId,
            int methodId, int bodyLengthBytes) {
        if ((flags & ~FrameFlags.KNOWN) != 0 || (flags & 0xFFFF) != flags) {
            throw new IllegalArgumentException("unknown flag bits in 0x" + Integer.toHexString(flags));
        }
        if (bodyLengthBytes < 0) {
            throw new IllegalArgumentException("negative body length " + bodyLengthBytes);
        }
        INT.set(destination, offset, MAGIC);
        destination[offset + 4] = (byte) VERSION;
        destination[offset + 5] = (byte) type.code();
        SHORT.set(destination, offset + 6, (short) flags);
        LONG.set(destination, offset + 8, requestId);
        INT.set(destination, offset + 16, methodId);
        INT.set(destination, offset + 20, bodyLengthBytes);
    }

    /**
     * Decodes and validates the header at {@code offset}; the caller guarantees
     * {@link #HEADER_SIZE_BYTES} readable bytes.
     *
     * @throws FrameFormatException naming what is wrong: magic, version, type, flags or length
     */
    public static FrameHeader readHeader(byte[] source, int offset, int maxFrameSizeBytes) throws FrameFormatException {
        int magic = (int) INT.get(source, offset);
        if (magic != MAGIC) {
            throw new FrameFormatException("bad magic 0x" + Integer.toHexString(magic) + " (expected 0x"
                    + Integer.toHexString(MAGIC) + ")");
        }
        int version = source[offset + 4] & 0xFF;
        if (version != VERSION) {
            throw new FrameFormatException("unknown protocol version " + version + " (this side speaks " + VERSION + ")");
        }
        int typeCode = source[offset + 5] & 0xFF;
        FrameType type = FrameType.fromCode(typeCode);
        if (type == null) {
            throw new FrameFormatException("unknown frame type " + typeCode);
        }
        int flags = ((short) SHORT.get(source, offset + 6)) & 0xFFFF;
        if ((flags & ~FrameFlags.KNOWN) != 0) {
            throw new FrameFormatException("unknown flag bits 0x" + Integer.toHexString(flags & ~FrameFlags.KNOWN));
        }
        long requestId = (long) LONG.get(source, offset + 8);
        int methodId = (int) INT.get(source, offset + 16);
        int bodyLengthBytes = (int) INT.get(source, offset + 20);
        if (bodyLengthBytes < 0) {
            throw new FrameFormatException("negative body length " + bodyLengthBytes);
        }
        if (bodyLengthBytes > maxFrameSizeBytes - HEADER_SIZE_BYTES) {
            throw new FrameFormatException("frame of " + ((long) bodyLengthBytes + HEADER_SIZE_BYTES)
                    + " bytes exceeds the maximum of " + maxFrameSizeBytes);
        }
        return new FrameHeader(type, flags, requestId, methodId, bodyLengthBytes);
    }

    /** The raw body-length field of the header at {@code offset}, not validated. */
    static int bodyLengthAt(byte[] source, int offset) {
        return (int) INT.get(source, offset + 20);
    }

    /** The encoded size of a frame with this (uncompressed) body. */
    public static int frameSizeBytes(MessageLite body) {
        return HEADER_SIZE_BYTES + body.getSerializedSize();
    }

    /**
     * Writes a whole uncompressed frame at {@code offset} and returns its size in bytes. The caller
     * has checked that {@code frameSizeBytes(body)} bytes fit.
     */
    public static int encode(byte[] destination, int offset, FrameType type, int flags, long requestId, int methodId,
            MessageLite body) {
        int bodyLengthBytes = body.getSerializedSize();
        writeHeader(destination, offset, type, flags & ~FrameFlags.LZ4, requestId, methodId, bodyLengthBytes);
        writeBody(destination, offset + HEADER_SIZE_BYTES, bodyLengthBytes, body);
        return HEADER_SIZE_BYTES + bodyLengthBytes;
    }

    /** Serialises {@code body} (whose size is {@code bodyLengthBytes}) into the array. */
    public static void writeBody(byte[] destination, int offset, int bodyLengthBytes, MessageLite body) {
        CodedOutputStream out = CodedOutputStream.newInstance(destination, offset, bodyLengthBytes);
        try {
            body.writeTo(out);
        } catch (IOException e) {
            // An array-backed stream only fails when the message lied about its size.
            throw new UncheckedIOException("serialising " + body.getClass().getSimpleName(), e);
        }
        out.checkNoSpaceLeft();
    }

    /** Encodes a whole uncompressed frame into a new array of exactly its size. */
    public static byte[] encodeToArray(FrameType type, int flags, long requestId, int methodId, MessageLite body) {
        byte[] frame = new byte[frameSizeBytes(body)];
        encode(frame, 0, type, flags, requestId, methodId, body);
        return frame;
    }
}
