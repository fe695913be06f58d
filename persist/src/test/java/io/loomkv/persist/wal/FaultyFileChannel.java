package io.loomkv.persist.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** A FileChannel that delegates to a real one but fails force() or write() on demand, as a dying disk would. */
public final class FaultyFileChannel extends FileChannel {
    private final FileChannel delegate;
    private final AtomicReference<String> failForceWith;
    private final AtomicReference<String> failWriteWith;
    private final AtomicInteger forceCalls;

    public FaultyFileChannel(FileChannel delegate, AtomicReference<String> failForceWith, AtomicReference<String> failWriteWith, AtomicInteger forceCalls) {
        this.delegate = delegate;
        this.failForceWith = failForceWith;
        this.failWriteWith = failWriteWith;
        this.forceCalls = forceCalls;
    }

    private void maybeFailWrite() throws IOException {
        String message = failWriteWith.get();
        if (message != null) {
            throw new IOException(message);
        }
    }

    @Override
    public void force(boolean metaData) throws IOException {
        forceCalls.incrementAndGet();
        String message = failForceWith.get();
        if (message != null) {
            throw new IOException(message);
        }
        delegate.force(metaData);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        maybeFailWrite();
        return delegate.write(src, position);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        maybeFailWrite();
        return delegate.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        maybeFailWrite();
        return delegate.write(srcs, offset, length);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return delegate.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return delegate.read(dst, position);
    }

    @Override
    public long position() throws IOException {
        return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        delegate.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return delegate.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        delegate.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return delegate.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        maybeFailWrite();
        return delegate.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        delegate.close();
    }
}
