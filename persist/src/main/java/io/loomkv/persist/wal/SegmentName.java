package io.loomkv.persist.wal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A segment file name, {@code %016x-%016x.wal}: the sequence number, then the number of records
 * the whole WAL held before this segment (every group's, header records included). Fixed width,
 * so a plain sort orders them.
 *
 * <p>Why a record number and not a first index, as in the single-group format: indexes are per
 * group now. The record number still ties each segment to the one before it: recovery checks that
 * a segment starts exactly where the previous one's records end, which catches a closed segment
 * that lost records at its end (a sequence check alone would not). The single-group format used
 * the same pattern, so its segments are found and refused by their header's version rather than
 * ignored.
 */
public record SegmentName(long sequence, long firstRecordNumber) implements Comparable<SegmentName> {
    private static final Pattern PATTERN = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.wal");

    public SegmentName {
        if (sequence < 0 || firstRecordNumber < 0) {
            throw new IllegalArgumentException("bad segment name: sequence=" + sequence + " firstRecordNumber=" + firstRecordNumber);
        }
    }

    public String fileName() {
        return String.format(Locale.ROOT, "%016x-%016x.wal", sequence, firstRecordNumber);
    }

    /** The parsed name, or null when {@code fileName} is not a segment name. */
    public static SegmentName parse(String fileName) {
        Matcher matcher = PATTERN.matcher(fileName);
        if (!matcher.matches()) {
            return null;
        }
        long sequence = Long.parseUnsignedLong(matcher.group(1), 16);
        long firstRecordNumber = Long.parseUnsignedLong(matcher.group(2), 16);
        if (sequence < 0 || firstRecordNumber < 0) {
            return null; // Above Long.MAX_VALUE: not a name this WAL writes.
        }
        return new SegmentName(sequence, firstRecordNumber);
    }

    @Override
    public int compareTo(SegmentName other) {
        return Long.compare(sequence, other.sequence);
    }
}
