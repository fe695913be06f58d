package io.loomkv.persist.snap;

import java.util.Comparator;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A snapshot file name, {@code %016x-%016x.snap}: term, then index. */
public record SnapshotFileName(long term, long index) {
    private static final Pattern PATTERN = Pattern.compile("([0-9a-f]{16})-([0-9a-f]{16})\\.snap");
    /** Oldest first: by index, then term. */
    public static final Comparator<SnapshotFileName> ORDER =
            Comparator.comparingLong(SnapshotFileName::index).thenComparingLong(SnapshotFileName::term);

    public SnapshotFileName {
        if (term < 0 || index < 1) {
            throw new IllegalArgumentException("bad snapshot name: term=" + term + " index=" + index);
        }
    }

    public String fileName() {
        return String.format(Locale.ROOT, "%016x-%016x.snap", term, index);
    }

    /** The parsed name, or null when {@code fileName} is not a snapshot name. */
    public static SnapshotFileName parse(String fileName) {
        Matcher matcher = PATTERN.matcher(fileName);
        if (!matcher.matches()) {
            return null;
        }
        return new SnapshotFileName(Long.parseUnsignedLong(matcher.group(1), 16), Long.parseUnsignedLong(matcher.group(2), 16));
    }
}
