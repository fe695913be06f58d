package io.loomkv.persist.snap;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The snapshot file layout (little-endian):
 *
 * <pre>
 *   header:  magic "LKVSNAP1" (8), version (4), metadata length (4), SnapshotMetadata protobuf
 *   body:    one Zstd frame (with Zstd's own content checksum)
 *   trailer: body length (8), CRC32C of header + body (4), version (4), magic "LKVSEND1" (8)
 * </pre>
 *
 * The trailer comes last so the file can be written in one streaming pass, and so a file cut
 * short anywhere fails the check. The metadata's {@code size_bytes} is 0 inside the file; the
 * store reports the file's length there.
 */
final class SnapshotFormat {
    static final long HEADER_MAGIC = magic("LKVSNAP1");
    static final long TRAILER_MAGIC = magic("LKVSEND1");
    static final int VERSION = 1;
    static final int FIXED_HEADER_BYTES = 16;
    static final int TRAILER_BYTES = 24;
    static final int MAX_METADATA_BYTES = 1 << 20;

    /** What a verified file holds. */
    record Layout(SnapshotMetadata metadata, long bodyOffset, long bodyLength, long fileLength) {
    }

    private SnapshotFormat() {
    }

    private static long magic(String eightAsciiChars) {
        return ByteBuffer.wrap(eightAsciiChars.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static byte[] header(SnapshotMetadata metadata) {
        byte[] meta = metadata.toBuilder().setSizeBytes(0).build().toByteArray();
        ByteBuffer buffer = ByteBuffer.allocate(FIXED_HEADER_BYTES + meta.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(HEADER_MAGIC).putInt(VERSION).putInt(meta.length).put(meta);
        return buffer.array();
    }

    static byte[] trailer(long bodyLength, int crc) {
        ByteBuffer buffer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(bodyLength).putInt(crc).putInt(VERSION).putLong(TRAILER_MAGIC);
        return buffer.array();
    }

    /** Checks the whole file (one streaming pass for the checksum) and returns its layout. */
    static Layout verify(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length < FIXED_HEADER_BYTES + TRAILER_BYTES) {
                throw new SnapshotCorruptionException(file, "only " + length + " bytes long");
            }
            ByteBuffer trailer = readAt(channel, length - TRAILER_BYTES, TRAILER_BYTES);
            long bodyLength = trailer.getLong(0);
            int expectedCrc = trailer.getInt(8);
            if (trailer.getLong(16) != TRAILER_MAGIC || trailer.getInt(12) != VERSION) {
                throw new SnapshotCorruptionException(file, "no valid trailer (truncated or not a snapshot)");
            }
            ByteBuffer fixed = readAt(channel, 0, FIXED_HEADER_BYTES);
            int metadataLength = fixed.getInt(12);
            if (fixed.getLong(0) != HEADER_MAGIC || fixed.getInt(8) != VERSION || metadataLength < 0 || metadataLength > MAX_METADATA_BYTES) {
                throw new SnapshotCorruptionException(file, "bad header");
            }
            long bodyOffset = FIXED_HEADER_BYTES + (long) metadataLength;
            if (bodyLength < 0 || bodyOffset + bodyLength + TRAILER_BYTES != length) {
                throw new SnapshotCorruptionException(file, "lengths do not add up: body " + bodyLength + " in a file of " + length);
            }
            int actualCrc = crcOf(channel, length - TRAILER_BYTES);
            if (actualCrc != expectedCrc) {
                throw new SnapshotCorruptionException(file, "checksum mismatch (expected " + Integer.toHexString(expectedCrc)
                        + ", found " + Integer.toHexString(actualCrc) + ")");
            }
            ByteBuffer meta = readAt(channel, FIXED_HEADER_BYTES, metadataLength);
            SnapshotMetadata metadata;
            try {
                metadata = SnapshotMetadata.parseFrom(meta);
            } catch (InvalidProtocolBufferException e) {
                throw new SnapshotCorruptionException(file, "metadata does not parse: " + e.getMessage());
            }
            return new Layout(metadata.toBuilder().setSizeBytes(length).build(), bodyOffset, bodyLength, length);
        }
    }

    private static int crcOf(FileChannel channel, long length) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long position = 0;
        while (position < length) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), length - position));
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new IOException("unexpected end of file at " + position);
            }
            buffer.flip();
            crc.update(buffer);
            position += read;
        }
        return (int) crc.getValue();
    }

    static ByteBuffer readAt(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new IOException("unexpected end of file at " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }

    /** A stream over {@code [offset, offset + length)} of the file. */
    static InputStream openRange(Path file, long offset, long length) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        channel.position(offset);
        InputStream raw = Channels.newInputStream(channel);
        return new InputStream() {
            private long remaining = length;

            @Override
            public int read() throws IOException {
                if (remaining <= 0) {
                    return -1;
                }
                int b = raw.read();
                if (b >= 0) {
                    remaining--;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (remaining <= 0) {
                    return -1;
                }
                int read = raw.read(b, off, (int) Math.min(len, remaining));
                if (read > 0) {
                    remaining -= read;
                }
                return read;
            }

            @Override
            public void close() throws IOException {
                raw.close();
            }
        };
    }
}
