package io.loomkv.persist.wal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every segment at startup, checks it, and repairs only what a crash can leave behind.
 *
 * <p>Torn versus corrupt: records become durable only through a force() that started after they
 * were written, so a record that did not fully reach the disk was never acknowledged, and nothing
 * after it was either. Such a record can only sit in the last segment (a cut waits until the old
 * segment is durable), and, because segments are preallocated with zeros, a torn record contains
 * a 512-byte sector whose part inside the record is still all zeros (the approach of etcd's
 * {@code isTornEntry}). Any other checksum failure is damage: recovery stops and names the file
 * and offset. The header carries its own CRC, so a bit flip in a length field is damage too.
 */
final class WalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(WalRecovery.class);
    static final int SECTOR_BYTES = 512;
    static final int MIN_SEGMENT_BYTES = 64 * 1024;
    static final long SEGMENT_MAGIC = 0x4c4f4f4d4b565741L; // "LOOMKVWA"
    static final int SEGMENT_VERSION = 1;
    static final int SEGMENT_HEADER_BYTES = 32;

    /** Where the writer continues. {@code headerPresent} is false for a last segment that a crash left all zeros during a cut. */
    record Tail(List<SegmentState> segments, long writePositionBytes, boolean headerPresent) {
    }

    record Result(WalContents contents, Tail tail) {
    }

    private final Path directory;
    private final long keepEntriesAboveIndex;
    private final List<WalReplayItem> items = new ArrayList<>();
    private final List<SnapshotMarker> markers = new ArrayList<>();
    private HardState hardState = HardState.getDefaultInstance();
    private long lastIndex;

    private WalRecovery(Path directory, long keepEntriesAboveIndex) {
        this.directory = directory;
        this.keepEntriesAboveIndex = keepEntriesAboveIndex;
    }

    static Result recover(Path directory, long keepEntriesAboveIndex) throws IOException {
        return new WalRecovery(directory, keepEntriesAboveIndex).run();
    }

    static List<SegmentName> listSegments(Path directory) throws IOException {
        List<SegmentName> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                SegmentName name = SegmentName.parse(file.getFileName().toString());
                if (name != null) {
                    names.add(name);
                }
            }
        }
        names.sort(null);
        return names;
    }

    private Result run() throws IOException {
        Files.createDirectories(directory);
        deleteLeftoverTmpFiles();
        List<SegmentName> names = listSegments(directory);
        if (names.isEmpty()) {
            return new Result(new WalContents(items, hardState, markers, 0), new Tail(new ArrayList<>(), 0, false));
        }
        for (int i = 1; i < names.size(); i++) {
            if (names.get(i).sequence() != names.get(i - 1).sequence() + 1) {
                throw new WalCorruptionException(directory.resolve(names.get(i).fileName()), 0,
                        "segment sequence jumps from " + names.get(i - 1).sequence() + " to " + names.get(i).sequence()
                                + ": a segment is missing");
            }
        }
        lastIndex = names.get(0).firstIndex() - 1;
        List<SegmentState> segments = new ArrayList<>();
        long writePosition = 0;
        boolean headerPresent = true;
        for (int i = 0; i < names.size(); i++) {
            SegmentName name = names.get(i);
            Path path = directory.resolve(name.fileName());
            if (name.firstIndex() != lastIndex + 1) {
                throw new WalCorruptionException(path, 0, "segment starts at index " + name.firstIndex()
                        + " but the log before it ends at " + lastIndex + ": entries are missing");
            }
            SegmentState state = new SegmentState(name, path, lastIndex);
            boolean last = i == names.size() - 1;
            long end = readSegment(state, last);
            segments.add(state);
            if (last) {
                writePosition = end;
                headerPresent = end > 0;
            }
        }
        return new Result(new WalContents(items, hardState, markers, lastIndex), new Tail(segments, writePosition, headerPresent));
    }

    private void deleteLeftoverTmpFiles() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (file.getFileName().toString().endsWith(".tmp")) {
                    LOG.info("deleting leftover temporary file {}", file);
                    Files.delete(file);
                }
            }
        }
    }

    /** Reads one segment; returns the offset where its data ends. */
    private long readSegment(SegmentState segment, boolean last) throws IOException {
        Path path = segment.path;
        byte[] data = Files.readAllBytes(path);
        if (data.length == 0) {
            throw new WalCorruptionException(path, 0, "segment file is empty (segments are preallocated, so this is damage)");
        }
        if (data.length < MIN_SEGMENT_BYTES || data.length % WalRecordCodec.ALIGNMENT_BYTES != 0) {
            throw new WalCorruptionException(path, data.length, "segment file of " + data.length
                    + " bytes cannot be a preallocated segment (at least " + MIN_SEGMENT_BYTES + ", a multiple of 8): it was cut short");
        }
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int position = 0;
        while (position + WalRecordCodec.HEADER_BYTES <= data.length) {
            if (allZero(data, position, position + WalRecordCodec.HEADER_BYTES)) {
                break;
            }
            int length = buffer.getInt(position);
            int typeCode = buffer.get(position + 4);
            if (WalRecordCodec.headerCrc(buffer, position) != buffer.getInt(position + 12)) {
                return tornOrCorrupt(segment, last, data, position, position, position + WalRecordCodec.HEADER_BYTES, "bad header checksum");
            }
            WalRecordType type = WalRecordType.fromCode(typeCode);
            if (type == null || length < 0 || length > WalRecordCodec.MAX_PAYLOAD_BYTES
                    || (long) position + WalRecordCodec.recordBytes(length) > data.length) {
                throw new WalCorruptionException(path, position, "impossible record header: type=" + typeCode + " length=" + length);
            }
            int payloadStart = position + WalRecordCodec.HEADER_BYTES;
            if (WalRecordCodec.payloadCrc(data, payloadStart, length) != buffer.getInt(position + 8)) {
                return tornOrCorrupt(segment, last, data, position, payloadStart, payloadStart + length, "bad payload checksum");
            }
            if ((position == 0) != (type == WalRecordType.SEGMENT_HEADER)) {
                throw new WalCorruptionException(path, position, "segment header expected exactly at offset 0, found " + type);
            }
            apply(segment, type, data, payloadStart, length, position);
            position += WalRecordCodec.recordBytes(length);
        }
        if (position == 0 && !last) {
            throw new WalCorruptionException(path, 0, "segment has no header; only the last segment may be blank (a crash during a cut)");
        }
        if (!allZero(data, position, data.length)) {
            if (!last) {
                throw new WalCorruptionException(path, position, "data follows the end of the records in a closed segment");
            }
            LOG.warn("WAL {}: discarding {} bytes of unacknowledged data after the last complete record at offset {}",
                    path, data.length - position, position);
            zeroTail(path, position, data.length);
        }
        return position;
    }

    private long tornOrCorrupt(SegmentState segment, boolean last, byte[] data, int recordStart, int checkFrom, int checkTo, String reason)
            throws IOException {
        int end = Math.min(checkTo, data.length);
        if (!last || !hasZeroSector(data, checkFrom, end)) {
            throw new WalCorruptionException(segment.path, recordStart, reason);
        }
        LOG.warn("WAL {}: torn record at offset {} ({}); truncating the {} bytes after it (they were never acknowledged)",
                segment.path, recordStart, reason, data.length - recordStart);
        zeroTail(segment.path, recordStart, data.length);
        return recordStart;
    }

    private static void zeroTail(Path path, long from, long to) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            DurableFiles.writeZeros(channel, from, to);
            channel.force(false);
        }
    }

    private void apply(SegmentState segment, WalRecordType type, byte[] data, int offset, int length, int recordStart) throws IOException {
        try {
            switch (type) {
                case SEGMENT_HEADER -> checkSegmentHeader(segment, ByteBuffer.wrap(data, offset, length).order(ByteOrder.LITTLE_ENDIAN), length, recordStart);
                case ENTRY -> applyEntry(segment, Entry.parser().parseFrom(data, offset, length), recordStart);
                case HARD_STATE -> hardState = HardState.parser().parseFrom(data, offset, length);
                case SNAPSHOT_COMPACT, SNAPSHOT_RESET -> {
                    SnapshotMarker marker = new SnapshotMarker(SnapshotMetadata.parser().parseFrom(data, offset, length),
                            type == WalRecordType.SNAPSHOT_RESET);
                    markers.add(marker);
                    items.add(marker);
                    if (marker.resetLog()) {
                        lastIndex = marker.index();
                    }
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw new WalCorruptionException(segment.path, recordStart, "checksum is valid but the " + type + " payload does not parse: " + e.getMessage());
        }
    }

    private void checkSegmentHeader(SegmentState segment, ByteBuffer payload, int length, int recordStart) throws IOException {
        if (length != SEGMENT_HEADER_BYTES) {
            throw new WalCorruptionException(segment.path, recordStart, "segment header of " + length + " bytes, expected " + SEGMENT_HEADER_BYTES);
        }
        int base = payload.position();
        long magic = payload.getLong(base);
        int version = payload.getInt(base + 8);
        long sequence = payload.getLong(base + 16);
        long firstIndex = payload.getLong(base + 24);
        if (magic != SEGMENT_MAGIC || version != SEGMENT_VERSION || sequence != segment.name.sequence() || firstIndex != segment.name.firstIndex()) {
            throw new WalCorruptionException(segment.path, recordStart, "segment header (magic=" + Long.toHexString(magic) + " version=" + version
                    + " sequence=" + sequence + " firstIndex=" + firstIndex + ") does not match the file name");
        }
    }

    /** The payload of a segment header record: magic, version, padding, sequence, first index. */
    static byte[] segmentHeaderPayload(SegmentName name) {
        ByteBuffer buffer = ByteBuffer.allocate(SEGMENT_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(0, SEGMENT_MAGIC).putInt(8, SEGMENT_VERSION).putLong(16, name.sequence()).putLong(24, name.firstIndex());
        return buffer.array();
    }

    private void applyEntry(SegmentState segment, Entry entry, int recordStart) throws IOException {
        long index = entry.getIndex();
        if (index < 1 || index > lastIndex + 1) {
            throw new WalCorruptionException(segment.path, recordStart, "entry index " + index + " does not follow the last index " + lastIndex);
        }
        lastIndex = index;
        segment.maxEntryIndex = Math.max(segment.maxEntryIndex, index);
        if (index > keepEntriesAboveIndex) {
            items.add(new EntryItem(entry));
        }
    }

    static boolean allZero(byte[] data, int from, int to) {
        for (int i = from; i < to; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** True when some 512-byte sector's intersection with {@code [from, to)} is all zeros. */
    static boolean hasZeroSector(byte[] data, int from, int to) {
        int sectorStart = from - from % SECTOR_BYTES;
        for (int s = sectorStart; s < to; s += SECTOR_BYTES) {
            if (allZero(data, Math.max(s, from), Math.min(s + SECTOR_BYTES, to))) {
                return true;
            }
        }
        return to <= from;
    }
}
