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
 * Little-endian throughout. The payload of a group record (every type but the segment header)
 * starts with the group id and the type's fixed longs (see {@link WalRecordType}), then the
 * protobuf message:
 *
 * <pre>
 *  16  long  group id
 *  24  long  first fixed long (if any), and so on
 *   .  protobuf message
 * </pre>
 *
 * The group id costs 8 bytes per record and is written on the caller's thread together with the
 * message, straight into the record's array (no extra copy).
 */
public final class WalRecordCodec {
    public static final int HEADER_BYTES = 16;
    public static final int ALIGNMENT_BYTES = 8;
    /** Largest payload accepted in one record; a bigger length on disk is damage. */
    public static final int MAX_PAYLOAD_BYTES = 64 << 20;
    /** The group id that starts every group record's payload. */
    public static final int GROUP_ID_BYTES = 8;
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

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

    /** Bytes a group record of {@code type} occupies on disk with a message of {@code messageBytes}. */
    public static int groupRecordBytes(WalRecordType type, int messageBytes) {
        return recordBytes(groupPayloadBytes(type, messageBytes));
    }

    static int groupPayloadBytes(WalRecordType type, int messageBytes) {
        if (!type.grouped()) {
            throw new IllegalArgumentException(type + " records do not belong to a group");
        }
        if (messageBytes < 0 || messageBytes > MAX_PAYLOAD_BYTES - GROUP_ID_BYTES - 8 * type.fixedLongs()) {
            throw new IllegalArgumentException("message of " + messageBytes + " bytes does not fit a " + type + " record");
        }
        return GROUP_ID_BYTES + 8 * type.fixedLongs() + messageBytes;
    }

    /** As {@link #encodeGroupRecord(WalRecordType, long, long, long, MessageLite, byte[], int)} for types without fixed longs. */
    public static int encodeGroupRecord(WalRecordType type, long groupId, MessageLite message, byte[] out, int offset) {
        return encodeGroupRecord(type, groupId, 0, 0, message, out, offset);
    }

    /**
     * Encodes a group record at {@code offset} of {@code out}: the group id, the type's fixed longs
     * ({@code first}, then {@code second}, as many as the type has), then {@code message} (null: none),
     * serialised straight into the array. Returns the bytes it occupies.
     */
    public static int encodeGroupRecord(WalRecordType type, long groupId, long first, long second, MessageLite message,
            byte[] out, int offset) {
        if (groupId < 0) {
            throw new IllegalArgumentException("group id must be >= 0, got " + groupId);
        }
        int messageBytes = message == null ? 0 : message.getSerializedSize();
        int payloadBytes = groupPayloadBytes(type, messageBytes);
        int total = recordBytes(payloadBytes);
        if (offset < 0 || out.length - offset < total) {
            throw new IllegalArgumentException("record of " + total + " bytes does not fit at offset " + offset + " of " + out.length);
        }
        int position = offset + HEADER_BYTES;
        LONG_LE.set(out, position, groupId);
        position += GROUP_ID_BYTES;
        if (type.fixedLongs() > 0) {
            LONG_LE.set(out, position, first);
            position += 8;
        }
        if (type.fixedLongs() > 1) {
            LONG_LE.set(out, position, second);
            position += 8;
        }
        if (message != null) {
            CodedOutputStream stream = CodedOutputStream.newInstance(out, position, messageBytes);
            try {
                message.writeTo(stream);
            } catch (IOException e) {
                throw new IllegalStateException("serialising a " + messageBytes + " byte message into an array failed", e);
            }
            stream.checkNoSpaceLeft();
        }
        for (int i = offset + HEADER_BYTES + payloadBytes; i < offset + total; i++) {
            out[i] = 0;
        }
        sealHeader(type, out, offset, payloadBytes);
        return total;
    }

    /** The group id of a group record whose payload starts at {@code payloadOffset}. */
    static long groupId(byte[] data, int payloadOffset) {
        return (long) LONG_LE.get(data, payloadOffset);
    }

    /** Fixed long number {@code position} (0-based) of a group record whose payload starts at {@code payloadOffset}. */
    static long fixedLong(byte[] data, int payloadOffset, int position) {
        return (long) LONG_LE.get(data, payloadOffset + GROUP_ID_BYTES + 8 * position);
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
