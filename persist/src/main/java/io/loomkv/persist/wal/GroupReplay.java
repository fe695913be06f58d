package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import java.util.ArrayList;
import java.util.List;

/**
 * One group's log as recovery rebuilds it from the shared segments, with Raft's rules: an entry
 * at an index already present replaces it and everything after it, a reset (a snapshot installed
 * from the leader) empties the log, and a rewrite replaces the log by the rewritten entries once
 * its end record is read.
 *
 * <p>The WAL vouches for the group's entries above {@link #logStartIndex}: below it they were
 * reset away, rewritten elsewhere, or lie in segments deleted once a snapshot covered them. Only
 * entries above the caller's keep index, and above the newest checkpoint read so far, are held in
 * memory; the others are checked, then dropped. (The caller's index comes from the snapshot files,
 * which may turn out damaged, so it stays low enough for a fallback; a checkpoint has no file to
 * be damaged, and recovery never starts a group before its newest one.)
 *
 * <p>Methods return null when the record fits, otherwise why it does not (recovery turns that
 * into a {@link WalCorruptionException} naming the file and offset).
 */
final class GroupReplay {
    final WalGroup group;
    private long keepAboveIndex;
    private long logStartIndex;
    private long lastIndex;
    /** Entries from max(logStartIndex, keepAboveIndex) + 1 to lastIndex, consecutive. */
    private final ArrayList<Entry> kept = new ArrayList<>();
    private HardState hardState = HardState.getDefaultInstance();
    private final List<SnapshotMarker> markers = new ArrayList<>();
    /** Entries of a rewrite whose end record has not been read yet. */
    private final List<Entry> staged = new ArrayList<>();
    /** Sequence of the last segment whose header named this group (-1: none). */
    long namedInHeaderOf = -1;

    /** @param logStartIndex where the group's log starts: 0 for a new group, its index in a segment header when older segments are gone */
    GroupReplay(WalGroup group, long keepAboveIndex, long logStartIndex) {
        this.group = group;
        this.keepAboveIndex = keepAboveIndex;
        this.logStartIndex = logStartIndex;
        this.lastIndex = logStartIndex;
        group.lastIndexWritten = logStartIndex;
    }

    long lastIndex() {
        return lastIndex;
    }

    boolean rewriteInProgress() {
        return !staged.isEmpty();
    }

    String appendEntry(Entry entry) {
        long index = entry.getIndex();
        if (index <= logStartIndex || index > lastIndex + 1) {
            return "entry index " + index + " of group " + group.id + " does not fit its log (" + logStartIndex + ", " + lastIndex + "]";
        }
        while (!kept.isEmpty() && kept.get(kept.size() - 1).getIndex() >= index) {
            kept.remove(kept.size() - 1);
        }
        if (index > keepAboveIndex) {
            kept.add(entry);
        }
        lastIndex = index;
        return null;
    }

    void hardState(HardState newHardState) {
        hardState = newHardState;
    }

    void marker(SnapshotMarker marker) {
        markers.removeIf(known -> known.index() == marker.index() && known.term() == marker.term());
        markers.add(marker);
        if (marker.checkpoint() && marker.index() > keepAboveIndex) {
            // Without this a store whose groups compact only at checkpoints (no files) would hold
            // every entry of its whole WAL in memory while it recovers.
            keepAboveIndex = marker.index();
            int drop = 0;
            while (drop < kept.size() && kept.get(drop).getIndex() <= keepAboveIndex) {
                drop++;
            }
            kept.subList(0, drop).clear();
        }
        if (marker.resetLog()) {
            kept.clear();
            logStartIndex = marker.index();
            lastIndex = marker.index();
        }
    }

    /** A segment header's state for this group, which recovery already knows: it must agree. */
    String checkHeaderState(long headerLastIndex, HardState headerHardState) {
        if (headerLastIndex != lastIndex) {
            return "the segment header says group " + group.id + " ended at index " + headerLastIndex + " when the segment was cut, but its records end at "
                    + lastIndex + ": records are missing";
        }
        hardState = headerHardState;
        return null;
    }

    String stageRewritten(Entry entry) {
        long expected = staged.isEmpty() ? entry.getIndex() : staged.get(staged.size() - 1).getIndex() + 1;
        if (entry.getIndex() < 1 || entry.getIndex() != expected) {
            return "rewritten entry " + entry.getIndex() + " of group " + group.id + " does not follow " + (expected - 1);
        }
        staged.add(entry);
        return null;
    }

    /** The end of a rewrite: from here the group's log is the staged entries, after {@code startIndex}. */
    String endRewrite(long startIndex, long endLastIndex, HardState newHardState) {
        long first = staged.isEmpty() ? startIndex + 1 : staged.get(0).getIndex();
        long last = staged.isEmpty() ? startIndex : staged.get(staged.size() - 1).getIndex();
        if (startIndex < 0 || first != startIndex + 1 || last != endLastIndex || endLastIndex != lastIndex) {
            return "rewrite of group " + group.id + " ends with (" + startIndex + ", " + endLastIndex + "] but its entries span [" + first + ", "
                    + last + "] and the group's log ends at " + lastIndex;
        }
        kept.clear();
        for (Entry entry : staged) {
            if (entry.getIndex() > keepAboveIndex) {
                kept.add(entry);
            }
        }
        staged.clear();
        logStartIndex = startIndex;
        hardState = newHardState;
        return null;
    }

    /** Forgets a rewrite cut short at the end of the log (never acknowledged). */
    void abandonRewrite() {
        staged.clear();
    }

    /** Hands the rebuilt state to the group's bookkeeping, for the appending side and the writer to go on from. */
    void publishToGroup() {
        group.lastIndex = lastIndex;
        group.logStartIndex = logStartIndex;
        group.lastIndexWritten = lastIndex;
        group.hardState = hardState;
        for (SnapshotMarker marker : markers) {
            group.rememberMarker(marker);
            group.largestMarkerRecordBytes = Math.max(group.largestMarkerRecordBytes, Wal.markerRecordBytes(marker.metadata()));
        }
    }

    GroupContents contents() {
        return new GroupContents(group.id, hardState, markers, logStartIndex, kept, lastIndex);
    }
}
