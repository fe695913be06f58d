package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A segmented write-ahead log for one disk, with group commit (model: etcd's {@code wal}).
 *
 * <p>Appends are validated and ordered here, on the caller's thread, then queued (bounded) for a
 * single writer thread; see {@link WalWriter} for how writes and forces overlap. Each append's
 * future (or, from {@link #submit}, its {@link WalTicket}) completes with the log's last index once
 * everything up to it is durable, or fails with {@link WalFailedException} when an I/O error
 * stopped the WAL for good.
 *
 * <p>Log semantics follow Raft: an entry at index i that is already present replaces the entry at
 * i and everything after it; a snapshot installed from the leader ({@code resetLog}) discards the
 * whole log before it.
 */
public final class Wal implements AutoCloseable {
    private final WalOptions options;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final AppendQueue queue;
    private final WalWriter writer;
    private WalContents recovered;
    private long lastIndex; // guarded by appendLock
    private boolean closed; // guarded by appendLock

    private Wal(WalOptions options, WalRecovery.Result recovery, SegmentChannelFactory channelFactory,
            Executor fillExecutor) throws IOException {
        this.options = options;
        this.queue = new AppendQueue(options.queueCapacity());
        this.recovered = recovery.contents();
        this.lastIndex = recovery.contents().lastIndex();
        this.writer = new WalWriter(options, queue, recovery, channelFactory, fillExecutor);
    }

    /**
     * Recovers the WAL in {@code options.directory()} (creating it when empty) and starts its writer.
     *
     * @param keepEntriesAboveIndex entries at or below this index are checked but not kept in {@link #recovered()}
     * @throws WalCorruptionException when the log is damaged beyond a torn tail
     */
    public static Wal open(WalOptions options, long keepEntriesAboveIndex) throws IOException {
        return open(options, keepEntriesAboveIndex, SegmentChannelFactory.DEFAULT);
    }

    /** As {@link #open(WalOptions, long)}, with segment channels from {@code channelFactory} (tests inject failures). */
    static Wal open(WalOptions options, long keepEntriesAboveIndex, SegmentChannelFactory channelFactory) throws IOException {
        return open(options, keepEntriesAboveIndex, channelFactory, null);
    }

    /** As above, with the next segments' zero fills run by {@code fillExecutor} (tests hold them back; null: the WAL's own thread). */
    static Wal open(WalOptions options, long keepEntriesAboveIndex, SegmentChannelFactory channelFactory,
            Executor fillExecutor) throws IOException {
        WalRecovery.Result recovery = WalRecovery.recover(options.directory(), keepEntriesAboveIndex);
        Wal wal = new Wal(options, recovery, channelFactory, fillExecutor);
        wal.writer.start();
        return wal;
    }

    /** What recovery found; handed out once, so that the entries can be garbage collected after replay. */
    public WalContents takeRecovered() {
        WalContents contents = recovered;
        if (contents == null) {
            throw new IllegalStateException("recovered contents were already taken");
        }
        recovered = null;
        return contents;
    }

    public WalOptions options() {
        return options;
    }

    /**
     * Appends entries and/or a hard state. Entries must have consecutive indexes starting at most
     * at {@code lastIndex() + 1}.
     *
     * @param hardState the new hard state, or null to keep the last one
     * @return completes with the last index once the records are durable
     */
    public CompletableFuture<Long> append(HardState hardState, List<Entry> entries) {
        return enqueueAppend(hardState, entries, new CompletableFuture<>()).future();
    }

    /**
     * Appends as {@link #append} does, but reports durability through a {@link WalTicket} instead
     * of a future: cheaper when one thread appends and then waits (group commit wakes many such
     * threads after every force, and this wakes each directly).
     */
    public WalTicket submit(HardState hardState, List<Entry> entries) {
        return enqueueAppend(hardState, entries, null).ticket();
    }

    private WalRequest.Append enqueueAppend(HardState hardState, List<Entry> entries, CompletableFuture<Long> future) {
        Objects.requireNonNull(entries, "entries");
        if (hardState == null && entries.isEmpty()) {
            throw new IllegalArgumentException("nothing to append: no hard state and no entries");
        }
        long firstIndex = entries.isEmpty() ? 0 : entries.get(0).getIndex();
        long totalBytes = 0;
        for (int i = 0; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            if (entry.getIndex() != firstIndex + i || entry.getIndex() < 1) {
                throw new IllegalArgumentException("entries must have consecutive indexes >= 1: position " + i
                        + " has index " + entry.getIndex() + ", expected " + (firstIndex + i));
            }
            totalBytes += WalRecordCodec.recordBytes(entry.getSerializedSize());
        }
        if (hardState != null) {
            totalBytes += WalRecordCodec.recordBytes(hardState.getSerializedSize());
        }
        checkSize(totalBytes);
        // Encoded here, on the caller's thread and outside the lock, straight into one array.
        byte[] bytes = new byte[(int) totalBytes];
        int offset = 0;
        for (Entry entry : entries) {
            offset += WalRecordCodec.encode(WalRecordType.ENTRY, entry, bytes, offset);
        }
        if (hardState != null) {
            offset += WalRecordCodec.encode(WalRecordType.HARD_STATE, hardState, bytes, offset);
        }
        if (offset != bytes.length) {
            throw new IllegalStateException("encoded " + offset + " bytes, sized " + bytes.length);
        }
        long maxEntryIndex = entries.isEmpty() ? 0 : firstIndex + entries.size() - 1;
        appendLock.lock();
        try {
            checkOpen();
            if (!entries.isEmpty() && firstIndex > lastIndex + 1) {
                throw new IllegalArgumentException("entries start at index " + firstIndex + " but the log ends at " + lastIndex + ": a gap");
            }
            long after = entries.isEmpty() ? lastIndex : maxEntryIndex;
            WalRequest.Append request = new WalRequest.Append(bytes, hardState, null, after, maxEntryIndex, new WalTicket(after), future);
            enqueue(request);
            lastIndex = after;
            return request;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Records a snapshot. With {@code resetLog} (a snapshot installed from the leader) the log is
     * emptied and continues at {@code metadata.index + 1}; otherwise (a local snapshot) the log is
     * unchanged and the marker only tells recovery that this snapshot exists.
     */
    public CompletableFuture<Long> saveSnapshotMarker(SnapshotMetadata metadata, boolean resetLog) {
        SnapshotMarker marker = new SnapshotMarker(metadata, resetLog);
        byte[] bytes = WalRecordCodec.encode(resetLog ? WalRecordType.SNAPSHOT_RESET : WalRecordType.SNAPSHOT_COMPACT, metadata.toByteArray());
        checkSize(bytes);
        appendLock.lock();
        try {
            checkOpen();
            if (!resetLog && metadata.getIndex() > lastIndex) {
                throw new IllegalArgumentException("local snapshot at index " + metadata.getIndex() + " is beyond the log's last index " + lastIndex);
            }
            long after = resetLog ? metadata.getIndex() : lastIndex;
            WalRequest.Append request = new WalRequest.Append(bytes, null, marker, after, 0, new WalTicket(after), new CompletableFuture<>());
            enqueue(request);
            lastIndex = after;
            return request.future();
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Deletes the oldest segments whose entries are all at or below {@code index} (never the segment
     * being written). Completes with the number of segments deleted.
     */
    public CompletableFuture<Integer> releaseTo(long index) {
        appendLock.lock();
        try {
            checkOpen();
            WalRequest.Release request = new WalRequest.Release(index, new CompletableFuture<>());
            enqueue(request);
            return request.done();
        } finally {
            appendLock.unlock();
        }
    }

    /** The index of the last entry appended (durable or not). */
    public long lastIndex() {
        appendLock.lock();
        try {
            return lastIndex;
        } finally {
            appendLock.unlock();
        }
    }

    /** Number of force() calls completed so far (for benchmarks and tests). */
    public long forceCount() {
        return writer.forceCount();
    }

    /**
     * Time spent inside the group-commit force() calls so far, in nanoseconds (for benchmarks: on a
     * shared machine it separates the device's share of a commit round from the rest).
     */
    public long forceNanos() {
        return writer.forceNanos();
    }

    /** Time the writer spent writing batches to the OS (for benchmarks: part of a group commit round that is not force()). */
    public long writeNanos() {
        return writer.writeNanos();
    }

    /** Time the writer spent reporting appends durable and waking their waiters after forces (for benchmarks). */
    public long completeNanos() {
        return writer.completeNanos();
    }

    /** The error that stopped the WAL, or null while it works. */
    public Throwable failure() {
        return writer.failure();
    }

    /** Number of segment files the writer currently tracks. */
    public int segmentCount() {
        return writer.segmentCount();
    }

    /**
     * Segments started sparse because the background zero fill of the next one had not finished
     * (the WAL was filling segments faster than the fill ran); their fdatasyncs cost more.
     */
    public long sparseSegmentCount() {
        return writer.sparseSegmentCount();
    }

    private void checkSize(byte[] bytes) {
        checkSize(bytes.length);
    }

    private void checkSize(long bytes) {
        if (bytes > options.maxAppendBytes()) {
            throw new IllegalArgumentException("append encodes to " + bytes + " bytes, more than maxAppendBytes "
                    + options.maxAppendBytes() + ": split it");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("WAL " + options.directory() + " is closed");
        }
        Throwable failure = writer.failure();
        if (failure != null) {
            throw new WalFailedException("WAL " + options.directory() + " failed earlier and accepts no more work", failure);
        }
    }

    private void enqueue(WalRequest request) {
        try {
            while (!queue.offer(request, 50, TimeUnit.MILLISECONDS)) {
                checkOpen();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for room in the WAL queue", e);
        }
        // The writer may have failed after the check above and drained the queue before our offer.
        if (writer.failure() != null) {
            writer.failQueued();
        }
    }

    /** Stops accepting work, makes everything queued durable, and stops the threads. */
    @Override
    public void close() throws IOException {
        appendLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            appendLock.unlock();
        }
        writer.close();
    }
}
