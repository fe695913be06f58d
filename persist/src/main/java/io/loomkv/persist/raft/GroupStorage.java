package io.loomkv.persist.raft;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.CompactedException;
import io.loomkv.core.raft.InitialState;
import io.loomkv.core.raft.SnapshotTemporarilyUnavailableException;
import io.loomkv.core.raft.SnapshotUnavailableException;
import io.loomkv.core.raft.Storage;
import io.loomkv.core.raft.UnavailableException;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.snap.SnapshotDataWriter;
import io.loomkv.persist.snap.SnapshotReceiver;
import io.loomkv.persist.snap.SnapshotStore;
import io.loomkv.persist.wal.GroupContents;
import io.loomkv.persist.wal.Wal;
import io.loomkv.persist.wal.WalCorruptionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link Storage} of one Raft group on a store: its records in the store's shared
 * {@link Wal} and its snapshot files in its own {@link SnapshotStore}, with the entries since the
 * last snapshot indexed in memory (as etcd's MemoryStorage fed by WAL replay) and served from
 * there. {@link StoreLog} recovers and creates them.
 *
 * <p>The runtime writes through {@link #append}, {@link #createSnapshot}, {@link #recordCheckpoint},
 * {@link #compact}, {@link #receiveSnapshot} and {@link #installSnapshot}. The in-memory view changes as soon as a
 * write is accepted; the returned future says when it is durable, which is what the runtime must
 * wait for before acknowledging (Raft thesis 10.2.1). When the store's WAL grows past its bound
 * because of this group's old entries, {@link #releaseWalTo} (after a snapshot) or {@link #rewrite}
 * lets the old segments go.
 *
 * <p><b>Two kinds of compaction point.</b> A snapshot file holds the state machine's data at its
 * index. A <i>checkpoint</i> ({@link #recordCheckpoint}) holds none: a persistent state machine
 * made everything up to its index durable itself, so the log may be compacted there without
 * reading the data out (which costs as much as the data). {@link #snapshotMetadata()} is the newest
 * point of either kind, the one the log starts from; {@link #snapshotFileMetadata()} the newest
 * file. When a follower needs a snapshot that only a checkpoint covers,
 * {@link #snapshotForTransfer()} asks the runtime for a file once (the listener given to
 * {@link #onSnapshotFileWanted}) and tells Raft to try again later.
 *
 * <p>Thread-safe: the Raft loop and snapshot senders/creators may call it concurrently. An idle
 * group costs a few small objects: no thread, no buffer of its own.
 */
public final class GroupStorage implements Storage {
    private static final Logger LOG = LoggerFactory.getLogger(GroupStorage.class);

    private final long groupId;
    private final Wal wal;
    private final SnapshotStore snapshots;
    private final int keepSnapshots;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    // Guarded by lock.
    private final ArrayList<Entry> entries = new ArrayList<>();
    private long offsetIndex; // index just before entries.get(0): firstIndex() - 1
    private long offsetTerm;
    private HardState hardState;
    /** The newest compaction point, a snapshot file or a checkpoint: the log starts after it. */
    private SnapshotMetadata snapshot;
    /** The newest snapshot with a file (index 0: none); at or behind {@link #snapshot}. */
    private SnapshotMetadata snapshotFile;
    private long previousSnapshotIndex;
    /** Set when a follower needed a file that no snapshot had; cleared by the next file. */
    private final AtomicBoolean snapshotFileWanted = new AtomicBoolean();
    private volatile Runnable snapshotFileListener = () -> { };
    private boolean removed;
    /** The data bytes of {@link #entries}; every change also goes to {@link #storeEntryBytes}. */
    private long entryBytes;
    /** The data bytes of every group's entries in memory in this store (shared by the store's groups). */
    private final AtomicLong storeEntryBytes;

    GroupStorage(long groupId, Wal wal, SnapshotStore snapshots, int keepSnapshots, SnapshotMetadata snapshot,
                 SnapshotMetadata snapshotFile, HardState hardState, List<Entry> entries, AtomicLong storeEntryBytes) {
        if (snapshotFile.getIndex() > snapshot.getIndex()) {
            throw new IllegalArgumentException("group " + groupId + ": snapshot file at " + snapshotFile.getIndex()
                    + " is newer than the log's starting point at " + snapshot.getIndex());
        }
        this.groupId = groupId;
        this.storeEntryBytes = storeEntryBytes;
        this.wal = wal;
        this.snapshots = snapshots;
        this.keepSnapshots = keepSnapshots;
        this.snapshot = snapshot;
        this.snapshotFile = snapshotFile;
        this.offsetIndex = snapshot.getIndex();
        this.offsetTerm = snapshot.getTerm();
        this.hardState = hardState;
        this.entries.addAll(entries);
        this.entries.trimToSize();
        changeEntryBytes(bytesOf(entries));
        // After a restart the fallback is the snapshot recovered from (the one before it is pruned with the next one).
        this.previousSnapshotIndex = snapshot.getIndex();
    }

    /**
     * Rebuilds a group from what the WAL recovered for it, on top of {@code snapshot} (the newest
     * point the WAL has a marker for: a valid snapshot file or a checkpoint): the WAL must hold
     * every entry after it. {@code snapshotFile} is the newest valid file (index 0: none).
     */
    static GroupStorage recover(Wal wal, SnapshotStore snapshots, int keepSnapshots, SnapshotMetadata snapshot,
            SnapshotMetadata snapshotFile, GroupContents contents, AtomicLong storeEntryBytes) throws WalCorruptionException {
        long base = snapshot.getIndex();
        Path walDirectory = wal.options().directory();
        if (contents.logStartIndex() > base) {
            throw new WalCorruptionException(walDirectory, 0, "group " + contents.groupId() + ": the WAL holds its log from index "
                    + (contents.logStartIndex() + 1) + " on (the log was reset or rewritten there, or older segments were released), but its"
                    + " newest usable snapshot is at " + base + ": entries " + (base + 1) + ".." + contents.logStartIndex() + " are missing");
        }
        if (contents.lastIndex() < base) {
            throw new WalCorruptionException(walDirectory, 0, "group " + contents.groupId() + ": the WAL ends at index " + contents.lastIndex()
                    + ", before its snapshot at " + base);
        }
        List<Entry> log = new ArrayList<>();
        for (Entry entry : contents.entries()) {
            if (entry.getIndex() > base) {
                log.add(entry);
            }
        }
        if (base + log.size() != contents.lastIndex()) {
            throw new IllegalStateException("group " + contents.groupId() + ": recovered entries reach " + (base + log.size())
                    + " after snapshot " + base + ", but the log ends at " + contents.lastIndex() + " (kept too few entries)");
        }
        if (contents.hardState().getCommit() > contents.lastIndex()) {
            throw new WalCorruptionException(walDirectory, 0, "group " + contents.groupId() + ": hard state commit "
                    + contents.hardState().getCommit() + " is beyond the last entry " + contents.lastIndex() + ": committed entries are missing");
        }
        LOG.debug("recovered group {}: snapshot at {} (term {}), entries {}..{}, hard state term {} commit {}", contents.groupId(), base,
                snapshot.getTerm(), base + 1, contents.lastIndex(), contents.hardState().getTerm(), contents.hardState().getCommit());
        return new GroupStorage(contents.groupId(), wal, snapshots, keepSnapshots, snapshot, snapshotFile, contents.hardState(), log,
                storeEntryBytes);
    }

    public long groupId() {
        return groupId;
    }

    // ---- Storage (reads) ----

    @Override
    public InitialState initialState() {
        lock.readLock().lock();
        try {
            // The runtime does not write a hard state whose only change is the commit index until its
            // next append (the commit index may be lost: Raft learns it again), so the one recovered
            // may lag a snapshot taken since. The snapshot proves everything up to its index committed.
            HardState recovered = hardState.getCommit() >= snapshot.getIndex() ? hardState
                    : hardState.toBuilder().setCommit(snapshot.getIndex()).build();
            return new InitialState(recovered, snapshot.hasConfState() ? snapshot.getConfState() : ConfState.getDefaultInstance());
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public List<Entry> entries(long fromIndex, long toIndexExclusive, long maxSizeBytes) {
        lock.readLock().lock();
        try {
            if (fromIndex <= offsetIndex) {
                throw new CompactedException("index " + fromIndex + " is compacted; first index is " + (offsetIndex + 1));
            }
            long lastIndex = offsetIndex + entries.size();
            if (toIndexExclusive > lastIndex + 1) {
                throw new UnavailableException("entries up to " + (toIndexExclusive - 1) + " requested, last index is " + lastIndex);
            }
            if (fromIndex > toIndexExclusive) {
                throw new IllegalArgumentException("fromIndex " + fromIndex + " > toIndexExclusive " + toIndexExclusive);
            }
            List<Entry> result = new ArrayList<>();
            long size = 0;
            for (long i = fromIndex; i < toIndexExclusive; i++) {
                Entry entry = entries.get((int) (i - offsetIndex - 1));
                size += entry.getSerializedSize();
                if (!result.isEmpty() && size > maxSizeBytes) {
                    break;
                }
                result.add(entry);
            }
            return result;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long term(long index) {
        lock.readLock().lock();
        try {
            return termLocked(index);
        } finally {
            lock.readLock().unlock();
        }
    }

    private long termLocked(long index) {
        if (index < offsetIndex) {
            throw new CompactedException("term of " + index + " is compacted; first index is " + (offsetIndex + 1));
        }
        if (index == offsetIndex) {
            return offsetTerm;
        }
        long lastIndex = offsetIndex + entries.size();
        if (index > lastIndex) {
            throw new UnavailableException("term of " + index + " requested, last index is " + lastIndex);
        }
        return entries.get((int) (index - offsetIndex - 1)).getTerm();
    }

    @Override
    public long firstIndex() {
        lock.readLock().lock();
        try {
            return offsetIndex + 1;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long lastIndex() {
        lock.readLock().lock();
        try {
            return offsetIndex + entries.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The data bytes of this group's entries held in memory (those after its snapshot). */
    public long entryBytesInMemory() {
        lock.readLock().lock();
        try {
            return entryBytes;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Under the write lock (or in the constructor). */
    private void changeEntryBytes(long delta) {
        entryBytes += delta;
        if (!removed) {
            storeEntryBytes.addAndGet(delta);
        }
    }

    private static long bytesOf(List<Entry> list) {
        long bytes = 0;
        for (Entry entry : list) {
            bytes += entry.getData().size();
        }
        return bytes;
    }

    @Override
    public SnapshotMetadata snapshotMetadata() {
        lock.readLock().lock();
        try {
            return snapshot;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The newest snapshot that has a file (index 0 when there is none): what backups and restores read. */
    public SnapshotMetadata snapshotFileMetadata() {
        lock.readLock().lock();
        try {
            return snapshotFile;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether the newest compaction point is a checkpoint, with no snapshot file at its index. */
    public boolean startsAtCheckpoint() {
        lock.readLock().lock();
        try {
            return snapshot.getIndex() > snapshotFile.getIndex();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Calls {@code listener} (once per need, from whichever thread found it, so it must not block)
     * when a follower needs a snapshot file that no snapshot has yet; {@link #snapshotFileWanted()}
     * stays true until the next file is saved.
     */
    public void onSnapshotFileWanted(Runnable listener) {
        snapshotFileListener = listener;
    }

    /** Whether a follower is waiting for a snapshot file that covers the log's starting point. */
    public boolean snapshotFileWanted() {
        return snapshotFileWanted.get();
    }

    @Override
    public SnapshotMetadata snapshotForTransfer() {
        long needed;
        lock.readLock().lock();
        try {
            // A follower sent this file then needs the entries after it: they must still be here.
            if (snapshotFile.getIndex() > 0 && snapshotFile.getIndex() >= offsetIndex) {
                return snapshotFile;
            }
            needed = offsetIndex;
        } finally {
            lock.readLock().unlock();
        }
        if (snapshotFileWanted.compareAndSet(false, true)) {
            snapshotFileListener.run();
        }
        throw new SnapshotTemporarilyUnavailableException("group " + groupId + ": the log starts after index " + needed
                + ", a checkpoint with no snapshot file; one is being written");
    }

    @Override
    public ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) {
        lock.readLock().lock();
        try {
            if (metadata.getIndex() != snapshotFile.getIndex() || metadata.getTerm() != snapshotFile.getTerm()
                    || snapshotFile.getIndex() == 0) {
                throw new SnapshotUnavailableException("snapshot term " + metadata.getTerm() + " index " + metadata.getIndex()
                        + " is not the newest file (term " + snapshotFile.getTerm() + " index " + snapshotFile.getIndex() + ")");
            }
            // Under the read lock, so a newer snapshot cannot prune this file while we read it.
            return snapshots.readChunk(metadata, offsetBytes, maxSizeBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("reading snapshot chunk at " + offsetBytes, e);
        } finally {
            lock.readLock().unlock();
        }
    }

    // ---- writes (the runtime) ----

    /**
     * Appends entries (an entry at an index already present replaces it and everything after it)
     * and/or a new hard state. Visible to readers at once; durable when the future completes.
     */
    public CompletableFuture<Long> append(HardState newHardState, List<Entry> newEntries) {
        return append(newHardState, newEntries, true);
    }

    /**
     * As {@link #append(HardState, List)}; with {@code mustSync} false (a hard state whose only
     * change is the commit index, which Raft may lose and learn again) the WAL does not force for
     * it: the future completes once it is written, and the next force makes it durable.
     */
    public CompletableFuture<Long> append(HardState newHardState, List<Entry> newEntries, boolean mustSync) {
        lock.writeLock().lock();
        try {
            checkNotRemoved();
            if (!newEntries.isEmpty()) {
                long first = newEntries.get(0).getIndex();
                if (first <= offsetIndex) {
                    throw new IllegalArgumentException("entries start at " + first + ", inside the snapshot at " + offsetIndex);
                }
            }
            CompletableFuture<Long> durable = wal.append(groupId, newHardState, newEntries, mustSync);
            if (!newEntries.isEmpty()) {
                long first = newEntries.get(0).getIndex();
                List<Entry> replaced = entries.subList((int) (first - offsetIndex - 1), entries.size());
                changeEntryBytes(bytesOf(newEntries) - bytesOf(replaced));
                replaced.clear();
                entries.addAll(newEntries);
            }
            if (newHardState != null) {
                hardState = newHardState;
            }
            return durable;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Takes a local snapshot at {@code index} (which must be in the log): streams {@code data} into
     * a snapshot file, records it in the WAL, waits until both are durable, then releases WAL
     * segments and prunes snapshot files that the previous snapshot already covers (one older
     * snapshot and its log stay as a fallback). The log in memory is not compacted: call
     * {@link #compact}. Blocks; call it off the Raft loop.
     *
     * <p>{@code index} may equal the newest compaction point when that is a checkpoint (a follower
     * needs a file of an idle group): the point then gets its file.
     */
    public SnapshotMetadata createSnapshot(long index, ConfState confState, SnapshotDataWriter data) throws IOException {
        SnapshotMetadata metadata;
        lock.readLock().lock();
        try {
            checkNotRemoved();
            if (index < snapshot.getIndex() || index <= snapshotFile.getIndex()) {
                throw new IllegalArgumentException("snapshot at " + index + " is not newer than the current one at " + snapshot.getIndex()
                        + (snapshot.getIndex() > snapshotFile.getIndex() ? " (a checkpoint)" : ""));
            }
            metadata = SnapshotMetadata.newBuilder().setIndex(index).setTerm(termLocked(index)).setConfState(confState).build();
        } finally {
            lock.readLock().unlock();
        }
        SnapshotMetadata saved = snapshots.save(metadata, data);
        await(wal.saveSnapshotMarker(groupId, saved, false));
        lock.writeLock().lock();
        try {
            if (saved.getIndex() > snapshot.getIndex()) {
                previousSnapshotIndex = snapshot.getIndex();
                snapshot = saved;
            } else if (saved.getIndex() == snapshot.getIndex()) {
                snapshot = saved; // The checkpoint at this index now has its file.
            }
            if (saved.getIndex() > snapshotFile.getIndex()) {
                snapshotFile = saved;
            }
        } finally {
            lock.writeLock().unlock();
        }
        snapshotFileWanted.set(false);
        releaseOld();
        return saved;
    }

    /**
     * Records a checkpoint at {@code index} (which must be in the log, and newer than the current
     * compaction point): a compaction point without a snapshot file, for a persistent state
     * machine that has made everything up to {@code index} durable itself. The caller must have
     * done that (synced its engine) before calling: from here on recovery may start the group at
     * {@code index}, trusting the state machine to be at least there. Waits until the WAL marker is
     * durable, then releases WAL segments as {@link #createSnapshot} does. The log in memory is not
     * compacted: call {@link #compact}. Blocks for one WAL force; call it off the Raft loop.
     */
    public SnapshotMetadata recordCheckpoint(long index, ConfState confState) throws IOException {
        SnapshotMetadata metadata;
        lock.readLock().lock();
        try {
            checkNotRemoved();
            if (index <= snapshot.getIndex()) {
                throw new IllegalArgumentException("checkpoint at " + index + " is not newer than the current compaction point at "
                        + snapshot.getIndex());
            }
            metadata = SnapshotMetadata.newBuilder().setIndex(index).setTerm(termLocked(index)).setConfState(confState).build();
        } finally {
            lock.readLock().unlock();
        }
        await(wal.saveCheckpointMarker(groupId, metadata));
        lock.writeLock().lock();
        try {
            if (metadata.getIndex() > snapshot.getIndex()) {
                previousSnapshotIndex = snapshot.getIndex();
                snapshot = metadata;
            }
        } finally {
            lock.writeLock().unlock();
        }
        releaseOld();
        return metadata;
    }

    /** Drops entries up to {@code index} from memory; {@code index} must be covered by the current snapshot. */
    public void compact(long index) {
        lock.writeLock().lock();
        try {
            if (index <= offsetIndex) {
                return;
            }
            if (index > snapshot.getIndex()) {
                throw new IllegalArgumentException("cannot compact to " + index + ": the newest snapshot is at " + snapshot.getIndex());
            }
            long term = termLocked(index);
            List<Entry> dropped = entries.subList(0, (int) (index - offsetIndex));
            changeEntryBytes(-bytesOf(dropped));
            dropped.clear();
            entries.trimToSize();
            offsetIndex = index;
            offsetTerm = term;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Starts receiving a snapshot from the leader; {@link SnapshotReceiver#finish()} then {@link #installSnapshot}. */
    public SnapshotReceiver receiveSnapshot(SnapshotMetadata metadata) throws IOException {
        return snapshots.receive(metadata);
    }

    /**
     * Makes a received (finished) snapshot the group's state: its log is discarded and continues
     * after it. Blocks until the WAL marker is durable.
     */
    public void installSnapshot(SnapshotMetadata metadata) throws IOException {
        lock.writeLock().lock();
        try {
            checkNotRemoved();
            if (metadata.getIndex() <= snapshot.getIndex()) {
                throw new IllegalArgumentException("snapshot at " + metadata.getIndex() + " is not newer than the current one at " + snapshot.getIndex());
            }
            CompletableFuture<Long> durable = wal.saveSnapshotMarker(groupId, metadata, true);
            previousSnapshotIndex = snapshot.getIndex();
            snapshot = metadata;
            snapshotFile = metadata;
            snapshotFileWanted.set(false);
            entries.clear();
            changeEntryBytes(-entryBytes);
            offsetIndex = metadata.getIndex();
            offsetTerm = metadata.getTerm();
            lock.writeLock().unlock();
            try {
                await(durable);
            } finally {
                lock.writeLock().lock();
            }
        } finally {
            lock.writeLock().unlock();
        }
        releaseOld();
    }

    /** The state machine's data of the newest snapshot file, decompressed as it is read. */
    public InputStream openSnapshotData(long maxDecompressedBytes) throws IOException {
        SnapshotMetadata current = snapshotFileMetadata();
        if (current.getIndex() == 0) {
            throw new IllegalStateException("there is no snapshot file");
        }
        return snapshots.openData(current, maxDecompressedBytes);
    }

    /**
     * Writes this group's retained log (its entries in memory and its hard state) again into the
     * WAL's current segment, so that no older segment holds anything it needs once this returns:
     * for a group that pins old segments ({@link StoreLog#pinningGroups()}) but cannot take a
     * snapshot yet because its pinned entries are not applied. Its fallback to an older snapshot
     * goes with those segments. Blocks until durable; returns the group's last index.
     *
     * @throws IllegalArgumentException when the retained log is larger than one WAL append may be (snapshot instead)
     */
    public long rewrite() throws IOException {
        CompletableFuture<Long> durable;
        lock.writeLock().lock();
        try {
            checkNotRemoved();
            // Under the lock, so that no append of this group slips in between the copy and the rewrite.
            durable = wal.rewrite(groupId, hardState, new ArrayList<>(entries));
        } finally {
            lock.writeLock().unlock();
        }
        long lastIndex = await(durable);
        LOG.info("group {}: rewrote its log ({} entries up to {}) so that older WAL segments can go", groupId, lastIndex - firstIndex() + 1,
                lastIndex);
        return lastIndex;
    }

    /**
     * Tells the WAL that this group no longer needs its entries up to {@code index}, which the
     * current snapshot must cover, and deletes the segments nobody needs any more; returns how
     * many. Snapshots release up to the previous snapshot on their own (keeping a fallback); this
     * lets a group that pins old segments give that fallback up. Blocks.
     */
    public int releaseWalTo(long index) throws IOException {
        lock.readLock().lock();
        try {
            checkNotRemoved();
            if (index > snapshot.getIndex()) {
                throw new IllegalArgumentException("group " + groupId + " cannot release its log to " + index
                        + ": its newest snapshot is at " + snapshot.getIndex());
            }
        } finally {
            lock.readLock().unlock();
        }
        return await(wal.releaseTo(groupId, index));
    }

    /** The shared WAL's error if it stopped (the whole store must then stop), else null. */
    public Throwable failure() {
        return wal.failure();
    }

    /** Called by {@link StoreLog#removeGroup}: every later write fails. */
    void markRemoved() {
        lock.writeLock().lock();
        try {
            // Its entries leave the store's count now, once; later changes count for this group only.
            storeEntryBytes.addAndGet(-entryBytes);
            removed = true;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void checkNotRemoved() {
        if (removed) {
            throw new IllegalStateException("group " + groupId + " was removed from this store");
        }
    }

    private void releaseOld() throws IOException {
        long releaseTo;
        lock.readLock().lock();
        try {
            if (removed) {
                return;
            }
            releaseTo = previousSnapshotIndex;
        } finally {
            lock.readLock().unlock();
        }
        if (releaseTo > 0) {
            await(wal.releaseTo(groupId, releaseTo));
        }
        snapshots.prune(keepSnapshots);
    }

    private static <T> T await(CompletableFuture<T> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the WAL", e);
        } catch (ExecutionException e) {
            throw new IOException("WAL write failed", e.getCause());
        }
    }
}
