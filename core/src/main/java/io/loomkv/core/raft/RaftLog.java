package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's log: the durable part read through {@link Storage} and the unstable part not yet
 * persisted, plus the commit and apply positions (etcd's raftLog).
 */
final class RaftLog {
    private final Storage storage;
    private final UnstableLog unstable;
    private long committed;
    private long applied;

    RaftLog(Storage storage) {
        this.storage = storage;
        long first = storage.firstIndex();
        long last = storage.lastIndex();
        this.unstable = new UnstableLog(last + 1);
        // Everything up to the snapshot is committed and applied (the runtime restores it).
        this.committed = first - 1;
        this.applied = first - 1;
    }

    Storage storage() {
        return storage;
    }

    UnstableLog unstable() {
        return unstable;
    }

    long committed() {
        return committed;
    }

    long applied() {
        return applied;
    }

    long firstIndex() {
        long i = unstable.maybeFirstIndex();
        return i >= 0 ? i : storage.firstIndex();
    }

    long lastIndex() {
        long i = unstable.maybeLastIndex();
        return i >= 0 ? i : storage.lastIndex();
    }

    /** The last index that the runtime has made durable (the leader counts itself up to it). */
    long lastStableIndex() {
        if (unstable.snapshot() != null) {
            return 0;
        }
        return unstable.offset() - 1;
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /**
     * The term of {@code index}, or 0 if it is outside the log (compacted away, or not yet
     * appended). Callers that must tell these apart use {@link #firstIndex()} first.
     */
    long term(long index) {
        long dummy = firstIndex() - 1;
        if (index < dummy || index > lastIndex()) {
            return 0;
        }
        long t = unstable.maybeTerm(index);
        if (t >= 0) {
            return t;
        }
        try {
            return storage.term(index);
        } catch (CompactedException | UnavailableException e) {
            return 0;
        }
    }

    boolean matchTerm(long index, long term) {
        if (index < firstIndex() - 1 || index > lastIndex()) {
            return false;
        }
        return term(index) == term;
    }

    /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as new as ours? */
    boolean isUpToDate(long lastIndex, long lastTerm) {
        long ourTerm = lastTerm();
        return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= lastIndex());
    }

    /**
     * The follower side of AppendEntries: if the entry at {@code index} has term
     * {@code logTerm}, appends {@code entries} (truncating a conflicting suffix), moves commit up
     * to {@code min(leaderCommit, last new index)} and returns the last new index; else -1.
     */
    long maybeAppend(long index, long logTerm, long leaderCommit, List<Entry> entries) {
        if (!matchTerm(index, logTerm)) {
            return -1;
        }
        long lastNewIndex = index + entries.size();
        long conflict = findConflict(entries);
        if (conflict != 0) {
            if (conflict <= committed) {
                throw new IllegalStateException("entry " + conflict + " conflicts with committed entry, committed="
                        + committed);
            }
            append(entries.subList((int) (conflict - index - 1), entries.size()));
        }
        commitTo(Math.min(leaderCommit, lastNewIndex));
        return lastNewIndex;
    }

    /** Appends entries that follow on from (or replace part of) the log; returns the last index. */
    long append(List<Entry> entries) {
        if (entries.isEmpty()) {
            return lastIndex();
        }
        long after = entries.get(0).getIndex() - 1;
        if (after < committed) {
            throw new IllegalStateException("appending after " + after + " is below committed " + committed);
        }
        unstable.truncateAndAppend(entries);
        return lastIndex();
    }

    /** The index of the first entry that is new or conflicts in term; 0 if all are present. */
    private long findConflict(List<Entry> entries) {
        for (Entry e : entries) {
            if (!matchTerm(e.getIndex(), e.getTerm())) {
                return e.getIndex();
            }
        }
        return 0;
    }

    /**
     * Fast backtracking: the largest index at or below {@code index} whose term is at most
     * {@code term}, with its term. Returned as {index, term}.
     */
    long[] findConflictByTerm(long index, long term) {
        long first = firstIndex();
        for (long i = index; i >= first - 1; i--) {
            long t = term(i);
            if (t <= term || i == first - 1) {
                return new long[] {i, t};
            }
        }
        return new long[] {first - 1, term(first - 1)};
    }

    List<Entry> unstableEntries() {
        return unstable.entries();
    }

    /** Whether committed entries wait to be applied. */
    boolean hasNextCommittedEntries() {
        long lo = Math.max(applied + 1, firstIndex());
        return committed + 1 > lo;
    }

    /** Committed entries not yet applied, at most {@code maxSizeBytes} (always at least one). */
    List<Entry> nextCommittedEntries(long maxSizeBytes) {
        long lo = Math.max(applied + 1, firstIndex());
        long hi = committed + 1;
        if (hi <= lo) {
            return List.of();
        }
        return slice(lo, hi, maxSizeBytes);
    }

    /** Metadata of the snapshot the log starts from (unstable first, then storage). */
    SnapshotMetadata snapshotMetadata() {
        if (unstable.snapshot() != null) {
            return unstable.snapshot();
        }
        return storage.snapshotMetadata();
    }

    void commitTo(long index) {
        if (committed < index) {
            if (lastIndex() < index) {
                throw new IllegalStateException("commit index " + index + " is out of range [lastIndex " + lastIndex()
                        + "]; was the log corrupted, truncated or lost?");
            }
            committed = index;
        }
    }

    void appliedTo(long index) {
        if (index == 0) {
            return;
        }
        if (committed < index || index < applied) {
            throw new IllegalStateException("applied index " + index + " is out of range [prevApplied " + applied
                    + ", committed " + committed + "]");
        }
        applied = index;
    }

    void stableTo(long index, long term) {
        unstable.stableTo(index, term);
    }

    void stableSnapshotTo(long index) {
        unstable.stableSnapshotTo(index);
    }

    /** Commits up to {@code maxIndex} if that entry is of {@code term} (only own-term entries count). */
    boolean maybeCommit(long maxIndex, long term) {
        if (maxIndex > committed && term(maxIndex) == term) {
            commitTo(maxIndex);
            return true;
        }
        return false;
    }

    void restore(SnapshotMetadata metadata) {
        committed = metadata.getIndex();
        unstable.restore(metadata);
    }

    /** Entries from {@code lo} to the end of the log, at most {@code maxSizeBytes}. */
    List<Entry> entries(long lo, long maxCount, long maxSizeBytes) {
        long last = lastIndex();
        if (lo > last) {
            return List.of();
        }
        long hi = Math.min(last + 1, lo + maxCount);
        return slice(lo, hi, maxSizeBytes);
    }

    /**
     * Entries in {@code [lo, hi)} with at most {@code maxSizeBytes} (always at least one).
     *
     * @throws CompactedException if {@code lo} was compacted away
     */
    List<Entry> slice(long lo, long hi, long maxSizeBytes) {
        if (lo > hi) {
            throw new IllegalStateException("invalid slice " + lo + " > " + hi);
        }
        long first = firstIndex();
        if (lo < first) {
            throw new CompactedException("requested index " + lo + " is compacted, first index " + first);
        }
        if (hi > lastIndex() + 1) {
            throw new IllegalStateException("slice [" + lo + "," + hi + ") out of bound [" + first + "," + lastIndex() + "]");
        }
        if (lo == hi) {
            return List.of();
        }
        long unstableOffset = unstable.offset();
        List<Entry> stored = List.of();
        if (lo < unstableOffset) {
            stored = storage.entries(lo, Math.min(hi, unstableOffset), maxSizeBytes);
            if (stored.size() < Math.min(hi, unstableOffset) - lo) {
                // Storage stopped at the size limit: do not add unstable entries after a gap.
                return stored;
            }
        }
        if (hi <= unstableOffset) {
            return stored;
        }
        List<Entry> fresh = unstable.slice(Math.max(lo, unstableOffset), hi);
        if (stored.isEmpty()) {
            return limitSize(fresh, maxSizeBytes);
        }
        ArrayList<Entry> all = new ArrayList<>(stored.size() + fresh.size());
        all.addAll(stored);
        all.addAll(fresh);
        return limitSize(all, maxSizeBytes);
    }

    /** The longest prefix within {@code maxSizeBytes}, but at least one entry. */
    static List<Entry> limitSize(List<Entry> entries, long maxSizeBytes) {
        if (entries.isEmpty()) {
            return entries;
        }
        long size = entries.get(0).getSerializedSize();
        int n = 1;
        for (; n < entries.size(); n++) {
            size += entries.get(n).getSerializedSize();
            if (size > maxSizeBytes) {
                break;
            }
        }
        return n == entries.size() ? entries : entries.subList(0, n);
    }

    @Override
    public String toString() {
        return "RaftLog{committed=" + committed + ", applied=" + applied + ", unstable.offset=" + unstable.offset()
                + ", unstable.entries=" + unstable.entries().size() + "}";
    }
}
