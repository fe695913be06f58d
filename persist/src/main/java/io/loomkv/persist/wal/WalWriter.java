package io.loomkv.persist.wal;

import com.google.protobuf.MessageLite;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one writer thread behind a {@link Wal} (one writer per disk).
 *
 * <p>It drains everything queued, copies the records into one reusable direct buffer, writes them
 * with one positional write, calls {@code force(false)} (fdatasync: segments are preallocated, so
 * no metadata needs flushing) and completes those appends. While it forces, new appends queue up
 * and are all covered by the next force: so every record written since the last force is made
 * durable by the next one, and at most one force is ever in flight.
 *
 * <p>Why not a separate syncer thread that forces while the writer writes the next batch: writing
 * a batch into the page cache takes microseconds against a force's hundreds, and the extra thread
 * hand-offs cost more than that overlap saves on a small, busy machine: in back-to-back runs of
 * {@code loomkv bench wal --duration 5s} on the shared 2-core box, this design did 28.6k and 33.4k
 * records/s against 21.9k and 25.9k for a writer + syncer pair (fdatasync then took ~1.2 ms).
 *
 * <p>Closed-loop callers (each waits for its record before appending the next) come back right
 * after a force completes them, a few at a time. Forcing as soon as the first is back would split
 * them into groups that alternate between forces, halving what one force covers. So the writer
 * may wait up to {@code maxSyncDelayMicros} for as many appends as the previous force acknowledged
 * plus those that queued during it (an estimate of how many appenders are active: see
 * {@link AppendQueue} for why appends and not records); with a single appender it never waits. This is PostgreSQL's {@code commit_delay} idea, made adaptive. The
 * writer waits for such a group in one wait, woken only by the append that completes it (or by
 * the delay running out), rather than once for the first arrival and again for the rest: on a
 * busy 2-core machine every wake-up of this thread is a context switch that the returning
 * appenders' threads pay for as well.
 *
 * <p>It reports durability per append through the append's {@link WalTicket} (which unparks the
 * one thread waiting on it) and, for {@link Wal#append}, its future.
 *
 * <p>With {@link WalOptions#virtualWriter()} the writer is a virtual thread. For many virtual
 * appenders that removes both OS-level hand-offs from a round: after force() returns, the
 * writer's carrier goes straight on to unpark the appenders (pushes onto its own queue) instead of
 * waking a parked carrier, and the last appender wakes the writer the same way instead of through
 * a futex. While the group comes back the writer yields its carrier rather than parking with a
 * timeout ({@link #yieldForGroup}): a timed park of a virtual thread arms a scheduler timer, which
 * wakes the timer thread. On tmpfs (force() nearly free, so a round is all overhead), 64 appenders
 * in back-to-back runs at load 3-4: 67-87 us per round against 157-180 us with the platform
 * writer.
 *
 * <p>With {@link WalOptions#fsync()} off the writer skips the force (and the straggler hold) and
 * completes appends as soon as their write has returned; see {@link WalOptions} for what that keeps.
 *
 * <p>All groups share the one stream: a force makes every group's records written before it
 * durable. An append that needs no durability ({@code mustSync} false: a commit-only hard state)
 * never causes a force of its own: in a batch without any append that must be synced, appends are
 * reported as soon as they are written, and the next force covers them. Forces for other reasons
 * stay: a cut makes the closed segment durable, and segments are deleted only once the segment
 * being written (its header above all) is durable.
 *
 * <p>Segments are cut with every live group's state at their head (see {@link #writeSegmentHeader}),
 * and the {@link SegmentLedger} decides when old ones go. Releases, and the drops and rewrites
 * that unpin segments, take effect after the batch's force, never before what they rely on is
 * durable.
 *
 * <p>Any I/O error is fatal: the WAL records it, fails every waiting append, and refuses new work.
 * A failed force is never retried (the kernel may have dropped the dirty pages already).
 */
final class WalWriter {
    private static final Logger LOG = LoggerFactory.getLogger(WalWriter.class);
    private static final int MAX_DRAIN = 8192;

    private final WalOptions options;
    private final SegmentChannelFactory channelFactory;
    private final AppendQueue queue;
    private final SegmentPreallocator preallocator;
    private final ByteBuffer batchBuffer;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong forceCount = new AtomicLong();
    private final AtomicLong forceNanos = new AtomicLong();
    private final AtomicLong writeNanos = new AtomicLong();
    private final AtomicLong completeNanos = new AtomicLong();
    private final VirtualThreadWaker waker = new VirtualThreadWaker("wal-waker");
    private final AppendCompletion completion;
    private final Thread writerThread;
    private volatile boolean closing;
    /** Set once before or while the WAL runs; read by the writer thread. */
    private volatile WalObserver observer = WalObserver.NONE;

    // Owned by the writer thread.
    private final SegmentLedger ledger;
    /** The groups whose state heads every new segment: every group written to and not dropped. */
    private final List<WalGroup> liveGroups;
    private FileChannel channel;
    private long positionBytes;
    /** Records in the WAL since the first segment's name began counting: names the next segment. */
    private long recordCount;
    /** Bytes were written since the last force. */
    private boolean unforced;
    private final List<WalRequest.Append> writtenNotDurable = new ArrayList<>();
    /** Some append in {@link #writtenNotDurable} must be forced before it is reported. */
    private boolean syncPending;
    /** A drop or rewrite became durable: older segments may have lost their last pin. */
    private boolean unpinnedSinceLastDeletion;
    private final List<WalRequest.Release> releases = new ArrayList<>();
    private byte[] headerScratch = new byte[256];
    private long expectedRecords;
    private final boolean headerPresentAtStart;

    /** @param fillExecutor runs the segment preallocator's zero fills; null: its own thread (see {@link SegmentPreallocator}) */
    WalWriter(WalOptions options, AppendQueue queue, WalRecovery.Result recovery, SegmentChannelFactory channelFactory,
            Executor fillExecutor) throws IOException {
        this.options = options;
        this.channelFactory = channelFactory;
        this.queue = queue;
        this.preallocator = new SegmentPreallocator(options.directory(), options.segmentSizeBytes(), fillExecutor);
        this.batchBuffer = ByteBuffer.allocateDirect(options.maxBatchBytes());
        this.completion = new AppendCompletion(options.virtualWriter(), waker);
        this.ledger = new SegmentLedger(options.directory(), options.maxRetainedSegments(), recovery.tail().segments());
        this.liveGroups = new ArrayList<>(recovery.liveGroups());
        for (WalGroup group : liveGroups) {
            group.listed = true;
        }
        this.recordCount = recovery.tail().recordCount();
        this.headerPresentAtStart = recovery.tail().headerPresent();
        this.positionBytes = recovery.tail().writePositionBytes();
        // The opening thread's logging context (a store's node id, see net's LogContext) goes with the writer's lines.
        Map<String, String> logContext = MDC.getCopyOfContextMap();
        Runnable loop = logContext == null ? this::writerLoop : () -> {
            MDC.setContextMap(logContext);
            writerLoop();
        };
        this.writerThread = options.virtualWriter()
                ? Thread.ofVirtual().name("wal-writer").unstarted(loop)
                : Thread.ofPlatform().name("wal-writer").daemon().unstarted(loop);
        try {
            openTail();
        } catch (IOException | RuntimeException e) {
            preallocator.close();
            if (channel != null) {
                channel.close();
            }
            throw e;
        }
    }

    private void openTail() throws IOException {
        if (ledger.isEmpty()) {
            startSegment(new SegmentName(0, recordCount), preallocator.takePrepared());
        } else {
            SegmentState last = ledger.current();
            channel = channelFactory.open(last.path);
            if (!headerPresentAtStart) {
                LOG.info("WAL {}: last segment is blank (a crash during a cut); writing its header", last.path);
                writeSegmentHeader(last.name);
                channel.force(false);
                unforced = false;
            }
        }
        preallocator.prepareNext();
    }

    void start() {
        if (!options.virtualWriter()) {
            waker.start();
        }
        writerThread.start();
    }

    long forceCount() {
        return forceCount.get();
    }

    void observe(WalObserver observer) {
        this.observer = java.util.Objects.requireNonNull(observer, "observer");
    }

    long forceNanos() {
        return forceNanos.get();
    }

    long writeNanos() {
        return writeNanos.get();
    }

    long completeNanos() {
        return completeNanos.get();
    }

    Throwable failure() {
        return failure.get();
    }

    int segmentCount() {
        return ledger.segmentCount();
    }

    List<PinningGroup> pinningGroups() {
        return ledger.pinningGroups();
    }

    long sparseSegmentCount() {
        return preallocator.sparseSegments();
    }

    // ---- writer thread ----

    private void writerLoop() {
        List<WalRequest> batch = new ArrayList<>(1024);
        // Long: close() wakes the writer (AppendQueue.stopWaits), so an idle WAL needs no periodic wake-up.
        long idleWaitNanos = TimeUnit.SECONDS.toNanos(1);
        try {
            while (true) {
                if (gather(batch, idleWaitNanos) == 0) {
                    if (closing && queue.size() == 0) {
                        // Appends that needed no sync were reported when written; closing makes them durable too.
                        forceIfUnforced();
                        break;
                    }
                    continue;
                }
                long writeStart = System.nanoTime();
                process(batch);
                writeNanos.addAndGet(System.nanoTime() - writeStart);
                expectedRecords = forceAndComplete();
                batch.clear();
            }
        } catch (Throwable t) {
            fail(t);
            failAll(batch);
        }
    }

    /**
     * Collects the next batch. Right after a force that acknowledged several appenders, it waits
     * once for all of them to come back (bounded; see the class comment); otherwise it waits for
     * the first request and then holds for stragglers. Returns how many requests it collected.
     */
    private int gather(List<WalRequest> batch, long idleWaitNanos) throws InterruptedException {
        long delayNanos = options.fsync() ? TimeUnit.MICROSECONDS.toNanos(options.maxSyncDelayMicros()) : 0;
        if (delayNanos > 0 && expectedRecords > 1) {
            // Appenders released by a force need a moment to come back: give the first of them twice the delay.
            int gathered = options.virtualWriter()
                    ? yieldForGroup(batch, delayNanos)
                    : queue.awaitGroup(batch, expectedRecords, delayNanos, 2 * delayNanos, MAX_DRAIN);
            if (gathered > 0) {
                return gathered;
            }
        }
        if (queue.awaitAndDrain(batch, 1, idleWaitNanos, MAX_DRAIN) == 0) {
            return 0;
        }
        holdForStragglers(batch);
        return batch.size();
    }

    /**
     * The virtual writer's way to gather a returning group: it yields its carrier, so that the
     * appenders the last force released (queued on the same carriers) run and append, until as
     * many appends as expected are queued; with the same bounds as {@link AppendQueue#awaitGroup}
     * (twice the delay for the first, the delay after the first). No timed park: on a virtual
     * thread every timed park arms and cancels a scheduler timer, which wakes the timer thread.
     */
    private int yieldForGroup(List<WalRequest> batch, long delayNanos) {
        long start = System.nanoTime();
        long firstSeenNanos = 0;
        while (true) {
            long queued = queue.queuedCountEstimate();
            if (queued >= expectedRecords) {
                break;
            }
            long now = System.nanoTime();
            if (queued == 0 && now - start >= 2 * delayNanos) {
                break;
            }
            if (queued > 0) {
                if (firstSeenNanos == 0) {
                    firstSeenNanos = now;
                } else if (now - firstSeenNanos >= delayNanos) {
                    break;
                }
            }
            Thread.yield();
        }
        return queue.drainAvailable(batch, MAX_DRAIN);
    }

    /** Waits (bounded) for appenders that the last force released to come back; see the class comment. */
    private void holdForStragglers(List<WalRequest> batch) throws InterruptedException {
        // Without a force there is no expensive step to share, so holding a batch back only adds latency.
        long delayNanos = options.fsync() ? TimeUnit.MICROSECONDS.toNanos(options.maxSyncDelayMicros()) : 0;
        long have = batch.size();
        if (delayNanos == 0 || have >= expectedRecords || batch.size() >= MAX_DRAIN) {
            return;
        }
        queue.awaitAndDrain(batch, expectedRecords - have, delayNanos, MAX_DRAIN - batch.size());
    }

    /**
     * Forces the current segment, unless no append written since the last force must be synced,
     * lets the drops, rewrites and releases among them take effect (deleting the segments they
     * free), and completes every append written since. Returns how many appends the next group can
     * expect: those a force acknowledged (their appenders may come back) plus those that queued
     * during it; 0 when nothing was forced.
     */
    private long forceAndComplete() throws IOException {
        if (writtenNotDurable.isEmpty()) {
            releaseSegments();
            return 0;
        }
        boolean forced = syncPending && options.fsync();
        if (forced) {
            force();
        }
        // else: with fsync off the records are in the OS page cache, which is what "durable" means
        // then (see WalOptions); without a sync append, "written" is all they asked for.
        // Before the appends are reported: when a drop or rewrite completes, the segments it freed are gone.
        applyEffects();
        releaseSegments();
        long completeStart = System.nanoTime();
        // Read before waking anyone: appenders woken below queue again and must not be counted twice
        // (an estimate that counted them twice would make every group wait out the whole delay).
        long queuedDuringForce = queue.queuedCountEstimate();
        long count = writtenNotDurable.size();
        completion.completeAll(writtenNotDurable);
        writtenNotDurable.clear();
        syncPending = false;
        completeNanos.addAndGet(System.nanoTime() - completeStart);
        return forced || !options.fsync() ? count + queuedDuringForce : 0;
    }

    private void force() throws IOException {
        long forceStart = System.nanoTime();
        channel.force(false);
        long forcedNanos = System.nanoTime() - forceStart;
        forceNanos.addAndGet(forcedNanos);
        observer.forced(forcedNanos);
        forceCount.incrementAndGet();
        unforced = false;
    }

    /** Forces what was written since the last force, if anything (with fsync on). */
    private void forceIfUnforced() throws IOException {
        if (unforced && options.fsync()) {
            force();
        }
    }

    /** Drops and rewrites unpin segments once durable; the current segment holds the rewrite (a cut completes appends first). */
    private void applyEffects() {
        for (WalRequest.Append append : writtenNotDurable) {
            switch (append.effect()) {
                case NONE -> {
                }
                case REWRITE -> {
                    append.group().rewrittenInSegment = ledger.current().sequence();
                    unpinnedSinceLastDeletion = true;
                }
                case DROP -> {
                    append.group().dropped = true;
                    unpinnedSinceLastDeletion = true;
                }
            }
        }
    }

    /**
     * Applies the batch's releases and deletes the segments no group pins any more. The segment
     * being written is forced first: its header holds the state the deleted segments held.
     */
    private void releaseSegments() throws IOException {
        if (releases.isEmpty() && !unpinnedSinceLastDeletion) {
            return;
        }
        forceIfUnforced();
        unpinnedSinceLastDeletion = false;
        if (releases.isEmpty()) {
            ledger.deleteUnpinned();
            return;
        }
        for (WalRequest.Release release : releases) {
            release.group().releasedIndex = Math.max(release.group().releasedIndex, release.index());
            release.done().complete(ledger.deleteUnpinned());
        }
        releases.clear();
    }

    private void process(List<WalRequest> batch) throws IOException {
        batchBuffer.clear();
        for (WalRequest request : batch) {
            switch (request) {
                case WalRequest.Append append -> write(append);
                case WalRequest.Release release -> releases.add(release);
            }
        }
        flush();
    }

    private void write(WalRequest.Append append) throws IOException {
        int length = append.bytes().length;
        if (positionBytes + batchBuffer.position() + length > options.segmentSizeBytes()) {
            flush();
            cut();
        }
        if (length > batchBuffer.remaining()) {
            flush();
        }
        if (length > batchBuffer.capacity()) {
            writeFully(ByteBuffer.wrap(append.bytes()));
        } else {
            batchBuffer.put(append.bytes());
        }
        recordCount += append.recordCount();
        WalGroup group = append.group();
        if (!group.listed) {
            group.listed = true;
            liveGroups.add(group);
        }
        if (append.hardState() != null) {
            group.hardState = append.hardState();
        }
        if (append.marker() != null) {
            group.rememberMarker(append.marker());
        }
        group.lastIndexWritten = append.lastIndexAfter();
        if (append.entryBearing()) {
            ledger.current().noteEntries(group);
        }
        if (append.effect() == WalRequest.Effect.DROP) {
            // No later segment header names it; its drop record makes recovery forget the older ones.
            liveGroups.remove(group);
            group.listed = false;
        }
        syncPending |= append.mustSync();
        writtenNotDurable.add(append);
    }

    /** Writes what is buffered. */
    private void flush() throws IOException {
        if (batchBuffer.position() > 0) {
            batchBuffer.flip();
            writeFully(batchBuffer);
            batchBuffer.clear();
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        long end = positionBytes + buffer.remaining();
        if (end > options.segmentSizeBytes()) {
            throw new IllegalStateException("write to " + end + " would pass the segment size " + options.segmentSizeBytes());
        }
        long written = 0;
        while (buffer.hasRemaining()) {
            int bytes = channel.write(buffer, positionBytes);
            positionBytes += bytes;
            written += bytes;
        }
        unforced = true;
        observer.written(written);
    }

    /**
     * Starts the next segment. The current one is made fully durable first, so a closed segment
     * can never hold a torn record; that is what lets recovery treat damage there as corruption.
     */
    private void cut() throws IOException {
        forceAndComplete();
        forceIfUnforced();
        SegmentState current = ledger.current();
        current.close();
        channel.close();
        startSegment(new SegmentName(current.sequence() + 1, recordCount), preallocator.take());
        preallocator.prepareNext();
    }

    /** Renames {@code prepared} (a zero-filled or sparse file of the segment size) into place as segment {@code name}. */
    private void startSegment(SegmentName name, Path prepared) throws IOException {
        Path path = options.directory().resolve(name.fileName());
        if (Files.exists(path)) {
            throw new IllegalStateException("segment " + path + " already exists");
        }
        DurableFiles.renameDurably(prepared, path);
        channel = channelFactory.open(path);
        positionBytes = 0;
        ledger.add(new SegmentState(name, path));
        writeSegmentHeader(name);
        LOG.debug("WAL: started segment {}", path);
    }

    /**
     * The header, then every live group's state (its last index and hard state) and recent
     * snapshot markers, so that older segments can be deleted without losing them. With many
     * groups this is many records: they go out through the batch buffer in chunks, so a thousand
     * groups take no bigger buffer. {@link Wal} keeps the header within what a segment leaves
     * beside the largest append.
     */
    private void writeSegmentHeader(SegmentName name) throws IOException {
        if (batchBuffer.position() != 0) {
            throw new IllegalStateException("segment header written with " + batchBuffer.position() + " bytes still buffered");
        }
        positionBytes = 0;
        batchBuffer.put(WalRecordCodec.encode(WalRecordType.SEGMENT_HEADER,
                new SegmentHeader(name.sequence(), name.firstRecordNumber(), liveGroups.size()).payload()));
        long records = 1;
        for (WalGroup group : liveGroups) {
            HardState hardState = group.hardState != null ? group.hardState : HardState.getDefaultInstance();
            putHeaderRecord(WalRecordType.GROUP_STATE, group.id, group.lastIndexWritten, hardState);
            records++;
            for (SnapshotMarker marker : group.recentMarkers()) {
                // Re-recorded as "compact" (or "checkpoint"): it must not discard entries again on replay.
                putHeaderRecord(marker.checkpoint() ? WalRecordType.SNAPSHOT_CHECKPOINT : WalRecordType.SNAPSHOT_COMPACT, group.id, 0,
                        marker.metadata());
                records++;
            }
        }
        flush();
        recordCount += records;
    }

    private void putHeaderRecord(WalRecordType type, long groupId, long fixed, MessageLite message) throws IOException {
        int bytes = WalRecordCodec.groupRecordBytes(type, message.getSerializedSize());
        if (bytes > headerScratch.length) {
            headerScratch = new byte[Math.max(bytes, 2 * headerScratch.length)];
        }
        WalRecordCodec.encodeGroupRecord(type, groupId, fixed, 0, message, headerScratch, 0);
        if (bytes > batchBuffer.remaining()) {
            flush();
        }
        if (bytes > batchBuffer.capacity()) {
            writeFully(ByteBuffer.wrap(headerScratch, 0, bytes));
        } else {
            batchBuffer.put(headerScratch, 0, bytes);
        }
    }

    // ---- failure ----

    private void fail(Throwable cause) {
        if (failure.compareAndSet(null, cause)) {
            LOG.error("WAL {} failed; it accepts no more work and the node must stop", options.directory(), cause);
        }
        failAll(writtenNotDurable);
        writtenNotDurable.clear();
        failAll(releases);
        releases.clear();
        failQueued();
    }

    /** Fails everything still queued; called by the threads on failure and by appenders that raced with it. */
    void failQueued() {
        List<WalRequest> drained = new ArrayList<>();
        queue.drainAll(drained);
        failAll(drained);
    }

    private void failAll(List<? extends WalRequest> requests) {
        Throwable cause = failure.get();
        WalFailedException error = new WalFailedException("WAL " + options.directory() + " failed", cause);
        for (WalRequest request : requests) {
            switch (request) {
                case WalRequest.Append append -> append.completeFailed(error);
                case WalRequest.Release release -> release.done().completeExceptionally(error);
            }
        }
    }

    void close() throws IOException {
        closing = true;
        queue.stopWaits();
        try {
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the WAL", e);
        } finally {
            waker.close();
            preallocator.close();
            if (channel != null) {
                channel.close();
            }
        }
        Throwable failed = failure.get();
        if (failed != null) {
            LOG.warn("WAL {} closed after a failure: {}", options.directory(), failed.toString());
        }
    }
}
