package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.replica.Durability;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The disk of one simulated store: one write-ahead log shared by the store's replicas of every
 * group, as the runtime has one WAL per store, and the snapshots beside it.
 *
 * <p>Each group has two logs here. Its <em>view</em> is the {@link MemoryStorage} its Raft node
 * reads: it takes every write at once, as the runtime's group storage indexes an append in memory
 * as soon as the WAL accepts it. Its <em>durable image</em> is what a restart would find: it takes
 * a write only once an fsync that started after the write has completed. Records become durable
 * in write order across groups (one file, group commit); the fsyncs themselves are scheduled by
 * {@link SimStore}, at most one in flight, so everything written while one is in flight waits for
 * the next.
 *
 * <p>A crash keeps the durable images and, when an fsync was in flight, a random prefix (in write
 * order, across groups) of the records it was writing: a disk may have written part of them
 * before the power went, and the runtime's recovery truncates a torn record at the end, so each
 * record survives whole or not at all. Everything else written since is lost. A restart rebuilds
 * every view from its durable image.
 *
 * <p>Snapshots: one installed from a leader is durable at once and forces the log first (the
 * runtime's install blocks on a WAL marker, whose fsync covers everything written before it); a
 * replica's own snapshot of its applied state is durable at once (the runtime writes it to its own
 * file before anything relies on it) and covers only applied entries, which are durable already.
 */
final class SimWal {

    /** One write of one group: a hard state and/or entries, in write order. */
    private record Record(long sequence, int group, HardState hardState, List<Entry> entries, boolean mustSync) {}

    /** What a crash did to the log: the records the fsync in flight was writing, and how many of them it kept. */
    record CrashLoss(int flushingRecords, int keptRecords, int unsyncedRecords) {
        boolean midFsync() {
            return flushingRecords > 0;
        }
    }

    private final List<Long> initialVoters;
    private final MemoryStorage[] views;
    private final MemoryStorage[] durable;
    /** Per group, the first index of the last append that became durable (the lying-fsync fault drops it). */
    private final long[] lastDurableAppendFromIndex;
    /**
     * Per group, the first record sequence of its current log: records written before the group was
     * wiped (see {@link #wipe}) still take their turn in the fsync order but write nothing.
     */
    private final long[] firstSequence;
    /** Per group, whether its log was wiped: it restarts empty, without the founding membership. */
    private final boolean[] wiped;
    private List<Record> unsynced = new ArrayList<>();
    private List<Record> flushing = List.of();
    private boolean fsyncInFlight;
    private long nextSequence = 1;
    /** Every record up to this sequence is durable (records become durable in write order). */
    private long durableSequence;
    /** Bumped by every crash: a Durability handed out before it must never be polled after it. */
    private long epoch;
    private long fsyncsCompleted;

    SimWal(int groups, List<Long> initialVoters) {
        this.initialVoters = List.copyOf(initialVoters);
        this.views = new MemoryStorage[groups + 1];
        this.durable = new MemoryStorage[groups + 1];
        this.lastDurableAppendFromIndex = new long[groups + 1];
        this.firstSequence = new long[groups + 1];
        this.wiped = new boolean[groups + 1];
        for (int group = 1; group <= groups; group++) {
            durable[group] = MemoryStorage.bootstrap(this.initialVoters);
            views[group] = MemoryStorage.bootstrap(this.initialVoters);
        }
    }

    /** The storage the group's Raft node reads: every write, durable or not. */
    MemoryStorage view(int group) {
        return views[group];
    }

    /** What a restart of the group would find now. */
    MemoryStorage durableImage(int group) {
        return durable[group];
    }

    boolean fsyncInFlight() {
        return fsyncInFlight;
    }

    long fsyncsCompleted() {
        return fsyncsCompleted;
    }

