package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One data file (written by the writer or by a merge) as readers see it: a read-only channel for
 * positioned reads, its size, and a reference count. The store holds one reference while the file
 * is live; each open view that may read it holds one more. A merge retires its inputs by dropping
 * the store's reference, and the file (with its hint) is closed and deleted when the count reaches
 * zero, so a view never loses a file it needs.
 *
 * <p>A reader interrupted during a read makes the JDK close the channel for everyone
 * ({@link ClosedByInterruptException}); a file that is still referenced then opens its channel again.
 */
final class DataFile {
    private static final Logger LOG = LoggerFactory.getLogger(DataFile.class);

    final DataFileName name;
    final Path path;
    private final AtomicInteger references = new AtomicInteger(1);
    private final ReentrantLock reopenLock = new ReentrantLock();
    private volatile FileChannel readChannel;
    private volatile long sizeBytes;
    private volatile boolean closed;
    /** The merge whose commit record must outlive this file (set when a merge retires it). */
    private volatile MergeCommit retiredBy;
    private volatile long hintBytes;

    DataFile(DataFileName name, Path path, long sizeBytes) throws IOException {
        this.name = name;
        this.path = path;
        this.sizeBytes = sizeBytes;
        this.readChannel = FileChannel.open(path, StandardOpenOption.READ);
    }

    long id() {
        return name.id();
    }

    long sizeBytes() {
        return sizeBytes;
    }

    /** Only the writer moves the end of the active file, after the bytes are written. */
    void setSizeBytes(long bytes) {
        this.sizeBytes = bytes;
    }

    /** True once the channel is closed for good: the file was deleted, or the store closed. */
    boolean closed() {
        return closed;
    }

    long hintBytes() {
        return hintBytes;
    }

    void setHintBytes(long bytes) {
        this.hintBytes = bytes;
    }

    /** Reads exactly {@code length} bytes at {@code offset} with positioned reads. */
    byte[] read(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || offset + length > sizeBytes) {
            throw new BitcaskCorruptionException(path, offset, "read of " + length + " bytes passes the end of the file's "
                    + sizeBytes + " bytes of data");
        }
        byte[] bytes = new byte[length];
        for (int attempt = 0; ; attempt++) {
            FileChannel channel = readChannel;
            try {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    int read = channel.read(buffer, offset + buffer.position());
                    if (read < 0) {
                        throw new BitcaskCorruptionException(path, offset, "file ends inside a record of " + length + " bytes");
                    }
                }
                return bytes;
            } catch (ClosedChannelException e) {
                if (closed || attempt > 0) {
                    throw e;
                }
                reopen(channel);
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
            }
        }
    }

    private void reopen(FileChannel broken) throws IOException {
        reopenLock.lock();
        try {
            if (!closed && readChannel == broken) {
                LOG.info("reopening the read channel of {} (an interrupted reader closed it)", path);
                readChannel = FileChannel.open(path, StandardOpenOption.READ);
            }
        } finally {
            reopenLock.unlock();
        }
    }

    /** Takes one more reference; only ever called while the store's own reference is held. */
    void retain() {
        int before = references.getAndIncrement();
        if (before <= 0) {
            throw new IllegalStateException("file " + path + " retained after it was released for good (" + before + " references)");
        }
    }

    /** Drops a reference; at zero the file is closed and deleted (with its hint), then its merge's commit record is told. */
    void release() {
        int after = references.decrementAndGet();
        if (after < 0) {
            throw new IllegalStateException("file " + path + " released more often than retained (" + after + ")");
        }
        if (after == 0) {
            closeChannel();
            MergeCommit commit = retiredBy;
            if (commit != null) {
                commit.inputDeleted(this);
            }
        }
    }

    void markRetired(MergeCommit commit) {
        this.retiredBy = commit;
    }

    /** Closes the read channel for good (at store close, or when the last reference goes). */
    void closeChannel() {
        reopenLock.lock();
        try {
            closed = true;
            readChannel.close();
        } catch (IOException e) {
            LOG.warn("closing {} failed", path, e);
        } finally {
            reopenLock.unlock();
        }
    }

    /** Deletes the file and its hint (if any); the caller fsyncs the directory. */
    void deleteFiles() throws IOException {
        Files.deleteIfExists(path);
        Files.deleteIfExists(path.resolveSibling(name.withKind(DataFileName.Kind.HINT).fileName()));
    }
}
