package io.loomkv.persist.bitcask;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A BitCask store: every write appends to the active data file, an in-memory key directory says
 * where each key's latest record is, and a read is one positioned read. See docs/bitcask.md for the
 * format, recovery and merge.
 *
 * <p>Threading: writes (batches, range deletes) take the write lock, one at a time; reads never
 * lock; a merge runs on its caller's thread while writes go on; views are read on any thread. A
 * reader that races with a merge retiring the file it was reading looks the key up again (the key
 * directory already points at the merged copy by then).
 *
 * <p>A batch is atomic on disk (one record group) and for views; a concurrent {@link #get} may see
 * part of a batch being applied. A write or force() failure is fatal: the store refuses every
 * further write ({@link BitcaskFailedException}); reopen it.
 */
public final class BitcaskStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BitcaskStore.class);
    /** A read retries when a merge retired its file under it; more than this many in a row means something is wrong. */
    private static final int MAX_READ_ATTEMPTS = 16;
    private static final int INITIAL_WRITE_BUFFER_BYTES = 64 * 1024;

    private final BitcaskOptions options;
    private final KeyDir keyDir;
    /** Live files by id (the active one included); retired files leave this map. */
    private final Map<Long, DataFile> files = new ConcurrentHashMap<>();
    /** Retired files that an open view still holds (for {@link #sizes}). */
    private final Map<Long, DataFile> retiredFiles = new ConcurrentHashMap<>();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ReentrantLock mergeLock = new ReentrantLock();
    private final CopyOnWriteArrayList<BitcaskView> openViews = new CopyOnWriteArrayList<>();
    private final AtomicLong nextFileId;

    // Writer state, guarded by writeLock.
    private DataFile activeFile;
    private FileChannel activeChannel;
    private long nextSequence;
    private long metadataSequence;
    /** True when the active file holds writes no force() has covered yet. */
    private boolean activeDirty;
    private byte[] writeBuffer = new byte[INITIAL_WRITE_BUFFER_BYTES];

    private volatile byte[] metadata;
    private volatile Throwable failure;
    /** Tests run writes here: after a merge's commit, before it moves keys (the window where a write must win). */
    volatile Runnable mergeCommittedHook;
    private volatile boolean closed;

    private BitcaskStore(BitcaskOptions options, BitcaskRecovery.Result recovered) {
        this.options = options;
        this.keyDir = recovered.keyDir();
        this.files.putAll(recovered.files());
        this.nextFileId = new AtomicLong(recovered.nextFileId());
        this.nextSequence = recovered.nextSequence();
        this.metadata = recovered.metadata();
        this.metadataSequence = recovered.metadataSequence();
    }

    /** Opens (or creates) the store in {@code options.directory()}, recovering from whatever a crash left. */
    public static BitcaskStore open(BitcaskOptions options) throws IOException {
        BitcaskRecovery.Result recovered = BitcaskRecovery.recover(options.directory());
        BitcaskStore store = new BitcaskStore(options, recovered);
        DataFile active = recovered.activeFile();
        if (active != null) {
            // What the last run wrote without a force may sit only in the page cache; force it now,
            // so that the file is durable before it may become immutable (only the last data file
            // may ever end in a torn write).
            try {
                FileChannel channel = options.channelOpener().open(active.path);
                channel.force(false);
                if (active.sizeBytes() < options.maxFileSizeBytes()) {
                    store.activeChannel = channel;
                    store.activeFile = active;
                } else {
                    channel.close();
                }
            } catch (IOException e) {
                store.close();
                throw e;
            }
        }
        return store;
    }

    /** The value of {@code key}, or null. */
    public byte[] get(byte[] key) {
        for (int attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
            checkOpen();
            KeyDirEntry entry = keyDir.get(key);
            if (entry == null) {
                return null;
            }
            DataFile file = files.get(entry.fileId());
            if (file == null) {
                continue; // a merge retired the file after the lookup; the key directory has moved on
            }
            try {
                return readValue(file, entry, key);
            } catch (ClosedChannelException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new UncheckedIOException("read interrupted", e);
                }
                // The file was retired and closed during the read, or the store is closing: look again.
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("the record of a key moved " + MAX_READ_ATTEMPTS + " times during one read");
    }

    /**
     * Whether {@code key} has a value: one lookup in the key directory, which holds every live key
     * (a delete removes its entry), so no data file is read.
     */
    public boolean contains(byte[] key) {
        checkOpen();
        return keyDir.get(key) != null;
    }

    /** Reads and checks the record {@code entry} points at and returns its value. */
    static byte[] readValue(DataFile file, KeyDirEntry entry, byte[] key) throws IOException {
        byte[] record = file.read(entry.offsetBytes(), entry.recordBytes());
        String wrong = RecordFormat.checkRecord(record, 0, record.length);
        if (wrong == null && (RecordFormat.recordSequence(record, 0) != entry.sequence()
                || RecordFormat.recordValueBytes(record, 0) == RecordFormat.TOMBSTONE
                || !Arrays.equals(record, RecordFormat.RECORD_HEADER_BYTES, RecordFormat.RECORD_HEADER_BYTES + key.length,
                        key, 0, key.length)
                || RecordFormat.recordKeyBytes(record, 0) != key.length)) {
            wrong = "record is not the one the key directory expects (sequence " + entry.sequence() + ")";
        }
        if (wrong != null) {
            throw new BitcaskCorruptionException(file.path, entry.offsetBytes(), wrong);
        }
        return Arrays.copyOfRange(record, RecordFormat.RECORD_HEADER_BYTES + key.length, record.length);
    }

    /**
     * Writes the batch as one record group; with {@code sync} it is on the device (fdatasync) when
     * this returns. Returns the group's sequence. A batch over a limit is refused before anything is
     * written.
     */
    public long write(BitcaskBatch batch, boolean sync) {
        checkBatch(batch);
        writeLock.lock();
        try {
            checkWritable();
            return appendLocked(batch, sync);
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Deletes every key in {@code [startKey, endKey)} ({@code endKey} null: to the end) by writing a
     * tombstone for each, in groups within the batch limits; the metadata goes with the last group,
     * so after a crash in the middle the caller's metadata still says the delete was not applied, and
     * doing it again is harmless. Returns the number of keys deleted.
     */
    public long deleteRange(byte[] startKey, byte[] endKey, byte[] metadataBlob, boolean sync) {
        if (startKey == null) {
            throw new IllegalArgumentException("startKey must not be null (use an empty array for the start)");
        }
        checkMetadata(metadataBlob);
        int metadataBytes = metadataBlob == null ? 0 : metadataBlob.length;
        writeLock.lock();
        try {
            checkWritable();
            long deleted = 0;
            while (true) {
                NavigableMap<byte[], KeyDirEntry> range = endKey == null
                        ? keyDir.map.tailMap(startKey, true) : keyDir.map.subMap(startKey, true, endKey, false);
                BitcaskBatch batch = new BitcaskBatch();
                Iterator<byte[]> keys = range.keySet().iterator();
                boolean more = false;
                while (keys.hasNext()) {
                    byte[] key = keys.next();
                    if (batch.size() == options.maxBatchOps() || batch.groupBytes() + metadataBytes
                            + RecordFormat.recordBytes(key.length, RecordFormat.TOMBSTONE) > options.maxBatchBytes()) {
                        more = true;
                        break;
                    }
                    batch.delete(key);
                }
                if (!more) {
                    batch.metadata(metadataBlob);
                }
                if (batch.size() > 0 || batch.metadata() != null) {
                    appendLocked(batch, sync);
                }
                deleted += batch.size();
                if (!more) {
                    return deleted;
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The metadata of the last group that carried one (empty before any did). */
    public byte[] metadata() {
        byte[] current = metadata;
        return current == null ? new byte[0] : current.clone();
    }

    /** Forces the active file; fails the store on an I/O error, as a synced write would. */
    public void sync() {
        writeLock.lock();
        try {
            checkWritable();
            if (activeChannel != null && activeDirty) {
                try {
                    activeChannel.force(false);
                    activeDirty = false;
                } catch (IOException e) {
                    throw fail("force of " + activeFile.path + " failed", e);
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    private void checkBatch(BitcaskBatch batch) {
        if (batch.size() > options.maxBatchOps()) {
            throw new IllegalArgumentException("batch holds " + batch.size() + " operations, the limit is " + options.maxBatchOps());
        }
        for (int i = 0; i < batch.size(); i++) {
            byte[] key = batch.key(i);
            byte[] value = batch.value(i);
            if (key.length > options.maxKeyBytes()) {
                throw new IllegalArgumentException("key of " + key.length + " bytes (op " + i + ") exceeds the limit of "
                        + options.maxKeyBytes());
            }
            if (value != null && value.length > options.maxValueBytes()) {
                throw new IllegalArgumentException("value of " + value.length + " bytes (op " + i + ") exceeds the limit of "
                        + options.maxValueBytes());
            }
        }
        checkMetadata(batch.metadata());
        if (batch.groupBytes() > options.maxBatchBytes()) {
            throw new IllegalArgumentException("batch takes " + batch.groupBytes() + " bytes on disk, the limit is " + options.maxBatchBytes());
        }
    }

    private void checkMetadata(byte[] blob) {
        if (blob != null && blob.length > options.maxMetadataBytes()) {
            throw new IllegalArgumentException("metadata of " + blob.length + " bytes exceeds the limit of " + options.maxMetadataBytes());
        }
    }

    /** Encodes, writes (and forces) one group, then points the key directory at its records. */
    private long appendLocked(BitcaskBatch batch, boolean sync) {
        int total = (int) batch.groupBytes();
        if (activeFile == null || (activeFile.sizeBytes() > 0 && activeFile.sizeBytes() + total > options.maxFileSizeBytes())) {
            rotateLocked();
        }
        if (writeBuffer.length < total) {
            writeBuffer = new byte[(int) Math.min(options.maxBatchBytes(), Math.max(total, 2L * writeBuffer.length))];
        }
        long groupSequence = nextSequence;
        byte[] blob = batch.metadata();
        int at = RecordFormat.encodeGroupHeader(writeBuffer, 0, RecordFormat.KIND_WRITE, groupSequence, batch.size(), blob,
                (int) batch.recordsBytes());
        int recordsStart = at;
        for (int i = 0; i < batch.size(); i++) {
            at += RecordFormat.encodeRecord(writeBuffer, at, groupSequence + 1 + i, batch.key(i), batch.value(i));
        }
        if (at != total) {
            throw new IllegalStateException("group encoded to " + at + " bytes, expected " + total);
        }
        long position = activeFile.sizeBytes();
        try {
            ByteBuffer source = ByteBuffer.wrap(writeBuffer, 0, total);
            while (source.hasRemaining()) {
                activeChannel.write(source, position + source.position());
            }
            activeDirty = true;
            if (sync) {
                activeChannel.force(false);
                activeDirty = false;
            }
        } catch (IOException e) {
            throw fail((sync ? "write or force" : "write") + " of " + total + " bytes at offset " + position + " of "
                    + activeFile.path + " failed", e);
        }
        activeFile.setSizeBytes(position + total);
        nextSequence = groupSequence + 1 + batch.size();
        long recordOffset = position + recordsStart;
        for (int i = 0; i < batch.size(); i++) {
            byte[] key = batch.key(i);
            byte[] value = batch.value(i);
            int recordBytes = RecordFormat.recordBytes(key.length, value == null ? RecordFormat.TOMBSTONE : value.length);
            saveBeforeImages(key);
            if (value == null) {
                keyDir.remove(key);
            } else {
                keyDir.put(key, new KeyDirEntry(activeFile.id(), recordOffset, recordBytes, groupSequence + 1 + i));
            }
            recordOffset += recordBytes;
        }
        if (blob != null) {
            metadata = blob.clone();
            metadataSequence = groupSequence;
        }
        return groupSequence;
    }

    /** Before the key directory changes a key, each open view keeps what the key was when the view was taken. */
    private void saveBeforeImages(byte[] key) {
        if (openViews.isEmpty()) {
            return;
        }
        KeyDirEntry current = keyDir.get(key);
        for (BitcaskView view : openViews) {
            view.saveBeforeImage(key, current);
        }
    }

    /**
     * Makes the active file immutable (forced first, so that only the last data file can ever end
     * in a torn write) and starts a new one, whose name is made durable before anything is written to it.
     */
    private void rotateLocked() {
        DataFile previous = activeFile;
        try {
            if (activeChannel != null) {
                if (activeDirty) {
                    activeChannel.force(false);
                    activeDirty = false;
                }
                activeChannel.close();
                activeChannel = null;
            }
        } catch (IOException e) {
            throw fail("force of " + previous.path + " before starting a new data file failed", e);
        }
        DataFileName name = new DataFileName(nextFileId.getAndIncrement(), DataFileName.Kind.DATA);
        Path path = options.directory().resolve(name.fileName());
        try {
            activeChannel = options.channelOpener().open(path);
            DurableFiles.fsyncDirectory(options.directory());
            activeFile = new DataFile(name, path, 0);
        } catch (IOException e) {
            throw fail("creating data file " + path + " failed", e);
        }
        files.put(name.id(), activeFile);
        LOG.debug("BitCask {}: new active file {}", options.directory(), name.fileName());
    }

    private BitcaskFailedException fail(String message, IOException cause) {
        failure = cause;
        LOG.error("BitCask {}: {}; the store refuses further writes", options.directory(), message, cause);
        return new BitcaskFailedException(message + "; the store refuses further writes", cause);
    }

    private void checkWritable() {
        checkOpen();
        Throwable failed = failure;
        if (failed != null) {
            throw new BitcaskFailedException("the store failed earlier and refuses writes; reopen it", failed);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("BitCask store " + options.directory() + " is closed");
        }
    }

    /**
     * A point-in-time view of every key as of now; writes and merges go on. Close it: while it is
     * open it keeps the files it may read, and a before-image of each key written since.
     */
    public BitcaskView openView() {
        writeLock.lock();
        try {
            checkOpen();
            if (openViews.size() >= options.maxOpenViews()) {
                throw new IllegalStateException("already " + openViews.size() + " views open, the limit is " + options.maxOpenViews());
            }
            Map<Long, DataFile> held = new ConcurrentHashMap<>();
            for (DataFile file : files.values()) {
                file.retain();
                held.put(file.id(), file);
            }
            byte[] current = metadata;
            BitcaskView view = new BitcaskView(this, keyDir.map, held, current == null ? new byte[0] : current.clone(),
                    nextSequence - 1, keyDir.keyCount());
            openViews.add(view);
            return view;
        } finally {
            writeLock.unlock();
        }
    }

    /** Called by {@link BitcaskView#close}: forget the view, then let go of its files (deleting retired ones, outside the lock). */
    void closeView(BitcaskView view, Map<Long, DataFile> held) {
        writeLock.lock();
        try {
            if (!openViews.remove(view)) {
                return;
            }
        } finally {
            writeLock.unlock();
        }
        for (DataFile file : held.values()) {
            file.release();
        }
    }

    /**
     * Merges every immutable file (all but the active one) into new files that hold only the
     * latest record of each live key, writes their hint files, and retires the inputs; writes go on
     * meanwhile. One merge at a time: a call while another merge runs waits for it.
     */
    public MergeResult merge() throws IOException {
        mergeLock.lock();
        try {
            checkWritable();
            return new Merge(this).run();
        } finally {
            mergeLock.unlock();
        }
    }

    // The merge's hooks into the store.

    BitcaskOptions options() {
        return options;
    }

    KeyDir keyDir() {
        return keyDir;
    }

    long allocateFileId() {
        return nextFileId.getAndIncrement();
    }

    boolean closing() {
        return closed || failure != null;
    }

    /** Every immutable file at this moment, oldest first, and the metadata they carry at most. */
    List<DataFile> mergeInputs() {
        writeLock.lock();
        try {
            List<DataFile> inputs = new ArrayList<>();
            for (DataFile file : files.values()) {
                if (file != activeFile) {
                    inputs.add(file);
                }
            }
            inputs.sort(Comparator.comparingLong(DataFile::id));
            return inputs;
        } finally {
            writeLock.unlock();
        }
    }

    /** Makes committed merge outputs readable; every open view takes them too (the key directory will point into them). */
    void publishMergeOutputs(List<DataFile> outputs) {
        writeLock.lock();
        try {
            for (DataFile output : outputs) {
                files.put(output.id(), output);
                for (BitcaskView view : openViews) {
                    view.adopt(output);
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Moves keys to their merged copies, unless a write replaced them since the merge read them; returns how many moved. */
    int swapLocked(List<byte[]> keys, List<KeyDirEntry> merged) {
        writeLock.lock();
        try {
            int moved = 0;
            for (int i = 0; i < keys.size(); i++) {
                KeyDirEntry current = keyDir.get(keys.get(i));
                KeyDirEntry copy = merged.get(i);
                if (current != null && current.sequence() == copy.sequence() && current.fileId() != copy.fileId()
                        && keyDir.swap(keys.get(i), current, copy)) {
                    moved++;
                }
            }
            return moved;
        } finally {
            writeLock.unlock();
        }
    }

    /** Takes the inputs out of the live set; each is deleted when the last view holding it closes (now, if none does). */
    void retireMergeInputs(List<DataFile> inputs, MergeCommit commit) {
        writeLock.lock();
        try {
            for (DataFile input : inputs) {
                if (files.remove(input.id()) != input) {
                    throw new IllegalStateException("merge input " + input.path + " was not live");
                }
                input.markRetired(commit);
                retiredFiles.put(input.id(), input);
            }
        } finally {
            writeLock.unlock();
        }
        for (DataFile input : inputs) {
            input.release();
        }
    }

    /** Key counts and bytes for status and metrics. */
    public BitcaskSizes sizes() {
        long diskBytes = 0;
        for (DataFile file : files.values()) {
            diskBytes += file.sizeBytes() + file.hintBytes();
        }
        for (DataFile file : retiredFiles.values()) {
            if (file.closed()) {
                retiredFiles.remove(file.id(), file);
            } else {
                diskBytes += file.sizeBytes() + file.hintBytes();
            }
        }
        long viewBytes = 0;
        for (BitcaskView view : openViews) {
            viewBytes += view.beforeImageBytesEstimate();
        }
        return new BitcaskSizes(keyDir.keyCount(), diskBytes, keyDir.liveRecordBytes(), keyDir.memoryBytesEstimate() + viewBytes,
                files.size(), openViews.size());
    }

    /** A copy of the key directory (tests compare directories rebuilt in different ways). */
    NavigableMap<byte[], KeyDirEntry> keyDirCopy() {
        return new java.util.TreeMap<>(keyDir.map);
    }

    /** Ids of the live files (tests). */
    List<Long> liveFileIds() {
        List<Long> ids = new ArrayList<>(files.keySet());
        ids.sort(null);
        return ids;
    }

    /**
     * Forces the active file (unless the store failed: what a failed force left is for recovery to
     * judge) and closes every file; waits for a running merge to stop first.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        mergeLock.lock();
        writeLock.lock();
        try {
            if (activeChannel != null) {
                try {
                    if (failure == null && activeDirty) {
                        activeChannel.force(false);
                    }
                    activeChannel.close();
                } catch (IOException e) {
                    LOG.warn("BitCask {}: closing the active file failed", options.directory(), e);
                }
                activeChannel = null;
            }
            for (DataFile file : files.values()) {
                file.closeChannel();
            }
            for (DataFile file : retiredFiles.values()) {
                file.closeChannel();
            }
            openViews.clear();
        } finally {
            writeLock.unlock();
            mergeLock.unlock();
        }
    }
}
