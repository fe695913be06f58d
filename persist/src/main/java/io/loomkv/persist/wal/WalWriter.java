package io.loomkv.persist.wal;

import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two threads behind a {@link Wal}.
 *
 * <p>The writer drains the queue, copies every record of the drained batch into one reusable
 * direct buffer and writes it with one positional write, then hands the batch to the syncer.
 * The syncer takes everything handed over since its last force, calls {@code force(false)}
 * (fdatasync: the files are preallocated, so no metadata needs flushing) and completes those
 * appends. So at most one force is in flight, every record written before a force starts is made
 * durable by it, and the writer keeps writing the next batch while the force runs.
 *
 * <p>Closed-loop callers (each waits for its record before appending the next) otherwise split into
 * two groups that alternate between forces, halving what one force covers. So the syncer may hold
 * a force back for at most {@code maxSyncDelayMicros} while fewer appends are pending than the
 * previous force acknowledged plus those pending when it ended (an estimate of how many appenders
 * are active); with a single appender it never waits. This is PostgreSQL's {@code commit_delay}
 * idea, made adaptive.
 *
 * <p>Any I/O error is fatal: the WAL records it, fails every waiting append, and refuses new work.
 * A failed force is never retried.
 */
final class WalWriter {
    private static final Logger LOG = LoggerFactory.getLogger(WalWriter.class);
    private static final int MAX_DRAIN = 8192;
    private static final int KEPT_MARKERS = 2;

    private final WalOptions options;
    private final ArrayBlockingQueue<WalRequest> queue;
    private final SegmentPreallocator preallocator;
    private final ByteBuffer batchBuffer;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong forceCount = new AtomicLong();
    private final Thread writerThread;
    private final Thread syncerThread;
    private volatile boolean closing;

    // Owned by the writer thread.
    private final List<SegmentState> segments;
    private FileChannel channel;
    private long positionBytes;
    private long lastIndexWritten;
    private HardState lastHardState = HardState.getDefaultInstance();
    private final ArrayDeque<SnapshotMarker> recentMarkers = new ArrayDeque<>();
    private List<WalRequest.Append> writtenNotHandedOff = new ArrayList<>();
    private final boolean headerPresentAtStart;

    // Hand-off from writer to syncer, guarded by syncLock.
    private final ReentrantLock syncLock = new ReentrantLock();
    private final Condition syncWork = syncLock.newCondition();
    private final Condition syncIdle = syncLock.newCondition();
    private List<WalRequest.Append> toSync = new ArrayList<>();
    private FileChannel toSyncChannel;
    private boolean syncing;
    private boolean stopSyncer;
    private int syncerHoldTarget; // 0 unless the syncer is holding a force back

    WalWriter(WalOptions options, ArrayBlockingQueue<WalRequest> queue, WalRecovery.Result recovery) throws IOException {
        this.options = options;
        this.queue = queue;
        this.preallocator = new SegmentPreallocator(options.directory(), options.segmentSizeBytes());
        this.batchBuffer = ByteBuffer.allocateDirect(options.maxBatchBytes());
        this.segments = recovery.tail().segments();
        this.lastIndexWritten = recovery.contents().lastIndex();
        this.lastHardState = recovery.contents().hardState();
        for (SnapshotMarker marker : recovery.contents().markers()) {
            rememberMarker(marker);
        }
        this.headerPresentAtStart = recovery.tail().headerPresent();
        this.positionBytes = recovery.tail().writePositionBytes();
        this.writerThread = new Thread(this::writerLoop, "wal-writer");
        this.syncerThread = new Thread(this::syncerLoop, "wal-syncer");
        writerThread.setDaemon(true);
        syncerThread.setDaemon(true);
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
        if (segments.isEmpty()) {
            startSegment(new SegmentName(0, lastIndexWritten + 1));
        } else {
            SegmentState last = segments.get(segments.size() - 1);
            channel = FileChannel.open(last.path, StandardOpenOption.WRITE);
            if (!headerPresentAtStart) {
                LOG.info("WAL {}: last segment is blank (a crash during a cut); writing its header", last.path);
                writeSegmentHeader(last.name);
                channel.force(false);
            }
        }
        preallocator.prepareNext();
    }

    void start() {
        syncerThread.start();
        writerThread.start();
    }

    long forceCount() {
        return forceCount.get();
    }

    Throwable failure() {
        return failure.get();
    }

    int segmentCount() {
        return segments.size();
    }

    // ---- writer thread ----

