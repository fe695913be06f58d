package io.loomkv.persist.bitcask;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The data file layout (little-endian). A data file is a sequence of record groups; a group is
 * what one batch wrote, and recovery takes all of it or none of it.
 *
 * <pre>
 * group header, 32 bytes:
 *   0  int   CRC32C of bytes 4..31 and of the metadata that follows the header
 *   4  int   magic "LKB1" (format version 1)
 *   8  long  group sequence (the records of a written group follow it: sequence + 1 + i)
 *  16  int   record count
 *  20  int   metadata length in bytes, -1 when the group carries none
 *  24  int   bytes of all the group's records together
 *  28  byte  kind: 1 = written by a batch, 2 = written by a merge
 *  29  byte[3] zero
 *  32  metadata
 *   .  records
 *
 * record, 20 bytes + key + value (the paper's crc | tstamp | ksz | value_sz | key | value):
 *   0  int   CRC32C of bytes 4..end of the record
 *   4  long  sequence (store-wide, increasing; it plays the paper's timestamp)
 *  12  int   key length
 *  16  int   value length, -1 for a tombstone (which has no value bytes)
 *  20  key
 *   .  value
 * </pre>
 *
 * Every record carries its own CRC, so a read of one value checks exactly the bytes it read with
 * one positioned read. The group is complete when its header checks out and each of its
 * {@code count} records does, filling exactly the declared bytes; no group-wide CRC is needed.
 */
final class RecordFormat {
    static final int GROUP_HEADER_BYTES = 32;
    static final int RECORD_HEADER_BYTES = 20;
    static final int GROUP_MAGIC = 0x314B424C; // "LKB1" read as little-endian bytes
    static final int TOMBSTONE = -1;
    static final int NO_METADATA = -1;
    static final byte KIND_WRITE = 1;
    static final byte KIND_MERGED = 2;
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private RecordFormat() {
    }

    /** Bytes a record takes on disk; {@code valueBytes} is {@link #TOMBSTONE} for a delete. */
    static int recordBytes(int keyBytes, int valueBytes) {
        return RECORD_HEADER_BYTES + keyBytes + Math.max(0, valueBytes);
    }

    /** Encodes one record at {@code offset}; {@code value} null is a tombstone. Returns the bytes written. */
    static int encodeRecord(byte[] out, int offset, long sequence, byte[] key, byte[] value) {
        int valueBytes = value == null ? TOMBSTONE : value.length;
        int total = recordBytes(key.length, valueBytes);
        LONG_LE.set(out, offset + 4, sequence);
        INT_LE.set(out, offset + 12, key.length);
        INT_LE.set(out, offset + 16, valueBytes);
        System.arraycopy(key, 0, out, offset + RECORD_HEADER_BYTES, key.length);
        if (value != null) {
            System.arraycopy(value, 0, out, offset + RECORD_HEADER_BYTES + key.length, value.length);
        }
        INT_LE.set(out, offset, crc(out, offset + 4, total - 4));
        return total;
    }

    /** Copies a record verbatim (merge keeps the sequence and the CRC). */
    static void copyRecord(byte[] from, int fromOffset, int recordBytes, byte[] out, int offset) {
        System.arraycopy(from, fromOffset, out, offset, recordBytes);
    }

    /** Writes a group header at {@code offset} and the metadata right after it; the records must follow. */
    static int encodeGroupHeader(byte[] out, int offset, byte kind, long groupSequence, int recordCount, byte[] metadata,
            int recordsBytes) {
        INT_LE.set(out, offset + 4, GROUP_MAGIC);
        LONG_LE.set(out, offset + 8, groupSequence);
        INT_LE.set(out, offset + 16, recordCount);
        INT_LE.set(out, offset + 20, metadata == null ? NO_METADATA : metadata.length);
        INT_LE.set(out, offset + 24, recordsBytes);
        out[offset + 28] = kind;
        out[offset + 29] = 0;
        out[offset + 30] = 0;
        out[offset + 31] = 0;
        int metadataBytes = metadata == null ? 0 : metadata.length;
        if (metadata != null) {
            System.arraycopy(metadata, 0, out, offset + GROUP_HEADER_BYTES, metadataBytes);
        }
        INT_LE.set(out, offset, groupHeaderCrc(out, offset, metadataBytes));
        return GROUP_HEADER_BYTES + metadataBytes;
    }

    static int groupHeaderCrc(byte[] data, int offset, int metadataBytes) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset + 4, GROUP_HEADER_BYTES - 4);
        crc.update(data, offset + GROUP_HEADER_BYTES, metadataBytes);
        return (int) crc.getValue();
    }

    static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }

    static int readInt(byte[] data, int offset) {
        return (int) INT_LE.get(data, offset);
    }

    static long readLong(byte[] data, int offset) {
        return (long) LONG_LE.get(data, offset);
    }

    static void writeInt(byte[] data, int offset, int value) {
        INT_LE.set(data, offset, value);
    }

    static void writeLong(byte[] data, int offset, long value) {
        LONG_LE.set(data, offset, value);
    }

    /**
     * Checks the record of {@code recordBytes} at {@code offset} (its CRC and its lengths); returns
     * null when it is sound, else what is wrong.
     */
    static String checkRecord(byte[] data, int offset, int recordBytes) {
        if (recordBytes < RECORD_HEADER_BYTES) {
            return "record of " + recordBytes + " bytes is shorter than its " + RECORD_HEADER_BYTES + " byte header";
        }
        int keyBytes = readInt(data, offset + 12);
        int valueBytes = readInt(data, offset + 16);
        if (keyBytes < 0 || valueBytes < TOMBSTONE || (long) RECORD_HEADER_BYTES + keyBytes + Math.max(0, valueBytes) != recordBytes) {
            return "record lengths key=" + keyBytes + " value=" + valueBytes + " do not make its " + recordBytes + " bytes";
        }
        if (crc(data, offset + 4, recordBytes - 4) != readInt(data, offset)) {
            return "record checksum mismatch";
        }
        return null;
    }

    /** The record length declared by the header at {@code offset}, or -1 when its lengths are impossible. */
    static long declaredRecordBytes(byte[] data, int offset) {
        int keyBytes = readInt(data, offset + 12);
        int valueBytes = readInt(data, offset + 16);
        if (keyBytes < 0 || valueBytes < TOMBSTONE) {
            return -1;
        }
        return (long) RECORD_HEADER_BYTES + keyBytes + Math.max(0, valueBytes);
    }

    static long recordSequence(byte[] data, int offset) {
        return readLong(data, offset + 4);
    }

    static int recordKeyBytes(byte[] data, int offset) {
        return readInt(data, offset + 12);
    }

    static int recordValueBytes(byte[] data, int offset) {
        return readInt(data, offset + 16);
    }
}
