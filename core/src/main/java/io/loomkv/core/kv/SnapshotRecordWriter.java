package io.loomkv.core.kv;

import com.google.protobuf.CodedOutputStream;
import io.loomkv.core.kv.proto.SnapshotRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/** Writes length-prefixed snapshot records to a caller's stream, keeping a running CRC32C. */
final class SnapshotRecordWriter {

    private final OutputStream out;
    private final int maxRecordBytes;
    private final CRC32C crc = new CRC32C();

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
        byte[] buffer = new byte[CodedOutputStream.computeUInt32SizeNoTag(sizeBytes) + sizeBytes];
        CodedOutputStream coded = CodedOutputStream.newInstance(buffer);
        coded.writeUInt32NoTag(sizeBytes);
        record.writeTo(coded);
        coded.checkNoSpaceLeft();
        crc.update(buffer, 0, buffer.length);
        out.write(buffer);
    }

    /** CRC32C of every byte written so far. */
    int crc32c() {
        return (int) crc.getValue();
    }
}
