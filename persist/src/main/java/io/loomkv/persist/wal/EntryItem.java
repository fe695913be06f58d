package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import java.util.Objects;

/** A Raft entry as found in the WAL during replay. */
public record EntryItem(Entry entry) implements WalReplayItem {
    public EntryItem {
        Objects.requireNonNull(entry, "entry");
    }
}
