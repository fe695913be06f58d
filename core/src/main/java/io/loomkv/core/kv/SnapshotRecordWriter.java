package io.loomkv.core.kv;

import com.google.protobuf.CodedOutputStream;
import io.loomkv.core.kv.proto.SnapshotRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * Writes length-prefixed snapshot records to a caller's stream, keeping a running CRC32C. Each
 * record is encoded into one array kept for the next (it only grows, to the largest record
 * written): a new array per record was a tenth of a store's allocation under 4 KB writes, where a
 * snapshot of the whole state is written about once a second.
 */
final class SnapshotRecordWriter {

    private final OutputStream out;
    private final int maxRecordBytes;
    private final CRC32C crc = new CRC32C();
    private byte[] buffer = new byte[0];

    SnapshotRecordWriter(OutputStream out, int maxRecordBytes) {
        this.out = out;
        this.maxRecordBytes = maxRecordBytes;
    }

    void write(SnapshotRecord record) throws IOException {
        int sizeBytes = record.getSerializedSize();
        if (sizeBytes > maxRecordBytes) {
            throw new IllegalStateException("snapshot record of " + sizeBytes + " bytes exceeds the bound "
                    + maxRecordBytes + " (" + record.getRecordCase() + ")");
        }
        int totalBytes = CodedOutputStream.computeUInt32SizeNoTag(sizeBytes) + sizeBytes;
        if (buffer.length < totalBytes) {
            buffer = new byte[totalBytes];
        }
        CodedOutputStream coded = CodedOutputStream.newInstance(buffer, 0, totalBytes);
        coded.writeUInt32NoTag(sizeBytes);
        record.writeTo(coded);
        coded.checkNoSpaceLeft();
        crc.update(buffer, 0, totalBytes);
        out.write(buffer, 0, totalBytes);
    }

    /** CRC32C of every byte written so far. */
    int crc32c() {
        return (int) crc.getValue();
    }
}
