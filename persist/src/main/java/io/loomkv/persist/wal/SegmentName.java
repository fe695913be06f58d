package io.loomkv.persist.wal;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A segment file name, {@code %016x-%016x.wal}: sequence number, then the index the segment's
 * first entry would have when it was cut (last index + 1). Fixed width, so a plain sort orders them.
 */
public record SegmentName(long sequence, long firstIndex) implements Comparable<SegmentName> {
    private static final Pattern PATTERN = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.wal");

    public SegmentName {
        if (sequence < 0 || firstIndex < 1) {
            throw new IllegalArgumentException("bad segment name: sequence=" + sequence + " firstIndex=" + firstIndex);
        }
    }

    public String fileName() {
        return String.format(Locale.ROOT, "%016x-%016x.wal", sequence, firstIndex);
    }

    /** The parsed name, or null when {@code fileName} is not a segment name. */
    public static SegmentName parse(String fileName) {
        Matcher matcher = PATTERN.matcher(fileName);
        if (!matcher.matches()) {
            return null;
        }
        return new SegmentName(Long.parseUnsignedLong(matcher.group(1), 16), Long.parseUnsignedLong(matcher.group(2), 16));
    }

    @Override
    public int compareTo(SegmentName other) {
        return Long.compare(sequence, other.sequence);
    }
}