    private void writerLoop() {
        List<WalRequest> batch = new ArrayList<>(1024);
        try {
            while (true) {
                WalRequest first = queue.poll(20, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing && queue.isEmpty()) {
                        break;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_DRAIN);
                process(batch);
                batch.clear();
            }
            waitUntilSynced();
        } catch (Throwable t) {
            fail(t);
            failAll(batch);
        } finally {
            syncLock.lock();
            try {
                stopSyncer = true;
                syncWork.signalAll();
            } finally {
                syncLock.unlock();
            }
        }
    }

    private void process(List<WalRequest> batch) throws IOException, InterruptedException {
        batchBuffer.clear();
        for (WalRequest request : batch) {
            switch (request) {
                case WalRequest.Append append -> write(append);
                case WalRequest.Release release -> {
                    flush();
                    release.done().complete(release(release.index()));
                }
            }
        }
        flush();
    }

    private void write(WalRequest.Append append) throws IOException, InterruptedException {
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
        if (append.hardState() != null) {
            lastHardState = append.hardState();
        }
        if (append.marker() != null) {
            rememberMarker(append.marker());
        }
        SegmentState current = segments.get(segments.size() - 1);
        current.maxEntryIndex = Math.max(current.maxEntryIndex, append.maxEntryIndex());
        lastIndexWritten = append.lastIndexAfter();
        writtenNotHandedOff.add(append);
    }

    /** Writes what is buffered, then hands every append written so far to the syncer. */
    private void flush() throws IOException {
        if (batchBuffer.position() > 0) {
            batchBuffer.flip();
            writeFully(batchBuffer);
            batchBuffer.clear();
        }
        if (writtenNotHandedOff.isEmpty()) {
            return;
        }
        syncLock.lock();
        try {
            if (toSync.isEmpty()) {
                List<WalRequest.Append> swap = toSync;
                toSync = writtenNotHandedOff;
                writtenNotHandedOff = swap;
            } else {
                toSync.addAll(writtenNotHandedOff);
                writtenNotHandedOff.clear();
            }
            toSyncChannel = channel;
            // While the syncer holds a force back it only needs waking once enough has arrived;
            // waking it for every straggler costs a context switch each on a busy machine.
            if (toSync.size() >= syncerHoldTarget) {
                syncWork.signal();
            }
        } finally {
            syncLock.unlock();
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        long end = positionBytes + buffer.remaining();
        if (end > options.segmentSizeBytes()) {
            throw new IllegalStateException("write to " + end + " would pass the segment size " + options.segmentSizeBytes());
        }
        while (buffer.hasRemaining()) {
            positionBytes += channel.write(buffer, positionBytes);
        }
    }

    /**
     * Starts the next segment. The current one is made fully durable first, so a closed segment
     * can never hold a torn record; that is what lets recovery treat damage there as corruption.
     */
    private void cut() throws IOException, InterruptedException {
        waitUntilSynced();
        SegmentState current = segments.get(segments.size() - 1);
        channel.close();
        startSegment(new SegmentName(current.name.sequence() + 1, lastIndexWritten + 1));
        preallocator.prepareNext();
    }

    private void startSegment(SegmentName name) throws IOException {
        Path path = options.directory().resolve(name.fileName());
        if (Files.exists(path)) {
            throw new IllegalStateException("segment " + path + " already exists");
        }
        Path prepared = preallocator.take();
        DurableFiles.renameDurably(prepared, path);
        channel = FileChannel.open(path, StandardOpenOption.WRITE);
        positionBytes = 0;
        segments.add(new SegmentState(name, path, lastIndexWritten));
        writeSegmentHeader(name);
        LOG.debug("WAL: started segment {}", path);
    }

    /** The header, then the current hard state and recent snapshot markers, so that older segments can be deleted. */
    private void writeSegmentHeader(SegmentName name) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        WalRecordCodec.encode(WalRecordType.SEGMENT_HEADER, WalRecovery.segmentHeaderPayload(name), buffer);
        WalRecordCodec.encode(WalRecordType.HARD_STATE, lastHardState.toByteArray(), buffer);
        for (SnapshotMarker marker : recentMarkers) {
            // Re-recorded as "compact": it must not discard entries again on replay.
            WalRecordCodec.encode(WalRecordType.SNAPSHOT_COMPACT, marker.metadata().toByteArray(), buffer);
        }
        buffer.flip();
        positionBytes = 0;
        writeFully(buffer);
    }

    private void rememberMarker(SnapshotMarker marker) {
        recentMarkers.removeIf(known -> known.index() == marker.index() && known.term() == marker.term());
        recentMarkers.addLast(marker);
        while (recentMarkers.size() > KEPT_MARKERS) {
            recentMarkers.removeFirst();
        }
    }

