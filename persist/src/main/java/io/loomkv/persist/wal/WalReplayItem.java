package io.loomkv.persist.wal;

/** What replay hands back in log order: entries and snapshot markers (hard states only matter by their last value). */
public sealed interface WalReplayItem permits EntryItem, SnapshotMarker {
}
