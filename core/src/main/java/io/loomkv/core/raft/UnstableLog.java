package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;

/**
 * Entries and a snapshot that the node has accepted but the runtime has not yet persisted
 * (etcd's unstable). Entry {@code i} of {@link #entries} has index {@code offset + i}.
 */
final class UnstableLog {
    private SnapshotMetadata snapshot;
    private ArrayList<Entry> entries = new ArrayList<>();
    private long offset;

    UnstableLog(long offset) {
        this.offset = offset;
    }

    long offset() {
        return offset;
    }

    SnapshotMetadata snapshot() {
        return snapshot;
    }

    List<Entry> entries() {
        return entries;
    }

    /** The first index if there is an unstable snapshot, else -1. */
    long maybeFirstIndex() {
        return snapshot != null ? snapshot.getIndex() + 1 : -1;
    }

    /** The last index if there are unstable entries or an unstable snapshot, else -1. */
    long maybeLastIndex() {
        if (!entries.isEmpty()) {
            return offset + entries.size() - 1;
        }
        return snapshot != null ? snapshot.getIndex() : -1;
    }

    /** The term of {@code index} if the unstable part knows it, else -1. */
    long maybeTerm(long index) {
        if (index < offset) {
            if (snapshot != null && snapshot.getIndex() == index) {
                return snapshot.getTerm();
            }
            return -1;
        }
        long last = maybeLastIndex();
        if (last < 0 || index > last) {
            return -1;
        }
        return entries.get((int) (index - offset)).getTerm();
    }

    /** The entries up to {@code index} (of {@code term}) are durable now: drop them from here. */
    void stableTo(long index, long term) {
        long t = maybeTerm(index);
        if (t < 0 || t != term || index < offset) {
            // The entry was replaced by a newer append after the Ready was handed out: keep it.
            return;
        }
        int drop = (int) (index + 1 - offset);
        if (drop == entries.size()) {
            entries = new ArrayList<>();
        } else {
            entries = new ArrayList<>(entries.subList(drop, entries.size()));
        }
        offset = index + 1;
    }

    void stableSnapshotTo(long index) {
        if (snapshot != null && snapshot.getIndex() == index) {
            snapshot = null;
        }
    }

    void restore(SnapshotMetadata metadata) {
        offset = metadata.getIndex() + 1;
        entries = new ArrayList<>();
        snapshot = metadata;
    }

    void truncateAndAppend(List<Entry> newEntries) {
        if (newEntries.isEmpty()) {
            return;
        }
        long after = newEntries.get(0).getIndex();
        if (after == offset + entries.size()) {
            entries.addAll(newEntries);
        } else if (after <= offset) {
            // The new entries replace everything unstable (and some stable entries too).
            offset = after;
            entries = new ArrayList<>(newEntries);
        } else {
            ArrayList<Entry> kept = new ArrayList<>(entries.subList(0, (int) (after - offset)));
            kept.addAll(newEntries);
            entries = kept;
        }
    }

    /** Entries in {@code [lo, hi)}, which must lie within the unstable entries. */
    List<Entry> slice(long lo, long hi) {
        if (lo > hi || lo < offset || hi > offset + entries.size()) {
            throw new IllegalStateException("unstable slice [" + lo + "," + hi + ") out of bounds [" + offset + ","
                    + (offset + entries.size()) + ")");
        }
        // A copy: the caller may keep it while later appends change the unstable list.
        return new ArrayList<>(entries.subList((int) (lo - offset), (int) (hi - offset)));
    }
}