    /**
     * Writes a group's hard state and/or entries: visible in its view at once, durable when an fsync
     * that starts after this completes.
     */
    Durability append(int group, HardState hardState, List<Entry> entries, boolean mustSync) {
        if (hardState == null && entries.isEmpty()) {
            throw new IllegalArgumentException("group " + group + ": an append with neither hard state nor entries");
        }
        Record record = new Record(nextSequence++, group, hardState, List.copyOf(entries), mustSync);
        write(views[group], record);
        unsynced.add(record);
        long sequence = record.sequence();
        long writtenInEpoch = epoch;
        return () -> {
            if (writtenInEpoch != epoch) {
                throw new IllegalStateException("group " + group + ": polled the durability of record " + sequence
                        + " after the store crashed (a dead replica's driver is still running)");
            }
            return durableSequence >= sequence;
        };
    }

    /** Whether something written since the last fsync started must be synced (a non-sync write waits for one that must). */
    boolean needsFsync() {
        for (Record record : unsynced) {
            if (record.mustSync()) {
                return true;
            }
        }
        return false;
    }

    /** Starts an fsync of everything written so far. */
    void startFsync() {
        if (fsyncInFlight) {
            throw new IllegalStateException("an fsync is already in flight with " + flushing.size() + " records");
        }
        flushing = unsynced;
        unsynced = new ArrayList<>();
        fsyncInFlight = true;
    }

    /** The fsync in flight completed: its records are durable. Returns how many it covered. */
    int completeFsync() {
        if (!fsyncInFlight) {
            throw new IllegalStateException("no fsync in flight to complete");
        }
        int records = flushing.size();
        for (Record record : flushing) {
            makeDurable(record);
        }
        flushing = List.of();
        fsyncInFlight = false;
        fsyncsCompleted++;
        return records;
    }

    /**
     * Installs a snapshot received from the leader: the log is forced first (everything written
     * before it becomes durable, whatever the fsync in flight was doing), then the snapshot
     * replaces the group's log in its view and its durable image alike.
     */
    void installSnapshot(int group, SnapshotMetadata metadata, ByteString data) {
        for (Record record : flushing) {
            makeDurable(record);
        }
        for (Record record : unsynced) {
            makeDurable(record);
        }
        flushing = List.of(); // An fsync still in flight completes with nothing left to write.
        unsynced = new ArrayList<>();
        views[group].applySnapshot(metadata, data);
        durable[group].applySnapshot(metadata, data);
    }

    /**
     * A replica's own snapshot of its state machine at {@code index}, which it applied (so that
     * index is durable): taken and the log compacted up to it, in the view and the durable image.
     */
    void snapshotAndCompact(int group, long index, ConfState confState, ByteString data) {
        MemoryStorage image = durable[group];
        if (index > image.lastIndex() || index < image.firstIndex() - 1) {
            throw new IllegalStateException("group " + group + ": snapshot at applied index " + index
                    + " but the durable log holds " + image.firstIndex() + ".." + image.lastIndex()
                    + " (an entry was applied before it was durable)");
        }
        for (MemoryStorage storage : new MemoryStorage[] {views[group], image}) {
            storage.createSnapshot(index, confState, data);
            storage.compact(index);
        }
    }

    /**
     * Deletes the group's log and snapshot (a retired replica's, as the server deletes a removed
     * group's data): its view and durable image become empty storages with no membership at all
     * (not the founding one: a replica created later for a leader starts empty, as the server's
     * does), and so does what a restart finds. Its records not yet durable are dropped.
     */
    void wipe(int group) {
        views[group] = new MemoryStorage();
        durable[group] = new MemoryStorage();
        lastDurableAppendFromIndex[group] = 0;
        firstSequence[group] = nextSequence;
        wiped[group] = true;
    }

