package io.loomkv.persist.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * File-system steps that make a new or renamed file survive a power loss: a file's data is
 * only durable after {@code force}, and its name only after the directory itself is fsynced.
 */
public final class DurableFiles {
    private static final int ZERO_CHUNK_BYTES = 1 << 20;

    private DurableFiles() {
    }

    /** Fsyncs a directory so that creations, renames and deletions in it are durable (Linux allows opening a directory read-only for this). */
    public static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Renames {@code tmp} to {@code target} atomically, then fsyncs the directory so that the new name is durable. */
    public static void renameDurably(Path tmp, Path target) throws IOException {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /** A read-only direct buffer of zeros to pass to {@link #writeZeros(FileChannel, long, long, ByteBuffer)} repeatedly. */
    public static ByteBuffer zeroBuffer() {
        return ByteBuffer.allocateDirect(ZERO_CHUNK_BYTES).asReadOnlyBuffer();
    }

    /**
     * Writes zeros over {@code [fromOffset, toOffset)} of an open channel. Used to preallocate
     * segments (so that fdatasync need not update block maps) and to clear a torn tail.
     */
    public static void writeZeros(FileChannel channel, long fromOffset, long toOffset) throws IOException {
        long length = Math.max(0, toOffset - fromOffset);
        writeZeros(channel, fromOffset, toOffset, ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK_BYTES, Math.max(1, length))));
    }

    /** {@link #writeZeros(FileChannel, long, long)} from {@code zeros}, a buffer holding only zeros (not modified). */
    public static void writeZeros(FileChannel channel, long fromOffset, long toOffset, ByteBuffer zeros) throws IOException {
        if (fromOffset < 0 || toOffset < fromOffset) {
            throw new IllegalArgumentException("bad zero range [" + fromOffset + ", " + toOffset + ")");
        }
        long position = fromOffset;
        while (position < toOffset) {
            ByteBuffer source = zeros.duplicate().clear();
            source.limit((int) Math.min(source.capacity(), toOffset - position));
            while (source.hasRemaining()) {
                position += channel.write(source, position);
            }
        }
    }
}
