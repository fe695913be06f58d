package io.loomkv.persist.snap;

import com.google.protobuf.ByteString;
import io.loomkv.compress.ZstdSnapshotOutputStream;
import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.io.DurableFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot files in one directory (model: etcd's {@code snap} package): written as
 * {@code *.tmp}, fsynced, renamed, directory fsynced; Zstd-compressed while streaming, so the
 * state is never held in memory a second time; checksummed; a damaged file is renamed
 * {@code *.broken} and the previous one used; old ones pruned. See {@link SnapshotFormat}.
 */
public final class SnapshotStore {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);
    /** The largest chunk {@link #readChunk} hands out. */
    public static final int MAX_CHUNK_BYTES = 16 << 20;

    private final Path directory;
    private final ZstdStreamCodec codec;
    private final long maxSnapshotBytes;

    /**
     * @param maxSnapshotBytes the largest snapshot file accepted from the network
     */
    public SnapshotStore(Path directory, ZstdStreamCodec codec, long maxSnapshotBytes) throws IOException {
        if (maxSnapshotBytes < 1) {
            throw new IllegalArgumentException("maxSnapshotBytes must be positive, got " + maxSnapshotBytes);
        }
        this.directory = directory;
        this.codec = codec;
        this.maxSnapshotBytes = maxSnapshotBytes;
        Files.createDirectories(directory);
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (file.getFileName().toString().endsWith(".tmp")) {
                    LOG.info("deleting leftover temporary snapshot file {}", file);
                    Files.delete(file);
                }
            }
        }
    }

    public Path directory() {
        return directory;
    }

    Path pathOf(SnapshotFileName name) {
        return directory.resolve(name.fileName());
    }

    private static SnapshotFileName nameOf(SnapshotMetadata metadata) {
        return new SnapshotFileName(metadata.getTerm(), metadata.getIndex());
    }

    /**
     * Writes a snapshot: {@code data} streams the state through Zstd into a temporary file, which
     * is then fsynced and renamed. Returns the metadata with {@code size_bytes} set to the file size.
     */
    public SnapshotMetadata save(SnapshotMetadata metadata, SnapshotDataWriter data) throws IOException {
        SnapshotFileName name = nameOf(metadata);
        Path tmp = directory.resolve(name.fileName() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                BufferedOutputStream file = new BufferedOutputStream(Channels.newOutputStream(channel), 256 * 1024);
                CRC32C crc = new CRC32C();
                CheckedOutputStream checked = new CheckedOutputStream(file, crc);
                checked.write(SnapshotFormat.header(metadata));
                CountingOutputStream body = new CountingOutputStream(checked);
                ZstdSnapshotOutputStream compressed = codec.compressingStream(body);
                data.writeTo(compressed);
                compressed.finish();
                file.write(SnapshotFormat.trailer(body.count, (int) crc.getValue()));
                file.flush();
                channel.force(true);
            }
            Path target = pathOf(name);
            DurableFiles.renameDurably(tmp, target);
            long size = Files.size(target);
            LOG.info("saved snapshot {} ({} bytes)", target, size);
            return metadata.toBuilder().setSizeBytes(size).build();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Snapshot files present, oldest first (names only; not verified). */
    public List<SnapshotFileName> list() throws IOException {
        List<SnapshotFileName> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                SnapshotFileName name = SnapshotFileName.parse(file.getFileName().toString());
                if (name != null) {
                    names.add(name);
                }
            }
        }
        names.sort(SnapshotFileName.ORDER);
        return names;
    }

    /**
     * The newest snapshot that {@code usable} accepts (e.g. one the WAL has a marker for) and that
     * passes verification. Each damaged candidate met on the way is renamed {@code *.broken}.
     */
    public Optional<SnapshotMetadata> selectNewestValid(Predicate<SnapshotFileName> usable) throws IOException {
        List<SnapshotFileName> names = list();
        for (int i = names.size() - 1; i >= 0; i--) {
            SnapshotFileName name = names.get(i);
            if (!usable.test(name)) {
                LOG.info("ignoring snapshot {}: the WAL has no marker for it (a crash before the marker was written)", name.fileName());
                continue;
            }
            Path file = pathOf(name);
            try {
                SnapshotFormat.Layout layout = SnapshotFormat.verify(file);
                if (layout.metadata().getIndex() != name.index() || layout.metadata().getTerm() != name.term()) {
                    throw new SnapshotCorruptionException(file, "header says term " + layout.metadata().getTerm()
                            + " index " + layout.metadata().getIndex());
                }
                return Optional.of(layout.metadata());
            } catch (SnapshotCorruptionException e) {
                Path broken = directory.resolve(name.fileName() + ".broken");
                LOG.warn("{}; renaming it to {} and trying the previous snapshot", e.getMessage(), broken.getFileName());
                DurableFiles.renameDurably(file, broken);
            }
        }
        return Optional.empty();
    }

    /**
     * The decompressed state of a snapshot, streamed. Reading it to the end verifies Zstd's
     * checksum; {@code maxDecompressedBytes} bounds what a damaged or hostile file can expand to.
     */
    public InputStream openData(SnapshotMetadata metadata, long maxDecompressedBytes) throws IOException {
        Path file = pathOf(nameOf(metadata));
        SnapshotFormat.Layout layout = layoutWithoutChecksum(file);
        InputStream body = new BufferedInputStream(SnapshotFormat.openRange(file, layout.bodyOffset(), layout.bodyLength()), 256 * 1024);
        return codec.decompressingStream(body, maxDecompressedBytes);
    }

    private static SnapshotFormat.Layout layoutWithoutChecksum(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length < SnapshotFormat.FIXED_HEADER_BYTES + SnapshotFormat.TRAILER_BYTES) {
                throw new SnapshotCorruptionException(file, "only " + length + " bytes long");
            }
            int metadataLength = SnapshotFormat.readAt(channel, 0, SnapshotFormat.FIXED_HEADER_BYTES).getInt(12);
            long bodyLength = SnapshotFormat.readAt(channel, length - SnapshotFormat.TRAILER_BYTES, 8).getLong(0);
            long bodyOffset = SnapshotFormat.FIXED_HEADER_BYTES + (long) metadataLength;
            if (metadataLength < 0 || bodyOffset + bodyLength + SnapshotFormat.TRAILER_BYTES != length) {
                throw new SnapshotCorruptionException(file, "lengths do not add up");
            }
            return new SnapshotFormat.Layout(null, bodyOffset, bodyLength, length);
        }
    }

    /** Up to {@code maxSizeBytes} raw bytes of the snapshot file from {@code offsetBytes}; empty at the end. */
    public ByteString readChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) throws IOException {
        if (offsetBytes < 0 || maxSizeBytes < 1 || maxSizeBytes > MAX_CHUNK_BYTES) {
            throw new IllegalArgumentException("bad chunk request: offset " + offsetBytes + ", max " + maxSizeBytes + " (limit " + MAX_CHUNK_BYTES + ")");
        }
        try (FileChannel channel = FileChannel.open(pathOf(nameOf(metadata)), StandardOpenOption.READ)) {
            long size = channel.size();
            if (offsetBytes > size) {
                throw new IllegalArgumentException("offset " + offsetBytes + " is beyond the snapshot's " + size + " bytes");
            }
            int length = (int) Math.min(maxSizeBytes, size - offsetBytes);
            ByteBuffer buffer = SnapshotFormat.readAt(channel, offsetBytes, length);
            return ByteString.copyFrom(buffer);
        }
    }

    /** Starts receiving a snapshot from the leader in chunks (the raw bytes of its file). */
    public SnapshotReceiver receive(SnapshotMetadata metadata) throws IOException {
        long limit = metadata.getSizeBytes() > 0 ? Math.min(metadata.getSizeBytes(), maxSnapshotBytes) : maxSnapshotBytes;
        if (metadata.getSizeBytes() > maxSnapshotBytes) {
            throw new IllegalArgumentException("snapshot of " + metadata.getSizeBytes() + " bytes exceeds the limit of " + maxSnapshotBytes);
        }
        SnapshotFileName name = nameOf(metadata);
        return new SnapshotReceiver(metadata, directory.resolve(name.fileName() + ".receiving.tmp"), pathOf(name), limit);
    }

    /** Deletes all but the newest {@code keep} snapshot files; returns how many were deleted. */
    public int prune(int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        List<SnapshotFileName> names = list();
        int deleted = 0;
        for (int i = 0; i < names.size() - keep; i++) {
            Files.delete(pathOf(names.get(i)));
            deleted++;
        }
        if (deleted > 0) {
            DurableFiles.fsyncDirectory(directory);
            LOG.info("pruned {} old snapshot(s) in {}", deleted, directory);
        }
        return deleted;
    }

    /** Counts bytes on their way to the checksummed file stream; never closes it (the Zstd stream's close must not close the file early). */
    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
