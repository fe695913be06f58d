package io.loomkv.tools.backup;

import io.loomkv.core.shard.proto.Layout;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The backup file's layout (big-endian; docs/backup.md):
 *
 * <pre>
 *   header:  magic "LKVBKUP1" (8), format version (4), header body length (4), header body:
 *            cluster id (2 + UTF-8), created-at millis (8), layout (4 + protobuf Layout),
 *            controller store count (4) and ids (8 each), group count (4)
 *   per group, in ascending group id: group id (8), applied index (8), snapshot term (8),
 *            length (8), the group's snapshot file (length bytes; it has its own checksum)
 *   trailer: magic "LKVBEND1" (8), group count (4), CRC32C of every byte before the trailer (4)
 * </pre>
 *
 * The trailer comes last so a file cut short anywhere fails the check; the sections must end
 * exactly where the trailer starts.
 */
final class BackupFormat {
    static final byte[] HEADER_MAGIC = "LKVBKUP1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] TRAILER_MAGIC = "LKVBEND1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int FIXED_HEADER_BYTES = 16;
    static final int SECTION_HEADER_BYTES = 32;
    static final int TRAILER_BYTES = 16;
    static final int MAX_HEADER_BODY_BYTES = 16 << 20;
    /** Every data group (at most one per slot) and group 0. */
    static final int MAX_GROUPS = 16_385;
    static final int MAX_CONTROLLER_STORES = 1_024;

    private BackupFormat() {
    }

    static byte[] header(BackupHeader header) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(body)) {
            out.writeUTF(header.clusterId());
            out.writeLong(header.createdAtMillis());
            byte[] layout = header.layout().toByteArray();
            out.writeInt(layout.length);
            out.write(layout);
            out.writeInt(header.controllerStores().size());
            for (long store : header.controllerStores()) {
                out.writeLong(store);
            }
            out.writeInt(header.groupCount());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // Not from a byte array.
        }
        byte[] bodyBytes = body.toByteArray();
        return ByteBuffer.allocate(FIXED_HEADER_BYTES + bodyBytes.length).put(HEADER_MAGIC).putInt(VERSION)
                .putInt(bodyBytes.length).put(bodyBytes).array();
    }

    /** Parses a header body (after the fixed part); {@code what} names the file in errors. */
    static BackupHeader parseHeaderBody(byte[] body, java.nio.file.Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body))) {
            String clusterId = in.readUTF();
            long createdAt = in.readLong();
            int layoutLength = in.readInt();
            if (layoutLength < 0 || layoutLength > body.length) {
                throw new BackupDamagedException(file, "layout length " + layoutLength + " is out of range");
            }
            Layout layout = Layout.parseFrom(in.readNBytes(layoutLength));
            int storeCount = in.readInt();
            if (storeCount < 0 || storeCount > MAX_CONTROLLER_STORES) {
                throw new BackupDamagedException(file, "controller store count " + storeCount + " is out of range");
            }
            List<Long> stores = new ArrayList<>(storeCount);
            for (int i = 0; i < storeCount; i++) {
                stores.add(in.readLong());
            }
            int groupCount = in.readInt();
            if (in.available() != 0) {
                throw new BackupDamagedException(file, in.available() + " unexpected bytes after the header");
            }
            return new BackupHeader(clusterId, createdAt, layout, stores, groupCount);
        } catch (java.io.EOFException | com.google.protobuf.InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new BackupDamagedException(file, "the header does not parse: " + e.getMessage());
        }
    }

    static byte[] sectionHeader(long groupId, long appliedIndex, long snapshotTerm, long lengthBytes) {
        return ByteBuffer.allocate(SECTION_HEADER_BYTES).putLong(groupId).putLong(appliedIndex).putLong(snapshotTerm)
                .putLong(lengthBytes).array();
    }

    static byte[] trailer(int groupCount, int crc) {
        return ByteBuffer.allocate(TRAILER_BYTES).put(TRAILER_MAGIC).putInt(groupCount).putInt(crc).array();
    }
}
