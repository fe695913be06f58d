package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongUnaryOperator;

/**
 * A segmented write-ahead log for one disk, shared by every Raft group of a store, with group
 * commit (model: etcd's {@code wal} for the records, TiKV's raft-engine for the sharing).
 *
 * <p>Every record belongs to a group (its id is the first 8 bytes of the payload), and one force
 * makes every group's records written before it durable. Appends are validated and ordered here,
 * on the caller's thread, then queued (bounded) for a single writer thread; see {@link WalWriter}
 * for how writes and forces overlap. Each append's future (or, from {@link #submit}, its
 * {@link WalTicket}) completes with the group's last index once the append is durable (once
 * written, for an append that does not need to be synced), or fails with
 * {@link WalFailedException} when an I/O error stopped the WAL for good.
 *
 * <p>Log semantics follow Raft, per group: an entry at index i that is already present replaces
 * the entry at i and everything after it; a snapshot installed from the leader ({@code resetLog})
 * discards the group's whole log before it. A group comes into being with its first record and
 * leaves with {@link #dropGroup}.
 *
 * <p>Old segments go once no group needs them ({@link #releaseTo}). A group that writes little
 * keeps them alive: {@link #pinningGroups()} names such groups once the WAL holds more than
 * {@link WalOptions#maxRetainedSegments()} segments, and {@link #rewrite} frees a group that
 * cannot snapshot yet by writing its retained log again.
 */
public final class Wal implements AutoCloseable {
    /** The largest a GROUP_STATE record in a segment header can be (a hard state with every field at its widest). */
    static final int GROUP_STATE_RECORD_MAX_BYTES = WalRecordCodec.groupRecordBytes(WalRecordType.GROUP_STATE,
            HardState.newBuilder().setTerm(-1).setVote(-1).setCommit(-1).build().getSerializedSize());

    private final WalOptions options;
    private final ReentrantLock appendLock = new ReentrantLock();
    private final AppendQueue queue;
    private final WalWriter writer;
    private WalContents recovered;
    // Guarded by appendLock.
    private final Map<Long, WalGroup> groups = new HashMap<>();
    /** An upper bound of what the next segment header takes; kept within what a segment leaves beside the largest append. */
    private long headerBytesBound = SegmentHeader.RECORD_BYTES;
    private boolean closed;

    private Wal(WalOptions options, WalRecovery.Result recovery, SegmentChannelFactory channelFactory, Executor fillExecutor)
            throws IOException {
        this.options = options;
        this.queue = new AppendQueue(options.queueCapacity());
        this.recovered = recovery.contents();
        for (WalGroup group : recovery.liveGroups()) {
            groups.put(group.id, group);
            headerBytesBound += headerBytesOf(group);
        }
        this.writer = new WalWriter(options, queue, recovery, channelFactory, fillExecutor);
    }

    /**
     * Recovers the WAL in {@code options.directory()} (creating it when empty) and starts its writer.
     *
     * @param keepEntriesAboveIndexByGroup per group id, the index at or below which entries are
     *     checked but not kept in {@link #takeRecovered()} (e.g. its oldest snapshot's index)
     * @throws WalCorruptionException when the log is damaged beyond a torn tail, or was written by the single-group format
     */
    public static Wal open(WalOptions options, LongUnaryOperator keepEntriesAboveIndexByGroup) throws IOException {
        return open(options, keepEntriesAboveIndexByGroup, SegmentChannelFactory.DEFAULT);
    }

    /** As {@link #open(WalOptions, LongUnaryOperator)}, with segment channels from {@code channelFactory} (tests inject failures). */
    static Wal open(WalOptions options, LongUnaryOperator keepEntriesAboveIndexByGroup, SegmentChannelFactory channelFactory)
            throws IOException {
        return open(options, keepEntriesAboveIndexByGroup, channelFactory, null);
    }

