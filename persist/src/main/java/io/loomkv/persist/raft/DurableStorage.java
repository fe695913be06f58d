package io.loomkv.persist.raft;

import com.google.protobuf.ByteString;
import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.CompactedException;
import io.loomkv.core.raft.InitialState;
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
import io.loomkv.persist.wal.EntryItem;
import io.loomkv.persist.wal.SnapshotMarker;
import io.loomkv.persist.wal.Wal;
import io.loomkv.persist.wal.WalContents;
import io.loomkv.persist.wal.WalCorruptionException;
import io.loomkv.persist.wal.WalOptions;
import io.loomkv.persist.wal.WalReplayItem;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable {@link Storage} for the Raft core: a {@link Wal} and a {@link SnapshotStore}, with
 * the entries since the last snapshot indexed in memory (as etcd's MemoryStorage fed by WAL
 * replay) and served from there.
 *
 * <p>The runtime writes through {@link #append}, {@link #createSnapshot}, {@link #compact},
 * {@link #receiveSnapshot} and {@link #installSnapshot}. The in-memory view changes as soon as a
 * write is accepted; the returned future says when it is durable, which is what the runtime must
 * wait for before acknowledging (Raft thesis 10.2.1).
 *
 * <p>Thread-safe: the Raft loop and snapshot senders/creators may call it concurrently.
 */
public final class DurableStorage implements Storage, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DurableStorage.class);

    private final DurableStorageOptions options;
    private final Wal wal;
    private final SnapshotStore snapshots;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    // Guarded by lock.
    private final ArrayList<Entry> entries = new ArrayList<>();
    private long offsetIndex; // index just before entries.get(0): firstIndex() - 1
    private long offsetTerm;
    private HardState hardState;
    private SnapshotMetadata snapshot;
    private long previousSnapshotIndex;

    private DurableStorage(DurableStorageOptions options, Wal wal, SnapshotStore snapshots, SnapshotMetadata snapshot,
                           HardState hardState, List<Entry> entries) {
        this.options = options;
        this.wal = wal;
        this.snapshots = snapshots;
        this.snapshot = snapshot;
        this.offsetIndex = snapshot.getIndex();
        this.offsetTerm = snapshot.getTerm();
        this.hardState = hardState;
        this.entries.addAll(entries);
    }

    /**
     * Recovers: picks the newest valid snapshot that the WAL has a marker for (damaged ones are
     * renamed {@code *.broken}), replays the WAL after it, and checks that nothing is missing.
     */
    public static DurableStorage open(DurableStorageOptions options) throws IOException {
        SnapshotStore snapshots = new SnapshotStore(options.directory().resolve("snap"), ZstdStreamCodec.withDefaults(), options.maxSnapshotBytes());
        WalOptions walOptions = WalOptions.defaults(options.directory().resolve("wal")).withSegmentSizeBytes(options.segmentSizeBytes())
                .withFsync(options.fsync());
        long oldestCandidate = snapshots.list().stream().mapToLong(name -> name.index()).min().orElse(0);
        Wal wal = Wal.open(walOptions, oldestCandidate);
        try {
            WalContents contents = wal.takeRecovered();
            Optional<SnapshotMetadata> chosen = snapshots.selectNewestValid(
                    name -> contents.markers().stream().anyMatch(m -> m.index() == name.index() && m.term() == name.term()));
            SnapshotMetadata snapshot = chosen.orElse(SnapshotMetadata.getDefaultInstance());
            if (snapshot.getIndex() < oldestCandidate) {
                // The snapshots we hoped to start from are unusable: read the WAL again, keeping everything.
                wal.close();
                wal = Wal.open(walOptions, snapshot.getIndex());
                WalContents full = wal.takeRecovered();
                return replay(options, wal, snapshots, snapshot, full);
            }
            return replay(options, wal, snapshots, snapshot, contents);
        } catch (IOException | RuntimeException e) {
            wal.close();
            throw e;
        }
    }

    private static DurableStorage replay(DurableStorageOptions options, Wal wal, SnapshotStore snapshots, SnapshotMetadata snapshot,
                                         WalContents contents) throws IOException {
        long base = snapshot.getIndex();
        List<Entry> log = new ArrayList<>();
        for (WalReplayItem item : contents.items()) {
            switch (item) {
                case EntryItem entryItem -> {
                    Entry entry = entryItem.entry();
                    long index = entry.getIndex();
                    if (index <= base) {
                        continue;
                    }
                    long last = base + log.size();
                    if (index > last + 1) {
                        throw new WalCorruptionException(wal.options().directory(), 0, "entry " + index + " follows " + last
                                + " (snapshot at " + base + "): entries in between are missing");
                    }
                    log.subList((int) (index - base - 1), log.size()).clear();
                    log.add(entry);
                }
                case SnapshotMarker marker -> {
                    if (marker.resetLog() && marker.index() > base) {
                        throw new WalCorruptionException(wal.options().directory(), 0, "the log was reset to snapshot " + marker.index()
                                + " installed from the leader, but that snapshot is missing or damaged; the newest usable one is at " + base);
                    }
                    if (marker.resetLog()) {
                        log.clear();
                    }
                }
            }
        }
        long last = base + log.size();
        if (contents.lastIndex() != last) {
            throw new WalCorruptionException(wal.options().directory(), 0, "the WAL ends at index " + contents.lastIndex()
                    + " but the entries after snapshot " + base + " reach only " + last);
        }
        if (contents.hardState().getCommit() > last) {
            throw new WalCorruptionException(wal.options().directory(), 0, "hard state commit " + contents.hardState().getCommit()
                    + " is beyond the last entry " + last + ": committed entries are missing");
        }
        LOG.info("recovered Raft storage in {}: snapshot at {} (term {}), entries {}..{}, hard state term {} commit {}",
                options.directory(), base, snapshot.getTerm(), base + 1, last, contents.hardState().getTerm(), contents.hardState().getCommit());
        DurableStorage storage = new DurableStorage(options, wal, snapshots, snapshot, contents.hardState(), log);
        storage.previousSnapshotIndex = base;
        return storage;
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

    @Override
    public SnapshotMetadata snapshotMetadata() {
        lock.readLock().lock();
        try {
            return snapshot;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) {
        lock.readLock().lock();
        try {
            if (metadata.getIndex() != snapshot.getIndex() || metadata.getTerm() != snapshot.getTerm() || snapshot.getIndex() == 0) {
                throw new SnapshotUnavailableException("snapshot term " + metadata.getTerm() + " index " + metadata.getIndex()
                        + " is not the newest (term " + snapshot.getTerm() + " index " + snapshot.getIndex() + ")");
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
        lock.writeLock().lock();
        try {
            if (!newEntries.isEmpty()) {
                long first = newEntries.get(0).getIndex();
                if (first <= offsetIndex) {
                    throw new IllegalArgumentException("entries start at " + first + ", inside the snapshot at " + offsetIndex);
                }
            }
            CompletableFuture<Long> durable = wal.append(newHardState, newEntries);
            if (!newEntries.isEmpty()) {
                long first = newEntries.get(0).getIndex();
                entries.subList((int) (first - offsetIndex - 1), entries.size()).clear();
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
     */
    public SnapshotMetadata createSnapshot(long index, ConfState confState, SnapshotDataWriter data) throws IOException {
        SnapshotMetadata metadata;
        lock.readLock().lock();
        try {
            if (index <= snapshot.getIndex()) {
                throw new IllegalArgumentException("snapshot at " + index + " is not newer than the current one at " + snapshot.getIndex());
            }
            metadata = SnapshotMetadata.newBuilder().setIndex(index).setTerm(termLocked(index)).setConfState(confState).build();
        } finally {
            lock.readLock().unlock();
        }
        SnapshotMetadata saved = snapshots.save(metadata, data);
        await(wal.saveSnapshotMarker(saved, false));
        lock.writeLock().lock();
        try {
            if (saved.getIndex() > snapshot.getIndex()) {
                previousSnapshotIndex = snapshot.getIndex();
                snapshot = saved;
            }
        } finally {
            lock.writeLock().unlock();
        }
        releaseOld();
        return saved;
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
            entries.subList(0, (int) (index - offsetIndex)).clear();
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
     * Makes a received (finished) snapshot the node's state: the log is discarded and continues
     * after it. Blocks until the WAL marker is durable.
     */
    public void installSnapshot(SnapshotMetadata metadata) throws IOException {
        lock.writeLock().lock();
        try {
            if (metadata.getIndex() <= snapshot.getIndex()) {
                throw new IllegalArgumentException("snapshot at " + metadata.getIndex() + " is not newer than the current one at " + snapshot.getIndex());
            }
            CompletableFuture<Long> durable = wal.saveSnapshotMarker(metadata, true);
            previousSnapshotIndex = snapshot.getIndex();
            snapshot = metadata;
            entries.clear();
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

    /** The state machine's data of the current snapshot, decompressed as it is read. */
    public InputStream openSnapshotData(long maxDecompressedBytes) throws IOException {
        SnapshotMetadata current = snapshotMetadata();
        if (current.getIndex() == 0) {
            throw new IllegalStateException("there is no snapshot");
        }
        return snapshots.openData(current, maxDecompressedBytes);
    }

    /** Number of WAL force() calls so far (0 with fsync off); for tests and metrics. */
    public long walForceCount() {
        return wal.forceCount();
    }

    /** The WAL's error if it stopped (the node must then stop too), else null. */
    public Throwable failure() {
        return wal.failure();
    }

    private void releaseOld() throws IOException {
        long releaseTo;
        lock.readLock().lock();
        try {
            releaseTo = previousSnapshotIndex;
        } finally {
            lock.readLock().unlock();
        }
        if (releaseTo > 0) {
            await(wal.releaseTo(releaseTo));
        }
        snapshots.prune(options.keepSnapshots());
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

    @Override
    public void close() throws IOException {
        wal.close();
    }
}
