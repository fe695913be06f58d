package io.loomkv.tools.backup;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes a backup ({@link BackupFormat}) to {@code FILE.part}, group after group, and only when
 * every group is in: the trailer, fsync, rename to {@code FILE}, fsync of the folder. A backup
 * that fails half way leaves no {@code FILE} (and {@link #close} removes the part file).
 */
final class BackupWriter implements AutoCloseable {
    private static final int COPY_CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final Path part;
    private final BackupHeader header;
    private final FileChannel channel;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer copyBuffer = ByteBuffer.allocate(COPY_CHUNK_BYTES);
    private long position;
    private int sections;
    private long lastGroupId = -1;
    private boolean finished;

    private BackupWriter(Path file, Path part, BackupHeader header, FileChannel channel) {
        this.file = file;
        this.part = part;
        this.header = header;
        this.channel = channel;
    }

    static BackupWriter create(Path file, BackupHeader header) throws IOException {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        Files.deleteIfExists(part);
        BackupWriter writer = new BackupWriter(file, part, header,
                FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        try {
            writer.write(ByteBuffer.wrap(BackupFormat.header(header)));
        } catch (IOException | RuntimeException e) {
            writer.close();
            throw e;
        }
        return writer;
    }

    /** Appends a group's section: its snapshot file, already verified by the caller. */
    void addSection(long groupId, long appliedIndex, long snapshotTerm, Path snapshotFile) throws IOException {
        if (groupId <= lastGroupId) {
            throw new IllegalArgumentException("group " + groupId + " after group " + lastGroupId + ": sections go in ascending group id");
        }
        if (sections == header.groupCount()) {
            throw new IllegalStateException("the header announced " + header.groupCount() + " groups; group " + groupId + " is one more");
        }
        try (FileChannel source = FileChannel.open(snapshotFile, StandardOpenOption.READ)) {
            long length = source.size();
            write(ByteBuffer.wrap(BackupFormat.sectionHeader(groupId, appliedIndex, snapshotTerm, length)));
            long copied = 0;
            while (copied < length) {
                copyBuffer.clear();
                copyBuffer.limit((int) Math.min(COPY_CHUNK_BYTES, length - copied));
                int read = source.read(copyBuffer, copied);
                if (read < 0) {
                    throw new IOException(snapshotFile + " ended at " + copied + " of its " + length + " bytes");
                }
                copyBuffer.flip();
                write(copyBuffer);
                copied += read;
            }
        }
        sections++;
        lastGroupId = groupId;
    }

    /** Seals the backup: trailer, fsync, rename into place. */
    void finish() throws IOException {
        if (sections != header.groupCount()) {
            throw new IllegalStateException("the header announced " + header.groupCount() + " groups but " + sections + " were written");
        }
        ByteBuffer trailer = ByteBuffer.wrap(BackupFormat.trailer(sections, (int) crc.getValue()));
        while (trailer.hasRemaining()) {
            position += channel.write(trailer, position);
        }
        channel.force(true);
        channel.close();
        DurableFiles.renameDurably(part, file);
        finished = true;
    }

    long bytesWritten() {
        return position;
    }

    private void write(ByteBuffer buffer) throws IOException {
        crc.update(buffer.duplicate());
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
        if (!finished) {
            Files.deleteIfExists(part);
        }
    }
}
