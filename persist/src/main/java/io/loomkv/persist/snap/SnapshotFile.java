package io.loomkv.persist.snap;

import com.google.protobuf.ByteString;
import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One snapshot file outside a {@link SnapshotStore}, verified when opened (checksum, lengths,
 * header): a group's part of a backup. It can be read as the state machine's stream, or copied
 * into a group's store under new metadata (another term and membership around the same
 * compressed state), which is how a restore seeds the groups of a new cluster.
 */
public final class SnapshotFile {
    private static final int COPY_CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final SnapshotFormat.Layout layout;

    private SnapshotFile(Path file, SnapshotFormat.Layout layout) {
        this.file = file;
        this.layout = layout;
    }

    /** @throws SnapshotCorruptionException when the file is not a whole, intact snapshot */
    public static SnapshotFile open(Path file) throws IOException {
        return new SnapshotFile(file, SnapshotFormat.verify(file));
    }

    /** The metadata the file was written with; {@code size_bytes} is the file's length. */
    public SnapshotMetadata metadata() {
        return layout.metadata();
    }

    /** The state machine's stream, decompressed as it is read (Zstd's checksum checked at its end). */
    public InputStream openData(ZstdStreamCodec codec, long maxDecompressedBytes) throws IOException {
        InputStream body = new BufferedInputStream(SnapshotFormat.openRange(file, layout.bodyOffset(), layout.bodyLength()), 256 * 1024);
        return codec.decompressingStream(body, maxDecompressedBytes);
    }

    /**
     * Streams this snapshot's compressed state into {@code receiver} as a file with {@code metadata}
     * in its header (and a checksum of its own); the caller then finishes the receiver.
     */
    public void copyTo(SnapshotReceiver receiver, SnapshotMetadata metadata) throws IOException {
        if (metadata.getIndex() != layout.metadata().getIndex()) {
            throw new IllegalArgumentException("a copy must keep the snapshot's index " + layout.metadata().getIndex()
                    + " (the state inside says so), not " + metadata.getIndex());
        }
        CRC32C crc = new CRC32C();
        byte[] header = SnapshotFormat.header(metadata);
        crc.update(header);
        receiver.append(0, ByteString.copyFrom(header));
        long offset = header.length;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long position = layout.bodyOffset();
            long end = layout.bodyOffset() + layout.bodyLength();
            while (position < end) {
                int length = (int) Math.min(COPY_CHUNK_BYTES, end - position);
                ByteBuffer chunk = SnapshotFormat.readAt(channel, position, length);
                crc.update(chunk.duplicate());
                receiver.append(offset, ByteString.copyFrom(chunk));
                position += length;
                offset += length;
            }
        }
        receiver.append(offset, ByteString.copyFrom(SnapshotFormat.trailer(layout.bodyLength(), (int) crc.getValue())));
    }
}