    /** As above, with the next segments' zero fills run by {@code fillExecutor} (tests hold them back; null: the WAL's own thread). */
    static Wal open(WalOptions options, LongUnaryOperator keepEntriesAboveIndexByGroup, SegmentChannelFactory channelFactory,
            Executor fillExecutor) throws IOException {
        Objects.requireNonNull(keepEntriesAboveIndexByGroup, "keepEntriesAboveIndexByGroup");
        WalRecovery.Result recovery = WalRecovery.recover(options.directory(), keepEntriesAboveIndexByGroup);
        Wal wal = new Wal(options, recovery, channelFactory, fillExecutor);
        wal.writer.start();
        return wal;
    }

    /** What recovery found, per group; handed out once, so that the entries can be garbage collected after replay. */
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
     * Appends entries and/or a hard state to a group's log. Entries must have consecutive indexes
     * starting at most at the group's {@code lastIndex + 1}, and above where its log starts.
     *
     * @param hardState the new hard state, or null to keep the last one
     * @param mustSync whether the append must be forced to the device before it is reported. False
     *     (a hard state whose only change is the commit index) causes no force of its own: the
     *     future completes once the append is written, and the next force makes it durable
     * @return completes with the group's last index once the records are durable (written, without {@code mustSync})
     */
    public CompletableFuture<Long> append(long groupId, HardState hardState, List<Entry> entries, boolean mustSync) {
        return enqueueAppend(groupId, hardState, entries, mustSync, new CompletableFuture<>()).future();
    }

    /**
     * Appends as {@link #append} does, but reports durability through a {@link WalTicket} instead
     * of a future: cheaper when one thread appends and then waits (group commit wakes many such
     * threads after every force, and this wakes each directly).
     */
    public WalTicket submit(long groupId, HardState hardState, List<Entry> entries, boolean mustSync) {
        return enqueueAppend(groupId, hardState, entries, mustSync, null).ticket();
    }

