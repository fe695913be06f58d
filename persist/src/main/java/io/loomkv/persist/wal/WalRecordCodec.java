package io.loomkv.persist.wal;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The on-disk record layout, 8-byte aligned:
 *
 * <pre>
 *   0  int   payload length in bytes
 *   4  byte  record type (0 = no record: preallocated zeros)
 *   5  byte[3] zero
 *   8  int   CRC32C of the payload
 *  12  int   CRC32C of bytes 0..11 (the header protects its own length field, so a bit flip in a
 *            length can never make a record "run into" the zeroed tail and pass as a torn write)
 *  16  payload, then zero padding to the next multiple of 8
 * </pre>
 *
 * Little-endian throughout.
 */
public final class WalRecordCodec {
    public static final int HEADER_BYTES = 16;
    public static final int ALIGNMENT_BYTES = 8;
    /** Largest payload accepted in one record; a bigger length on disk is damage. */
    public static final int MAX_PAYLOAD_BYTES = 64 << 20;
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private WalRecordCodec() {
    }

    /** Bytes a record with this payload occupies on disk, header and padding included. */
    public static int recordBytes(int payloadBytes) {
        if (payloadBytes < 0 || payloadBytes > MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("payload of " + payloadBytes + " bytes is outside 0.." + MAX_PAYLOAD_BYTES);
        }
        return align(HEADER_BYTES + payloadBytes);
    }

    static int align(int bytes) {
        return (bytes + ALIGNMENT_BYTES - 1) & -ALIGNMENT_BYTES;
    }

    /** Encodes one record at {@code out}'s position and advances it by {@link #recordBytes}. */
    public static void encode(WalRecordType type, byte[] payload, ByteBuffer out) {
        int total = recordBytes(payload.length);
        if (out.remaining() < total) {
            throw new IllegalArgumentException("record of " + total + " bytes does not fit in " + out.remaining());
        }
        ByteBuffer buffer = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int start = buffer.position();
        buffer.putInt(start, payload.length);
        buffer.put(start + 4, (byte) type.code());
        buffer.put(start + 5, (byte) 0).put(start + 6, (byte) 0).put(start + 7, (byte) 0);
        CRC32C payloadCrc = new CRC32C();
        payloadCrc.update(payload, 0, payload.length);
        buffer.putInt(start + 8, (int) payloadCrc.getValue());
        buffer.putInt(start + 12, headerCrc(buffer, start));
        buffer.put(start + HEADER_BYTES, payload);
        for (int i = start + HEADER_BYTES + payload.length; i < start + total; i++) {
            buffer.put(i, (byte) 0);
        }
        out.position(start + total);
    }

    /** Encodes one record into a new array (used on caller threads so that the writer thread only copies). */
    public static byte[] encode(WalRecordType type, byte[] payload) {
        byte[] bytes = new byte[recordBytes(payload.length)];
        System.arraycopy(payload, 0, bytes, HEADER_BYTES, payload.length);
        sealHeader(type, bytes, payload.length);
        return bytes;
    }

    /** Encodes a protobuf message as one record, serialising it straight into the record (no extra copy). */
    public static byte[] encode(WalRecordType type, MessageLite message) {
        byte[] bytes = new byte[recordBytes(message.getSerializedSize())];
        encode(type, message, bytes, 0);
        return bytes;
    }

    /**
     * Encodes a protobuf message as one record at {@code offset} of {@code out} (header, payload and
     * zero padding) and returns the bytes it occupies, {@link #recordBytes}. Lets a caller put several
     * records in one array without copying them.
     */
    public static int encode(WalRecordType type, MessageLite message, byte[] out, int offset) {
        int size = message.getSerializedSize();
        int total = recordBytes(size);
        if (offset < 0 || out.length - offset < total) {
            throw new IllegalArgumentException("record of " + total + " bytes does not fit at offset " + offset + " of " + out.length);
        }
        CodedOutputStream stream = CodedOutputStream.newInstance(out, offset + HEADER_BYTES, size);
        try {
            message.writeTo(stream);
        } catch (IOException e) {
            throw new IllegalStateException("serialising a " + size + " byte message into an array failed", e);
        }
        stream.checkNoSpaceLeft();
        for (int i = offset + HEADER_BYTES + size; i < offset + total; i++) {
            out[i] = 0;
        }
        sealHeader(type, out, offset, size);
        return total;
    }

    /** Fills the header of a record whose payload is already at {@code offset + HEADER_BYTES}. */
    private static void sealHeader(WalRecordType type, byte[] bytes, int payloadLength) {
        sealHeader(type, bytes, 0, payloadLength);
    }

    private static void sealHeader(WalRecordType type, byte[] bytes, int offset, int payloadLength) {
        INT_LE.set(bytes, offset, payloadLength);
        bytes[offset + 4] = (byte) type.code();
        bytes[offset + 5] = 0;
        bytes[offset + 6] = 0;
        bytes[offset + 7] = 0;
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset + HEADER_BYTES, payloadLength);
        INT_LE.set(bytes, offset + 8, (int) crc.getValue());
        crc.reset();
        crc.update(bytes, offset, 12);
        INT_LE.set(bytes, offset + 12, (int) crc.getValue());
    }

    static int headerCrc(ByteBuffer littleEndian, int start) {
        CRC32C crc = new CRC32C();
        crc.update(littleEndian.duplicate().position(start).limit(start + 12));
        return (int) crc.getValue();
    }

    static int payloadCrc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }
}
