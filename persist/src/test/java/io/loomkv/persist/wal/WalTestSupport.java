package io.loomkv.persist.wal;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongUnaryOperator;

/** Deterministic entries for WAL tests: the data of entry i is a function of (i, term). */
public final class WalTestSupport {
    /** The group of the tests that use one group: not 0 or 1, so that a group id mixed up with an index or a count shows. */
    public static final long GROUP = 7;
    /** Recovery keeps every entry of every group. */
    public static final LongUnaryOperator KEEP_ALL = groupId -> 0;

    private WalTestSupport() {
    }

    public static Entry entry(long index, long term, int sizeBytes) {
        byte[] data = new byte[sizeBytes];
        new Random(index * 31 + term).nextBytes(data);
        return Entry.newBuilder().setIndex(index).setTerm(term).setData(ByteString.copyFrom(data)).build();
    }

    public static Entry entry(long index, long term) {
        return entry(index, term, 16 + (int) (index % 200));
    }

    public static List<Entry> entries(long fromIndex, long toIndexInclusive, long term) {
        List<Entry> entries = new ArrayList<>();
        for (long i = fromIndex; i <= toIndexInclusive; i++) {
            entries.add(entry(i, term));
        }
        return entries;
    }

    /** The entries recovered for {@link #GROUP} (none when the WAL holds nothing of it). */
    public static List<Entry> recoveredEntries(WalContents contents) {
        return recoveredEntries(contents, GROUP);
    }

    public static List<Entry> recoveredEntries(WalContents contents, long groupId) {
        GroupContents group = contents.group(groupId);
        return group == null ? List.of() : group.entries();
    }

    /** Recovery keeps the entries of every group above {@code index}. */
    public static LongUnaryOperator keepAbove(long index) {
        return groupId -> index;
    }
}
