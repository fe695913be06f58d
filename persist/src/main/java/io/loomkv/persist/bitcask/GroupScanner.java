package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a data file from the start, group by group, through a 1 MiB window, checks each group
 * whole and only then hands its records to a sink, so a caller never sees part of a group. Used
 * by recovery and by merge. Where the groups stop being sound it reports the offset and why, and
 * whether the damage looks like a torn write (the file ends inside the group, or a 512-byte sector
 * of it is all zeros: a crash leaves unwritten sectors, not random bytes); only the caller knows
 * whether the file is the one that was being appended, where a torn tail is expected.
 */
final class GroupScanner {
    static final int SECTOR_BYTES = 512;
        /** Largest metadata length a header may declare (the options cap it lower); beyond it the header is garbage. */
    static final int MAX_METADATA_BYTES = 1 << 20;

    /** Receives each sound group: its metadata (when it carries some), then its records. */
    interface Sink {
        void metadata(long groupSequence, byte[] metadata) throws IOException;

        /** The record of {@code recordBytes} at {@code data[offset]}, found at {@code fileOffset} of the file; valid until the call returns. */
        void record(byte[] data, int offset, long fileOffset, int recordBytes) throws IOException;
    }

    /**
     * Where the sound groups end. {@code problem} is null when the whole file is sound; otherwise
     * the bytes from {@code validBytes} on are not, {@code problemOffset} is the first bad byte's
     * group or record, and {@code tornCandidate} says whether a crash mid-write explains it.
     */
    record End(long validBytes, long fileBytes, long problemOffset, String problem, boolean tornCandidate) {
    }

    private final FileWindow window;
    private final long fileBytes;
    private long groupBytes;

    private GroupScanner(FileWindow window) {
        this.window = window;
        this.fileBytes = window.fileBytes();
    }

