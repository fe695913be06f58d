package io.loomkv.core.kv;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.kv.proto.SnapshotRecord;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32C;

/**
 * Reads length-prefixed snapshot records from a caller's stream, refusing records over the size
 * bound and reporting a stream that ends inside a record as truncated.
 */
final class SnapshotRecordReader {

    private static final int MAX_VARINT32_BYTES = 5;

    private final InputStream in;
    private final int maxRecordBytes;
    private final CRC32C crc = new CRC32C();
    private long offsetBytes;
    private long recordOffsetBytes;
    private int crcBeforeLastRecord;

    SnapshotRecordReader(InputStream in, int maxRecordBytes) {
        this.in = in;
        this.maxRecordBytes = maxRecordBytes;
    }

    /** The next record, or null when the stream ends cleanly between records. */
    SnapshotRecord next() throws IOException {
        crcBeforeLastRecord = (int) crc.getValue();
        recordOffsetBytes = offsetBytes;
        int first = in.read();
        if (first < 0) {
            return null;
        }
        int sizeBytes = readLength(first);
        if (sizeBytes > maxRecordBytes) {
            throw new CorruptSnapshotException("snapshot record at offset " + recordOffsetBytes + " claims "
                    + Integer.toUnsignedString(sizeBytes) + " bytes, over the bound " + maxRecordBytes);
        }
        byte[] body = in.readNBytes(sizeBytes);
        if (body.length < sizeBytes) {
            throw new CorruptSnapshotException("snapshot truncated: record at offset " + recordOffsetBytes
                    + " has " + body.length + " of " + sizeBytes + " bytes");
        }
        crc.update(body, 0, body.length);
        offsetBytes += body.length;
        try {
            return SnapshotRecord.parseFrom(body);
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptSnapshotException("snapshot record at offset " + recordOffsetBytes + " does not parse", e);
        }
    }

    /** CRC32C of the bytes before the record returned last. */
    int crcBeforeLastRecord() {
        return crcBeforeLastRecord;
    }

    /** Stream offset of the record returned last. */
    long recordOffsetBytes() {
        return recordOffsetBytes;
    }

    private int readLength(int first) throws IOException {
        int value = 0;
        int current = first;
        for (int i = 0; i < MAX_VARINT32_BYTES; i++) {
            if (current < 0) {
                throw new CorruptSnapshotException("snapshot truncated inside the length of the record at offset "
                        + recordOffsetBytes);
            }
            crc.update(current);
            offsetBytes++;
            value |= (current & 0x7F) << (7 * i);
            if ((current & 0x80) == 0) {
                if (value < 0) {
                    throw new CorruptSnapshotException("snapshot record at offset " + recordOffsetBytes
                            + " has a negative length");
                }
                return value;
            }
            current = in.read();
        }
        throw new CorruptSnapshotException("snapshot record at offset " + recordOffsetBytes + " has a malformed length");
    }
}
