package io.loomkv.persist.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The payload of a segment's first record (little-endian, 32 bytes):
 *
 * <pre>
 *   0  long  magic "LOOMKVWA"
 *   8  int   format version
 *  12  int   number of groups whose state follows (one GROUP_STATE record each)
 *  16  long  sequence, as in the file name
 *  24  long  first record number, as in the file name
 * </pre>
 *
 * Version 1 was the single-group format (its bytes 24..31 held the first entry index and it had
 * no group ids in its records); this build refuses it by name rather than misreading it.
 */
record SegmentHeader(long sequence, long firstRecordNumber, int groupCount) {
    static final long MAGIC = 0x4c4f4f4d4b565741L; // "LOOMKVWA"
    static final int SINGLE_GROUP_VERSION = 1;
    static final int VERSION = 2;
    static final int PAYLOAD_BYTES = 32;
    /** Bytes the header record takes on disk. */
    static final int RECORD_BYTES = WalRecordCodec.recordBytes(PAYLOAD_BYTES);

    SegmentHeader {
        if (groupCount < 0) {
            throw new IllegalArgumentException("group count must be >= 0, got " + groupCount);
        }
    }

    byte[] payload() {
        ByteBuffer buffer = ByteBuffer.allocate(PAYLOAD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(0, MAGIC).putInt(8, VERSION).putInt(12, groupCount).putLong(16, sequence).putLong(24, firstRecordNumber);
        return buffer.array();
    }

    /** Reads and checks a header payload against the segment's file name; throws naming the file when it does not fit. */
    static SegmentHeader read(Path path, SegmentName name, byte[] data, int offset, int length, int recordStart) throws WalCorruptionException {
        if (length != PAYLOAD_BYTES) {
            throw new WalCorruptionException(path, recordStart, "segment header of " + length + " bytes, expected " + PAYLOAD_BYTES);
        }
        ByteBuffer payload = ByteBuffer.wrap(data, offset, length).slice().order(ByteOrder.LITTLE_ENDIAN);
        long magic = payload.getLong(0);
        int version = payload.getInt(8);
        if (magic == MAGIC && version == SINGLE_GROUP_VERSION) {
            throw new WalCorruptionException(path, recordStart, "segment written by the single-group WAL format (version "
                    + SINGLE_GROUP_VERSION + "); this build reads only the multi-group format (version " + VERSION
                    + "): start from an empty data directory, or run the build that wrote it");
        }
        int groupCount = payload.getInt(12);
        long sequence = payload.getLong(16);
        long firstRecordNumber = payload.getLong(24);
        if (magic != MAGIC || version != VERSION || groupCount < 0 || sequence != name.sequence()
                || firstRecordNumber != name.firstRecordNumber()) {
            throw new WalCorruptionException(path, recordStart, "segment header (magic=" + Long.toHexString(magic) + " version=" + version
                    + " groups=" + groupCount + " sequence=" + sequence + " firstRecordNumber=" + firstRecordNumber
                    + ") does not match the file name " + name.fileName() + " or this format (version " + VERSION + ")");
        }
        return new SegmentHeader(sequence, firstRecordNumber, groupCount);
    }
}
