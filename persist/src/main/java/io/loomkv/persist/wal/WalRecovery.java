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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every segment at startup, rebuilds each group's log, checks it, and repairs only what a
 * crash can leave behind.
 *
 * <p>Torn versus corrupt: records become durable only through a force() that started after they
 * were written, so a record that did not fully reach the disk was never acknowledged, and nothing
 * after it was either. Such a record can only sit in the last segment (a cut waits until the old
 * segment is durable), and, because segments are preallocated with zeros, a torn record contains
 * a 512-byte sector whose part inside the record is still all zeros (the approach of etcd's
 * {@code isTornEntry}). Any other checksum failure is damage: recovery stops and names the file
 * and offset. The header carries its own CRC, so a bit flip in a length field is damage too.
 *
 * <p>Two more things only a crash leaves, and only at the end of the last segment: a segment
 * header cut short (the crash came during a cut: the segment is treated as blank and its header
 * written again from the state recovered before it), and a rewrite without its end record (its
 * records are dropped: the rewrite was never acknowledged). Anywhere else both are damage.
 *
 * <p>Per group, every entry must follow the group's last index or replace one within its log; a
 * segment header must name exactly the groups alive at its cut, each with the last index its
 * records reached; a segment must start at the record number where the previous one ended.
 */
final class WalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(WalRecovery.class);
    static final int SECTOR_BYTES = 512;
    static final int MIN_SEGMENT_BYTES = 64 * 1024;

    /**
     * Where the writer continues. {@code headerPresent} is false for a last segment that a crash
     * left without a complete header during a cut; {@code recordCount} counts every record before
     * the write position, in all segments since the first one's name.
     */
    record Tail(List<SegmentState> segments, long writePositionBytes, boolean headerPresent, long recordCount) {
    }

    /** The rebuilt contents, where the writer continues, and the live groups' bookkeeping (in order of appearance). */
    record Result(WalContents contents, Tail tail, List<WalGroup> liveGroups) {
    }

    private final Path directory;
    private final LongUnaryOperator keepEntriesAboveIndexByGroup;
    private final Map<Long, GroupReplay> live = new LinkedHashMap<>();
    private final Set<Long> dropped = new HashSet<>();
    private long recordNumber;

    // The segment being read.
    private SegmentState segment;
    private boolean firstSegment;
    private int headerGroupsLeft; // GROUP_STATE records still expected in the header
    private WalGroup headerGroup; // the group of the header's last GROUP_STATE (its markers follow it)
    private GroupReplay rewriting; // the group whose rewrite is staged, if any
    private int rewriteStartOffset;
    private long rewriteStartRecordNumber;

    private WalRecovery(Path directory, LongUnaryOperator keepEntriesAboveIndexByGroup) {
        this.directory = directory;
        this.keepEntriesAboveIndexByGroup = keepEntriesAboveIndexByGroup;
    }

    static Result recover(Path directory, LongUnaryOperator keepEntriesAboveIndexByGroup) throws IOException {
        return new WalRecovery(directory, keepEntriesAboveIndexByGroup).run();
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
        List<SegmentName> names = listSegments(directory);
        for (int i = 1; i < names.size(); i++) {
            if (names.get(i).sequence() != names.get(i - 1).sequence() + 1) {
                throw new WalCorruptionException(directory.resolve(names.get(i).fileName()), 0,
                        "segment sequence jumps from " + names.get(i - 1).sequence() + " to " + names.get(i).sequence()
                                + ": a segment is missing");
            }
        }
        List<SegmentState> segments = new ArrayList<>();
        long writePosition = 0;
        boolean headerPresent = false;
        recordNumber = names.isEmpty() ? 0 : names.get(0).firstRecordNumber();
        for (int i = 0; i < names.size(); i++) {
            SegmentName name = names.get(i);
            Path path = directory.resolve(name.fileName());
            if (name.firstRecordNumber() != recordNumber) {
                throw new WalCorruptionException(path, 0, "segment starts at record " + name.firstRecordNumber()
                        + " but the segments before it hold records up to " + (recordNumber - 1) + ": records are missing");
            }
            segment = new SegmentState(name, path);
            firstSegment = i == 0;
            boolean last = i == names.size() - 1;
            long end = readSegment(last);
            segments.add(segment);
            if (last) {
                writePosition = end;
                headerPresent = end > 0;
            } else {
                segment.close();
            }
        }
        deleteLeftoverTmpFiles();
        Map<Long, GroupContents> contents = new HashMap<>();
        List<WalGroup> liveGroups = new ArrayList<>();
        for (GroupReplay replay : live.values()) {
            replay.publishToGroup();
            contents.put(replay.group.id, replay.contents());
            liveGroups.add(replay.group);
        }
        return new Result(new WalContents(contents, dropped), new Tail(segments, writePosition, headerPresent, recordNumber), liveGroups);
    }

    /** Deleted only after the segments were read: a WAL refused at startup is left exactly as it was. */
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

    /** Reads the current segment; returns the offset where its data ends (where the writer goes on, for the last). */
    private long readSegment(boolean last) throws IOException {
        Path path = segment.path;
        byte[] data = Files.readAllBytes(path);
        if (data.length == 0) {
            throw new WalCorruptionException(path, 0, "segment file is empty (segments are preallocated, so this is damage)");
        }
        if (data.length < MIN_SEGMENT_BYTES || data.length % WalRecordCodec.ALIGNMENT_BYTES != 0) {
            throw new WalCorruptionException(path, data.length, "segment file of " + data.length
                    + " bytes cannot be a preallocated segment (at least " + MIN_SEGMENT_BYTES + ", a multiple of 8): it was cut short");
        }
        headerGroupsLeft = 0;
        headerGroup = null;
        long recordNumberAtStart = recordNumber;
        int position = readRecords(data, last);
        if (rewriting != null) {
            if (!last) {
                throw new WalCorruptionException(path, rewriteStartOffset, "rewrite of group " + rewriting.group.id
                        + " has no end record, and later segments follow");
            }
            LOG.warn("WAL {}: dropping the rewrite of group {} cut short at offset {} (never acknowledged)", path, rewriting.group.id,
                    rewriteStartOffset);
            rewriting.abandonRewrite();
            rewriting = null;
            position = rewriteStartOffset;
            recordNumber = rewriteStartRecordNumber;
        }
        if (position > 0 && headerGroupsLeft > 0) {
            if (!last || firstSegment) {
                throw new WalCorruptionException(path, position, "segment header names " + headerGroupsLeft
                        + " more groups than it holds" + (last ? ", and no older segment holds their state" : ""));
            }
            // The crash came during a cut: nothing after the header was written, and every group it
            // names was checked against the older segments. Start the segment over.
            LOG.info("WAL {}: segment header cut short at offset {} (a crash during a cut); it is written again", path, position);
            position = 0;
            recordNumber = recordNumberAtStart;
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

    /** Reads records until the zeros after the last one (or a torn record in the last segment); returns where they end. */
    private int readRecords(byte[] data, boolean last) throws IOException {
        Path path = segment.path;
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int position = 0;
        while (position + WalRecordCodec.HEADER_BYTES <= data.length) {
            if (allZero(data, position, position + WalRecordCodec.HEADER_BYTES)) {
                break;
            }
            int length = buffer.getInt(position);
            int typeCode = buffer.get(position + 4);
            if (WalRecordCodec.headerCrc(buffer, position) != buffer.getInt(position + 12)) {
                return tornOrCorrupt(last, data, position, position, position + WalRecordCodec.HEADER_BYTES, "bad header checksum");
            }
            WalRecordType type = WalRecordType.fromCode(typeCode);
            if (type == null || length < 0 || length > WalRecordCodec.MAX_PAYLOAD_BYTES
                    || (long) position + WalRecordCodec.recordBytes(length) > data.length) {
                throw new WalCorruptionException(path, position, "impossible record header: type=" + typeCode + " length=" + length);
            }
            int payloadStart = position + WalRecordCodec.HEADER_BYTES;
            if (WalRecordCodec.payloadCrc(data, payloadStart, length) != buffer.getInt(position + 8)) {
                return tornOrCorrupt(last, data, position, payloadStart, payloadStart + length, "bad payload checksum");
            }
            if ((position == 0) != (type == WalRecordType.SEGMENT_HEADER)) {
                throw new WalCorruptionException(path, position, "segment header expected exactly at offset 0, found " + type);
            }
            String problem = type == WalRecordType.SEGMENT_HEADER
                    ? applySegmentHeader(SegmentHeader.read(path, segment.name, data, payloadStart, length, position))
                    : applyGroupRecord(type, data, payloadStart, length, position);
            if (problem != null) {
                throw new WalCorruptionException(path, position, problem);
            }
            position += WalRecordCodec.recordBytes(length);
            recordNumber++;
        }
        return position;
    }

    private int tornOrCorrupt(boolean last, byte[] data, int recordStart, int checkFrom, int checkTo, String reason) throws IOException {
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

    private String applySegmentHeader(SegmentHeader header) {
        headerGroupsLeft = header.groupCount();
        return headerGroupsLeft == 0 ? checkHeaderNamedEveryGroup() : null;
    }

    /** Once a header's groups are read: outside the first segment, they must be exactly the groups alive at the cut. */
    private String checkHeaderNamedEveryGroup() {
        if (firstSegment) {
            return null;
        }
        for (GroupReplay replay : live.values()) {
            if (replay.namedInHeaderOf != segment.sequence()) {
                return "the segment header does not name group " + replay.group.id + ", which was alive when the segment was cut";
            }
        }
        return null;
    }

    private String applyGroupRecord(WalRecordType type, byte[] data, int payloadStart, int length, int recordStart) throws IOException {
        int fixedBytes = WalRecordCodec.GROUP_ID_BYTES + 8 * type.fixedLongs();
        if (length < fixedBytes) {
            return type + " record of " + length + " bytes is shorter than its " + fixedBytes + " fixed bytes";
        }
        long groupId = WalRecordCodec.groupId(data, payloadStart);
        if (groupId < 0) {
            return type + " record names group " + groupId;
        }
        if (headerGroupsLeft > 0 && type != WalRecordType.GROUP_STATE
                && !((type == WalRecordType.SNAPSHOT_COMPACT || type == WalRecordType.SNAPSHOT_CHECKPOINT)
                        && headerGroup != null && headerGroup.id == groupId)) {
            return "segment header names " + headerGroupsLeft + " more groups, but a " + type + " record of group " + groupId + " follows";
        }
        if (rewriting != null && (rewriting.group.id != groupId
                || (type != WalRecordType.REWRITTEN_ENTRY && type != WalRecordType.REWRITE_END))) {
            return "rewrite of group " + rewriting.group.id + " is interrupted by a " + type + " record of group " + groupId;
        }
        int messageStart = payloadStart + fixedBytes;
        int messageLength = length - fixedBytes;
        try {
            return switch (type) {
                case SEGMENT_HEADER -> throw new IllegalStateException("segment headers are read apart");
                case GROUP_STATE -> applyGroupState(groupId, WalRecordCodec.fixedLong(data, payloadStart, 0),
                        HardState.parser().parseFrom(data, messageStart, messageLength));
                case ENTRY -> applyEntry(replay(groupId), Entry.parser().parseFrom(data, messageStart, messageLength));
                case HARD_STATE -> {
                    replay(groupId).hardState(HardState.parser().parseFrom(data, messageStart, messageLength));
                    yield null;
                }
                case SNAPSHOT_COMPACT, SNAPSHOT_RESET, SNAPSHOT_CHECKPOINT -> applyMarker(replay(groupId), new SnapshotMarker(
                        SnapshotMetadata.parser().parseFrom(data, messageStart, messageLength), type == WalRecordType.SNAPSHOT_RESET,
                        type == WalRecordType.SNAPSHOT_CHECKPOINT));
                case GROUP_DROPPED -> applyDrop(groupId, messageLength);
                case REWRITTEN_ENTRY -> applyRewritten(groupId, Entry.parser().parseFrom(data, messageStart, messageLength), recordStart);
                case REWRITE_END -> applyRewriteEnd(groupId, WalRecordCodec.fixedLong(data, payloadStart, 0),
                        WalRecordCodec.fixedLong(data, payloadStart, 1), HardState.parser().parseFrom(data, messageStart, messageLength));
            };
        } catch (InvalidProtocolBufferException e) {
            return "checksum is valid but the " + type + " payload does not parse: " + e.getMessage();
        } catch (IllegalArgumentException e) {
            return type + " record of group " + groupId + " is invalid: " + e.getMessage();
        }
    }

    /** The group's replay, created on its first record (a group comes into being with its first record). */
    private GroupReplay replay(long groupId) {
        GroupReplay replay = live.get(groupId);
        if (replay == null) {
            replay = new GroupReplay(new WalGroup(groupId), keepEntriesAboveIndexByGroup.applyAsLong(groupId), 0);
            live.put(groupId, replay);
            dropped.remove(groupId);
        }
        return replay;
    }

    private String applyGroupState(long groupId, long lastIndex, HardState hardState) {
        if (headerGroupsLeft == 0) {
            return "GROUP_STATE record of group " + groupId + " outside a segment header";
        }
        GroupReplay replay = live.get(groupId);
        if (replay == null) {
            if (!firstSegment) {
                return "the segment header names group " + groupId + ", which no older record mentions";
            }
            if (lastIndex < 0) {
                return "the segment header says group " + groupId + " ends at index " + lastIndex;
            }
            // The group's older records are in segments deleted once a snapshot covered them.
            replay = new GroupReplay(new WalGroup(groupId), keepEntriesAboveIndexByGroup.applyAsLong(groupId), lastIndex);
            live.put(groupId, replay);
            replay.hardState(hardState);
        } else {
            if (replay.namedInHeaderOf == segment.sequence()) {
                return "the segment header names group " + groupId + " twice";
            }
            String problem = replay.checkHeaderState(lastIndex, hardState);
            if (problem != null) {
                return problem;
            }
        }
        replay.namedInHeaderOf = segment.sequence();
        headerGroup = replay.group;
        headerGroupsLeft--;
        return headerGroupsLeft == 0 ? checkHeaderNamedEveryGroup() : null;
    }

    private String applyEntry(GroupReplay replay, Entry entry) {
        String problem = replay.appendEntry(entry);
        if (problem == null) {
            segment.noteEntries(replay.group);
            replay.group.lastIndexWritten = replay.lastIndex();
        }
        return problem;
    }

    private String applyMarker(GroupReplay replay, SnapshotMarker marker) {
        replay.marker(marker);
        if (marker.resetLog()) {
            segment.noteEntries(replay.group);
            replay.group.lastIndexWritten = replay.lastIndex();
        }
        return null;
    }

    private String applyDrop(long groupId, int messageLength) {
        GroupReplay replay = live.remove(groupId);
        if (replay == null || messageLength != 0) {
            return "drop record of group " + groupId + (replay == null ? ", which no older record mentions" : " carries " + messageLength + " bytes");
        }
        replay.group.dropped = true;
        dropped.add(groupId);
        return null;
    }

    private String applyRewritten(long groupId, Entry entry, int recordStart) {
        GroupReplay replay = live.get(groupId);
        if (replay == null) {
            return "rewritten entry of group " + groupId + ", which no older record mentions";
        }
        if (rewriting == null) {
            rewriting = replay;
            rewriteStartOffset = recordStart;
            rewriteStartRecordNumber = recordNumber;
        }
        return replay.stageRewritten(entry);
    }

    private String applyRewriteEnd(long groupId, long startIndex, long lastIndex, HardState hardState) {
        GroupReplay replay = live.get(groupId);
        if (replay == null) {
            return "rewrite end of group " + groupId + ", which no older record mentions";
        }
        String problem = replay.endRewrite(startIndex, lastIndex, hardState);
        if (problem == null) {
            rewriting = null;
            // Every older segment's records of the group are superseded; this segment holds its log now.
            replay.group.rewrittenInSegment = segment.sequence();
            segment.noteEntries(replay.group);
            replay.group.lastIndexWritten = replay.lastIndex();
        }
        return problem;
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
