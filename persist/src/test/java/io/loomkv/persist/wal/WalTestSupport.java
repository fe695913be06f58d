package io.loomkv.persist.wal;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic entries for WAL tests: the data of entry i is a function of (i, term). */
public final class WalTestSupport {
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

    /** Entries as found in the recovered items, in order. */
    public static List<Entry> recoveredEntries(WalContents contents) {
        List<Entry> result = new ArrayList<>();
        for (WalReplayItem item : contents.items()) {
            if (item instanceof EntryItem entryItem) {
                long index = entryItem.entry().getIndex();
                while (!result.isEmpty() && result.get(result.size() - 1).getIndex() >= index) {
                    result.remove(result.size() - 1);
                }
                result.add(entryItem.entry());
            } else if (item instanceof SnapshotMarker marker && marker.resetLog()) {
                result.clear();
            }
        }
        return result;
    }
}