    static End scan(Path path, Sink sink) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return new GroupScanner(new FileWindow(channel, channel.size())).run(sink);
        }
    }

    private End run(Sink sink) throws IOException {
        long position = 0;
        while (position < fileBytes) {
            End problem = readGroup(position, sink);
            if (problem != null) {
                return problem;
            }
            position += groupBytes;
        }
        return new End(position, fileBytes, -1, null, false);
    }

    /** Checks the group at {@code position}, hands it to the sink and sets {@link #groupBytes}; or returns the problem. */
    private End readGroup(long position, Sink sink) throws IOException {
        int headerBytes = RecordFormat.GROUP_HEADER_BYTES;
        if (window.load(position, headerBytes) < headerBytes) {
            return problem(position, position, "group header cut short by the end of the file", true);
        }
        byte[] data = window.bytes();
        int at = window.indexOf(position);
        int metadataLength = RecordFormat.readInt(data, at + 20);
        int recordsBytes = RecordFormat.readInt(data, at + 24);
        if (metadataLength < RecordFormat.NO_METADATA || metadataLength > MAX_METADATA_BYTES || recordsBytes < 0) {
            return problem(position, position, "impossible group header (metadata " + metadataLength + " bytes, records "
                    + recordsBytes + " bytes)", hasZeroSector(at, at + headerBytes));
        }
        int metadataBytes = Math.max(0, metadataLength);
        if (window.load(position, headerBytes + metadataBytes) < headerBytes + metadataBytes) {
            return problem(position, position, "group metadata cut short by the end of the file", true);
        }
        data = window.bytes();
        at = window.indexOf(position);
        if (RecordFormat.groupHeaderCrc(data, at, metadataBytes) != RecordFormat.readInt(data, at)) {
            return problem(position, position, "group header checksum mismatch",
                    hasZeroSector(at, at + headerBytes + metadataBytes));
        }
        int magic = RecordFormat.readInt(data, at + 4);
        byte kind = data[at + 28];
        long groupSequence = RecordFormat.readLong(data, at + 8);
        int count = RecordFormat.readInt(data, at + 16);
        long total = (long) headerBytes + metadataBytes + recordsBytes;
        if (magic != RecordFormat.GROUP_MAGIC || (kind != RecordFormat.KIND_WRITE && kind != RecordFormat.KIND_MERGED)
                || count < 0 || groupSequence < 0 || total > Integer.MAX_VALUE - 64) {
            return problem(position, position, "group header of an unknown format (magic " + Integer.toHexString(magic) + ", kind "
                    + kind + ", count " + count + ", sequence " + groupSequence + ", " + total + " bytes)", false);
        }
        if (window.load(position, (int) total) < total) {
            return problem(position, position, "group of " + total + " bytes cut short by the end of the file", true);
        }
        data = window.bytes();
        at = window.indexOf(position);
        int recordsStart = at + headerBytes + metadataBytes;
        End bad = checkRecords(data, position, at, recordsStart, (int) total, count, kind == RecordFormat.KIND_WRITE ? groupSequence : -1);
        if (bad != null) {
            return bad;
        }
        if (metadataLength >= 0) {
            sink.metadata(groupSequence, Arrays.copyOfRange(data, at + headerBytes, at + headerBytes + metadataBytes));
        }
        int p = recordsStart;
        for (int i = 0; i < count; i++) {
            int recordBytes = (int) RecordFormat.declaredRecordBytes(data, p);
            sink.record(data, p, window.positionOf(p), recordBytes);
            p += recordBytes;
        }
        groupBytes = total;
        return null;
    }

    /** Checks the group's records; a written group's sequences must follow its own ({@code groupSequence} -1: a merged group). */
    private End checkRecords(byte[] data, long position, int groupAt, int recordsStart, int total, int count, long groupSequence) {
        int end = groupAt + total;
        int p = recordsStart;
        for (int i = 0; i < count; i++) {
            long recordOffset = window.positionOf(p);
            if (end - p < RecordFormat.RECORD_HEADER_BYTES) {
                return problem(position, recordOffset, "record " + i + " of " + count + " does not fit in its group",
                        hasZeroSector(groupAt, end));
            }
            long recordBytes = RecordFormat.declaredRecordBytes(data, p);
            if (recordBytes < 0 || recordBytes > end - p) {
                return problem(position, recordOffset, "record " + i + " of " + count + " declares impossible lengths",
                        hasZeroSector(groupAt, end));
            }
            String wrong = RecordFormat.checkRecord(data, p, (int) recordBytes);
            if (wrong != null) {
                return problem(position, recordOffset, wrong + " (record " + i + " of " + count + ")", hasZeroSector(groupAt, end));
            }
            if (groupSequence >= 0 && RecordFormat.recordSequence(data, p) != groupSequence + 1 + i) {
                return problem(position, recordOffset, "record " + i + " has sequence " + RecordFormat.recordSequence(data, p)
                        + " in the group of sequence " + groupSequence, false);
            }
            p += (int) recordBytes;
        }
        if (p != end) {
            return problem(position, window.positionOf(p), "the group's " + count + " records end " + (end - p) + " bytes before the group does",
                    hasZeroSector(groupAt, end));
        }
        return null;
    }

    private End problem(long groupOffset, long problemOffset, String reason, boolean tornCandidate) {
        return new End(groupOffset, fileBytes, problemOffset, reason, tornCandidate);
    }

    /** True when some 512-byte sector of the file, cut to {@code window[from, to)}, is all zeros. */
    private boolean hasZeroSector(int from, int to) {
        byte[] data = window.bytes();
        long fileFrom = window.positionOf(from);
        long fileTo = window.positionOf(to);
        for (long s = fileFrom - Math.floorMod(fileFrom, SECTOR_BYTES); s < fileTo; s += SECTOR_BYTES) {
            if (allZero(data, window.indexOf(Math.max(s, fileFrom)), window.indexOf(Math.min(s + SECTOR_BYTES, fileTo)))) {
                return true;
            }
        }
        return false;
    }

    static boolean allZero(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

}