    /**
     * The store crashed: keeps what is durable and a random prefix of what the fsync in flight was
     * writing; loses everything else. The views are stale until {@link #restart}.
     */
    CrashLoss crash(RandomGenerator random) {
        int flushingRecords = flushing.size();
        int kept = flushingRecords == 0 ? 0 : random.nextInt(flushingRecords + 1);
        for (int i = 0; i < kept; i++) {
            makeDurable(flushing.get(i));
        }
        CrashLoss loss = new CrashLoss(fsyncInFlight ? flushingRecords : 0, kept, unsynced.size());
        flushing = List.of();
        unsynced = new ArrayList<>();
        fsyncInFlight = false;
        epoch++;
        durableSequence = nextSequence - 1; // The lost records are gone; the next incarnation's follow on.
        return loss;
    }

    /**
     * The self-test's lying fsync: every group loses the entries of its last durable append, which
     * the replica acknowledged (the hard state's commit index is cut to match).
     */
    void loseLastDurableAppends() {
        for (int group = 1; group < durable.length; group++) {
            long from = lastDurableAppendFromIndex[group];
            MemoryStorage image = durable[group];
            long keepTo = Math.min(image.lastIndex(), from - 1);
            if (from == 0 || keepTo < image.snapshotMetadata().getIndex()) {
                continue;
            }
            MemoryStorage rebuilt = copyOf(group, image, keepTo);
            HardState hardState = image.hardState();
            rebuilt.setHardState(hardState.toBuilder().setCommit(Math.min(hardState.getCommit(), keepTo)).build());
            durable[group] = rebuilt;
            lastDurableAppendFromIndex[group] = 0;
        }
    }

    /** The self-test's forgetful runtime: every group's durable vote is lost (not its term). */
    void forgetVotes() {
        for (int group = 1; group < durable.length; group++) {
            durable[group].setHardState(durable[group].hardState().toBuilder().setVote(0).build());
        }
    }

    /**
     * Rebuilds every view from its durable image. The commit index is lifted to the snapshot's
     * index when it lags (as the runtime's storage does on recovery): a hard state whose only
     * change was the commit index is written only with the next append, so a snapshot taken since
     * may be ahead of it.
     */
    void restart() {
        for (int group = 1; group < durable.length; group++) {
            MemoryStorage image = durable[group];
            MemoryStorage view = copyOf(group, image, image.lastIndex());
            long snapshotIndex = image.snapshotMetadata().getIndex();
            if (view.hardState().getCommit() < snapshotIndex) {
                view.setHardState(view.hardState().toBuilder().setCommit(snapshotIndex).build());
            }
            views[group] = view;
        }
    }

    private void makeDurable(Record record) {
        if (record.sequence() >= firstSequence[record.group()]) {
            write(durable[record.group()], record);
        }
        if (record.sequence() >= firstSequence[record.group()] && !record.entries().isEmpty()) {
            lastDurableAppendFromIndex[record.group()] = record.entries().get(0).getIndex();
        }
        if (record.sequence() != durableSequence + 1) {
            throw new IllegalStateException("record " + record.sequence() + " became durable after record "
                    + durableSequence + ": records must become durable in write order");
        }
        durableSequence = record.sequence();
    }

    private static void write(MemoryStorage storage, Record record) {
        storage.append(record.entries());
        if (record.hardState() != null) {
            storage.setHardState(record.hardState());
        }
    }

    /** A copy of {@code source} with its snapshot, its entries up to {@code lastIndex} and its hard state. */
    private MemoryStorage copyOf(int group, MemoryStorage source, long lastIndex) {
        MemoryStorage copy = wiped[group] ? new MemoryStorage() : MemoryStorage.bootstrap(initialVoters);
        SnapshotMetadata snapshot = source.snapshotMetadata();
        if (snapshot.getIndex() > 0) {
            copy.applySnapshot(snapshot, source.snapshotData());
        }
        if (lastIndex >= source.firstIndex()) {
            copy.append(source.entries(source.firstIndex(), lastIndex + 1, Long.MAX_VALUE));
        }
        copy.setHardState(source.hardState());
        return copy;
    }
}