    private int release(long index) throws IOException {
        int released = 0;
        while (segments.size() > 1 && segments.get(0).maxEntryIndex <= index
                && segments.get(1).name.firstIndex() - 1 <= index) {
            SegmentState oldest = segments.remove(0);
            Files.delete(oldest.path);
            // One directory fsync per deletion, oldest first, so a crash never leaves a gap in the sequence.
            DurableFiles.fsyncDirectory(options.directory());
            released++;
            LOG.info("WAL: released segment {} (entries up to {} are covered by a snapshot at {})", oldest.path, oldest.maxEntryIndex, index);
        }
        return released;
    }

    private void waitUntilSynced() throws InterruptedException, IOException {
        syncLock.lock();
        try {
            while (!toSync.isEmpty() || syncing) {
                Throwable failed = failure.get();
                if (failed != null) {
                    throw new IOException("WAL failed while waiting for a force", failed);
                }
                syncIdle.await(100, TimeUnit.MILLISECONDS);
            }
            Throwable failed = failure.get();
            if (failed != null) {
                throw new IOException("WAL failed while waiting for a force", failed);
            }
        } finally {
            syncLock.unlock();
        }
    }

    // ---- syncer thread ----

    private void syncerLoop() {
        List<WalRequest.Append> spare = new ArrayList<>();
        List<WalRequest.Append> batch = spare;
        int expectedAppends = 0;
        try {
            while (true) {
                FileChannel target;
                syncLock.lock();
                try {
                    while (toSync.isEmpty()) {
                        if (stopSyncer) {
                            return;
                        }
                        syncWork.await();
                    }
                    holdForStragglers(expectedAppends);
                    batch = toSync;
                    toSync = spare;
                    target = toSyncChannel;
                    syncing = true;
                } finally {
                    syncLock.unlock();
                }
                target.force(false);
                forceCount.incrementAndGet();
                for (WalRequest.Append append : batch) {
                    append.durable().complete(append.lastIndexAfter());
                }
                int acknowledged = batch.size();
                batch.clear();
                spare = batch;
                syncLock.lock();
                try {
                    expectedAppends = acknowledged + toSync.size();
                    syncing = false;
                    syncIdle.signalAll();
                } finally {
                    syncLock.unlock();
                }
            }
        } catch (Throwable t) {
            fail(t);
            failAll(batch);
            syncLock.lock();
            try {
                syncing = false;
                syncIdle.signalAll();
            } finally {
                syncLock.unlock();
            }
        }
    }

    /** Called with syncLock held and work pending. */
    private void holdForStragglers(int expectedAppends) throws InterruptedException {
        long delayNanos = TimeUnit.MICROSECONDS.toNanos(options.maxSyncDelayMicros());
        if (delayNanos == 0 || toSync.size() >= expectedAppends) {
            return;
        }
        long deadline = System.nanoTime() + delayNanos;
        syncerHoldTarget = expectedAppends;
        try {
            while (toSync.size() < expectedAppends && !stopSyncer) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return;
                }
                syncWork.awaitNanos(remaining);
            }
        } finally {
            syncerHoldTarget = 0;
        }
    }

    // ---- failure ----

    private void fail(Throwable cause) {
        if (failure.compareAndSet(null, cause)) {
            LOG.error("WAL {} failed; it accepts no more work and the node must stop", options.directory(), cause);
        }
        syncLock.lock();
        try {
            failAll(toSync);
            toSync.clear();
            syncIdle.signalAll();
            syncWork.signalAll();
        } finally {
            syncLock.unlock();
        }
        failAll(writtenNotHandedOff);
        failQueued();
    }

    /** Fails everything still queued; called by the threads on failure and by appenders that raced with it. */
    void failQueued() {
        List<WalRequest> drained = new ArrayList<>();
        queue.drainTo(drained);
        failAll(drained);
    }

    private void failAll(List<? extends WalRequest> requests) {
        Throwable cause = failure.get();
        WalFailedException error = new WalFailedException("WAL " + options.directory() + " failed", cause);
        for (WalRequest request : requests) {
            switch (request) {
                case WalRequest.Append append -> append.durable().completeExceptionally(error);
                case WalRequest.Release release -> release.done().completeExceptionally(error);
            }
        }
    }

    void close() throws IOException {
        closing = true;
        try {
            writerThread.join();
            syncLock.lock();
            try {
                stopSyncer = true;
                syncWork.signalAll();
            } finally {
                syncLock.unlock();
            }
            syncerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the WAL", e);
        } finally {
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