    private WalRequest.Append enqueueAppend(long groupId, HardState hardState, List<Entry> entries, boolean mustSync,
            CompletableFuture<Long> future) {
        checkGroupId(groupId);
        Objects.requireNonNull(entries, "entries");
        if (hardState == null && entries.isEmpty()) {
            throw new IllegalArgumentException("nothing to append to group " + groupId + ": no hard state and no entries");
        }
        long firstIndex = checkConsecutive(groupId, entries);
        long totalBytes = 0;
        for (Entry entry : entries) {
            totalBytes += WalRecordCodec.groupRecordBytes(WalRecordType.ENTRY, entry.getSerializedSize());
        }
        if (hardState != null) {
            totalBytes += WalRecordCodec.groupRecordBytes(WalRecordType.HARD_STATE, hardState.getSerializedSize());
        }
        checkSize(totalBytes);
        // Encoded here, on the caller's thread and outside the lock, straight into one array.
        byte[] bytes = new byte[(int) totalBytes];
        int offset = 0;
        for (Entry entry : entries) {
            offset += WalRecordCodec.encodeGroupRecord(WalRecordType.ENTRY, groupId, entry, bytes, offset);
        }
        if (hardState != null) {
            offset += WalRecordCodec.encodeGroupRecord(WalRecordType.HARD_STATE, groupId, hardState, bytes, offset);
        }
        checkEncoded(offset, bytes);
        int recordCount = entries.size() + (hardState != null ? 1 : 0);
        appendLock.lock();
        try {
            checkOpen();
            WalGroup existing = groups.get(groupId);
            WalGroup group = existing != null ? existing : newGroup(groupId);
            if (!entries.isEmpty() && (firstIndex > group.lastIndex + 1 || firstIndex <= group.logStartIndex)) {
                throw new IllegalArgumentException("entries of group " + groupId + " start at index " + firstIndex + " but its log holds ("
                        + group.logStartIndex + ", " + group.lastIndex + "]" + (firstIndex > group.lastIndex + 1 ? ": a gap" : ""));
            }
            long after = entries.isEmpty() ? group.lastIndex : firstIndex + entries.size() - 1;
            WalRequest.Append request = new WalRequest.Append(bytes, group, hardState, null, after, recordCount, mustSync,
                    !entries.isEmpty(), WalRequest.Effect.NONE, new WalTicket(after), future);
            enqueue(request);
            if (existing == null) {
                addGroup(group);
            }
            group.lastIndex = after;
            return request;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Records a snapshot of a group. With {@code resetLog} (a snapshot installed from the leader)
     * the group's log is emptied and continues at {@code metadata.index + 1}; otherwise (a local
     * snapshot) the log is unchanged and the marker only tells recovery that this snapshot exists.
     */
    public CompletableFuture<Long> saveSnapshotMarker(long groupId, SnapshotMetadata metadata, boolean resetLog) {
        return saveMarker(groupId, new SnapshotMarker(metadata, resetLog));
    }

    /**
     * Records a compaction point of a group without a snapshot file: its persistent state machine
     * made everything up to {@code metadata.index} durable, so recovery may start the group there
     * and the WAL may later let go of what comes before (as after a local snapshot, the log is
     * unchanged). Durable when the future completes.
     */
    public CompletableFuture<Long> saveCheckpointMarker(long groupId, SnapshotMetadata metadata) {
        return saveMarker(groupId, new SnapshotMarker(metadata, false, true));
    }

    private CompletableFuture<Long> saveMarker(long groupId, SnapshotMarker marker) {
        checkGroupId(groupId);
        SnapshotMetadata metadata = marker.metadata();
        boolean resetLog = marker.resetLog();
        WalRecordType type = markerRecordType(marker);
        byte[] bytes = new byte[WalRecordCodec.groupRecordBytes(type, metadata.getSerializedSize())];
        checkEncoded(WalRecordCodec.encodeGroupRecord(type, groupId, metadata, bytes, 0), bytes);
        checkSize(bytes.length);
        appendLock.lock();
        try {
            checkOpen();
            WalGroup existing = groups.get(groupId);
            WalGroup group = existing != null ? existing : newGroup(groupId);
            if (!resetLog && metadata.getIndex() > group.lastIndex) {
                throw new IllegalArgumentException("local snapshot of group " + groupId + " at index " + metadata.getIndex()
                        + " is beyond its log's last index " + group.lastIndex);
            }
            int markerBytes = markerRecordBytes(metadata);
            long growth = markerBytes > group.largestMarkerRecordBytes
                    ? (long) WalGroup.KEPT_MARKERS * (markerBytes - group.largestMarkerRecordBytes) : 0;
            checkHeaderRoom(growth + (existing == null ? headerBytesOf(group) : 0), groupId);
            long after = resetLog ? metadata.getIndex() : group.lastIndex;
            CompletableFuture<Long> future = new CompletableFuture<>();
            enqueue(new WalRequest.Append(bytes, group, null, marker, after, 1, true, resetLog, WalRequest.Effect.NONE,
                    new WalTicket(after), future));
            if (existing == null) {
                addGroup(group);
            }
            headerBytesBound += growth;
            group.largestMarkerRecordBytes = Math.max(group.largestMarkerRecordBytes, markerBytes);
            group.lastIndex = after;
            if (resetLog) {
                group.logStartIndex = after;
            }
            return future;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Writes a group's retained log again, so that no older segment holds anything the group needs
     * once this is durable (raft-engine's purge rewrite): for a group that pins old segments but
     * cannot take a snapshot yet, such as a lagging follower whose entries are not applied.
     * {@code retained} must be the group's whole log from some index on, ending at its last index
     * (empty: the log ends where it starts). Recovery counts the rewrite only once its end record
     * is read, so a crash in the middle changes nothing; after it, the group's log starts at the
     * first retained entry.
     *
     * @param hardState the group's current hard state
     * @return completes with the group's last index once the rewrite is durable
     */
    public CompletableFuture<Long> rewrite(long groupId, HardState hardState, List<Entry> retained) {
        checkGroupId(groupId);
        Objects.requireNonNull(hardState, "hardState");
        Objects.requireNonNull(retained, "retained");
        long firstIndex = checkConsecutive(groupId, retained);
        long totalBytes = WalRecordCodec.groupRecordBytes(WalRecordType.REWRITE_END, hardState.getSerializedSize());
        for (Entry entry : retained) {
            totalBytes += WalRecordCodec.groupRecordBytes(WalRecordType.REWRITTEN_ENTRY, entry.getSerializedSize());
        }
        if (totalBytes > options.maxAppendBytes()) {
            throw new IllegalArgumentException("rewriting group " + groupId + " takes " + totalBytes + " bytes, more than maxAppendBytes "
                    + options.maxAppendBytes() + ": it must take a snapshot instead");
        }
        byte[] bytes = new byte[(int) totalBytes];
        int offset = 0;
        for (Entry entry : retained) {
            offset += WalRecordCodec.encodeGroupRecord(WalRecordType.REWRITTEN_ENTRY, groupId, entry, bytes, offset);
        }
        appendLock.lock();
        try {
            checkOpen();
            WalGroup group = existingGroup(groupId);
            long last = retained.isEmpty() ? group.lastIndex : firstIndex + retained.size() - 1;
            long start = retained.isEmpty() ? group.lastIndex : firstIndex - 1;
            if (last != group.lastIndex || start < group.logStartIndex) {
                throw new IllegalArgumentException("rewrite of group " + groupId + " holds (" + start + ", " + last
                        + "], which is not a suffix of its log (" + group.logStartIndex + ", " + group.lastIndex + "]");
            }
            offset += WalRecordCodec.encodeGroupRecord(WalRecordType.REWRITE_END, groupId, start, last, hardState, bytes, offset);
            checkEncoded(offset, bytes);
            CompletableFuture<Long> future = new CompletableFuture<>();
            enqueue(new WalRequest.Append(bytes, group, hardState, null, last, retained.size() + 1, true, true, WalRequest.Effect.REWRITE,
                    new WalTicket(last), future));
            group.logStartIndex = start;
            return future;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Says that the group's entries at or below {@code index} are covered by a durable snapshot
     * and no longer needed, then deletes the oldest segments that no group needs any more (never
     * the one being written). Completes with the number of segments deleted.
     */
    public CompletableFuture<Integer> releaseTo(long groupId, long index) {
        checkGroupId(groupId);
        appendLock.lock();
        try {
            checkOpen();
            WalGroup group = existingGroup(groupId);
            if (index < 0 || index > group.lastIndex) {
                throw new IllegalArgumentException("cannot release group " + groupId + " to index " + index + ": its log ends at " + group.lastIndex);
            }
            WalRequest.Release request = new WalRequest.Release(group, index, new CompletableFuture<>());
            enqueue(request);
            return request.done();
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * Removes a group (its replica left this store): a durable record says so, so that recovery
     * forgets everything written for it before, and none of its records holds a segment any more.
     * Appending to the same id afterwards starts a new, empty group. Completes once the record is durable.
     */
    public CompletableFuture<Void> dropGroup(long groupId) {
        checkGroupId(groupId);
        byte[] bytes = new byte[WalRecordCodec.groupRecordBytes(WalRecordType.GROUP_DROPPED, 0)];
        checkEncoded(WalRecordCodec.encodeGroupRecord(WalRecordType.GROUP_DROPPED, groupId, null, bytes, 0), bytes);
        appendLock.lock();
        try {
            checkOpen();
            WalGroup group = existingGroup(groupId);
            CompletableFuture<Long> future = new CompletableFuture<>();
            enqueue(new WalRequest.Append(bytes, group, null, null, group.lastIndex, 1, true, false, WalRequest.Effect.DROP,
                    new WalTicket(group.lastIndex), future));
            groups.remove(groupId);
            headerBytesBound -= headerBytesOf(group);
            return future.thenApply(lastIndex -> null);
        } finally {
            appendLock.unlock();
        }
    }

    /** The index of the group's last entry appended (durable or not); 0 for a group the WAL holds nothing of. */
    public long lastIndex(long groupId) {
        appendLock.lock();
        try {
            WalGroup group = groups.get(groupId);
            return group == null ? 0 : group.lastIndex;
        } finally {
            appendLock.unlock();
        }
    }

    /** The groups the WAL holds records of (appended, not dropped), in ascending order. */
    public List<Long> groupIds() {
        appendLock.lock();
        try {
            List<Long> ids = new ArrayList<>(groups.keySet());
            ids.sort(null);
            return ids;
        } finally {
            appendLock.unlock();
        }
    }

    /**
     * The groups that keep segments beyond {@link WalOptions#maxRetainedSegments()} alive, those
     * pinning the oldest segments first; empty while the WAL is within its bound. Refreshed at
     * every cut, release, and durable drop or rewrite.
     */
    public List<PinningGroup> pinningGroups() {
        return writer.pinningGroups();
    }

    /** Reports every write and force of the writer thread to {@code observer} from now on (metrics). */
    public void observe(WalObserver observer) {
        writer.observe(observer);
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

    /** Bytes the segments take on disk (they are preallocated to their full size). */
    public long segmentBytes() {
        return writer.segmentCount() * options.segmentSizeBytes();
    }

    /**
     * Segments started sparse because the background zero fill of the next one had not finished
     * (the WAL was filling segments faster than the fill ran); their fdatasyncs cost more.
     */
    public long sparseSegmentCount() {
        return writer.sparseSegmentCount();
    }

    /** The record type of a marker, as written when it is recorded and in every segment header that repeats it. */
    static WalRecordType markerRecordType(SnapshotMarker marker) {
        if (marker.checkpoint()) {
            return WalRecordType.SNAPSHOT_CHECKPOINT;
        }
        return marker.resetLog() ? WalRecordType.SNAPSHOT_RESET : WalRecordType.SNAPSHOT_COMPACT;
    }

    /** Bytes a snapshot marker's record takes (in an append and in every segment header that repeats it). */
    static int markerRecordBytes(SnapshotMetadata metadata) {
        return WalRecordCodec.groupRecordBytes(WalRecordType.SNAPSHOT_COMPACT, metadata.getSerializedSize());
    }

    private static long headerBytesOf(WalGroup group) {
        return GROUP_STATE_RECORD_MAX_BYTES + (long) WalGroup.KEPT_MARKERS * group.largestMarkerRecordBytes;
    }

    /** A group's first record: its segment header records must still leave room for the largest append. */
    private WalGroup newGroup(long groupId) {
        WalGroup group = new WalGroup(groupId);
        checkHeaderRoom(headerBytesOf(group), groupId);
        return group;
    }

    private void addGroup(WalGroup group) {
        groups.put(group.id, group);
        headerBytesBound += headerBytesOf(group);
    }

    private void checkHeaderRoom(long growthBytes, long groupId) {
        if (growthBytes > 0 && headerBytesBound + growthBytes + options.maxAppendBytes() > options.segmentSizeBytes()) {
            throw new IllegalArgumentException("group " + groupId + " does not fit: segment headers would take up to "
                    + (headerBytesBound + growthBytes) + " bytes for " + (groups.size() + 1) + " groups, and a " + options.segmentSizeBytes()
                    + " byte segment must also hold an append of " + options.maxAppendBytes() + " bytes: use larger segments");
        }
    }

    private WalGroup existingGroup(long groupId) {
        WalGroup group = groups.get(groupId);
        if (group == null) {
            throw new IllegalArgumentException("the WAL holds no group " + groupId);
        }
        return group;
    }

    private static void checkGroupId(long groupId) {
        if (groupId < 0) {
            throw new IllegalArgumentException("group id must be >= 0, got " + groupId);
        }
    }

    /** Checks that entries have consecutive indexes >= 1; returns the first index (0 when there are none). */
    private static long checkConsecutive(long groupId, List<Entry> entries) {
        long firstIndex = entries.isEmpty() ? 0 : entries.get(0).getIndex();
        for (int i = 0; i < entries.size(); i++) {
            Entry entry = entries.get(i);
            if (entry.getIndex() != firstIndex + i || entry.getIndex() < 1) {
                throw new IllegalArgumentException("entries of group " + groupId + " must have consecutive indexes >= 1: position " + i
                        + " has index " + entry.getIndex() + ", expected " + (firstIndex + i));
            }
        }
        return firstIndex;
    }

    private static void checkEncoded(int encodedBytes, byte[] bytes) {
        if (encodedBytes != bytes.length) {
            throw new IllegalStateException("encoded " + encodedBytes + " bytes, sized " + bytes.length);
        }
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
