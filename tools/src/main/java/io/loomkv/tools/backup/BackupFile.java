package io.loomkv.tools.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A backup file, checked whole when opened: magic and version, the trailer (a file cut short has
 * none), the CRC32C over everything before it, and sections that are in group order and end
 * exactly at the trailer. Anything else is a {@link BackupDamagedException}, before any of its
 * contents is used. The groups' snapshot files inside carry their own checksums, checked again
 * when they are read.
 */
public final class BackupFile {
    private static final int CRC_CHUNK_BYTES = 1 << 20;

    private final Path path;
    private final long lengthBytes;
    private final BackupHeader header;
    private final List<BackupSection> sections;

    private BackupFile(Path path, long lengthBytes, BackupHeader header, List<BackupSection> sections) {
        this.path = path;
        this.lengthBytes = lengthBytes;
        this.header = header;
        this.sections = List.copyOf(sections);
    }

    public static BackupFile open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length < BackupFormat.FIXED_HEADER_BYTES + BackupFormat.TRAILER_BYTES) {
                throw new BackupDamagedException(file, "only " + length + " bytes long");
            }
            ByteBuffer fixed = readAt(channel, 0, BackupFormat.FIXED_HEADER_BYTES);
            if (!Arrays.equals(Arrays.copyOf(fixed.array(), 8), BackupFormat.HEADER_MAGIC)) {
                throw new BackupDamagedException(file, "wrong magic: not a loomkv backup");
            }
            int version = fixed.getInt(8);
            if (version != BackupFormat.VERSION) {
                throw new BackupDamagedException(file, "format version " + version + " is not the supported " + BackupFormat.VERSION);
            }
            long trailerStart = length - BackupFormat.TRAILER_BYTES;
            ByteBuffer trailer = readAt(channel, trailerStart, BackupFormat.TRAILER_BYTES);
            if (!Arrays.equals(Arrays.copyOf(trailer.array(), 8), BackupFormat.TRAILER_MAGIC)) {
                throw new BackupDamagedException(file, "no trailer at its end (cut short, or not a whole backup)");
            }
            int expectedCrc = trailer.getInt(12);
            int actualCrc = crcOf(channel, trailerStart);
            if (actualCrc != expectedCrc) {
                throw new BackupDamagedException(file, "checksum mismatch (trailer says " + Integer.toHexString(expectedCrc)
                        + ", contents have " + Integer.toHexString(actualCrc) + ")");
            }
            int bodyLength = fixed.getInt(12);
            if (bodyLength < 0 || bodyLength > BackupFormat.MAX_HEADER_BODY_BYTES
                    || BackupFormat.FIXED_HEADER_BYTES + (long) bodyLength > trailerStart) {
                throw new BackupDamagedException(file, "header length " + bodyLength + " is out of range");
            }
            BackupHeader header = BackupFormat.parseHeaderBody(
                    readAt(channel, BackupFormat.FIXED_HEADER_BYTES, bodyLength).array(), file);
            List<BackupSection> sections = readSections(channel, file, header,
                    BackupFormat.FIXED_HEADER_BYTES + (long) bodyLength, trailerStart);
            if (trailer.getInt(8) != sections.size()) {
                throw new BackupDamagedException(file, "the trailer counts " + trailer.getInt(8) + " groups, the file has "
                        + sections.size());
            }
            return new BackupFile(file, length, header, sections);
        }
    }

    private static List<BackupSection> readSections(FileChannel channel, Path file, BackupHeader header, long start, long end)
            throws IOException {
        List<BackupSection> sections = new ArrayList<>(header.groupCount());
        long position = start;
        long previousGroup = -1;
        for (int i = 0; i < header.groupCount(); i++) {
            if (position + BackupFormat.SECTION_HEADER_BYTES > end) {
                throw new BackupDamagedException(file, "section " + i + " starts past the end of the groups");
            }
            ByteBuffer section = readAt(channel, position, BackupFormat.SECTION_HEADER_BYTES);
            long group = section.getLong(0);
            long length = section.getLong(24);
            long dataStart = position + BackupFormat.SECTION_HEADER_BYTES;
            if (group <= previousGroup || length < 0 || length > end - dataStart) {
                throw new BackupDamagedException(file, "section " + i + " (group " + group + ", " + length
                        + " bytes) is out of order or out of range");
            }
            sections.add(new BackupSection(group, section.getLong(8), section.getLong(16), dataStart, length));
            previousGroup = group;
            position = dataStart + length;
        }
        if (position != end) {
            throw new BackupDamagedException(file, (end - position) + " bytes between the last group and the trailer");
        }
        return sections;
    }

    public Path path() {
        return path;
    }

    public long lengthBytes() {
        return lengthBytes;
    }

    public BackupHeader header() {
        return header;
    }

    /** In ascending group id; group 0 (the shard controller) first. */
    public List<BackupSection> sections() {
        return sections;
    }

    /** Copies a group's snapshot file out of the backup into {@code target} (created; must not exist). */
    public void extract(BackupSection section, Path target) throws IOException {
        try (FileChannel source = FileChannel.open(path, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long copied = 0;
            while (copied < section.lengthBytes()) {
                long moved = source.transferTo(section.offsetBytes() + copied, section.lengthBytes() - copied, out);
                if (moved <= 0) {
                    throw new BackupDamagedException(path, "group " + section.groupId() + " ends early");
                }
                copied += moved;
            }
            out.force(true);
        }
    }

    private static int crcOf(FileChannel channel, long length) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocateDirect(CRC_CHUNK_BYTES);
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

    private static ByteBuffer readAt(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new IOException("unexpected end of file at " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }
}
