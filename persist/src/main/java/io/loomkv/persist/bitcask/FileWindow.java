package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A sliding read buffer over a file for sequential scans (recovery, merge, hint loading): one
 * positioned read per MiB instead of one per record. The window grows only to hold one item
 * larger than it, and an item never exceeds the file.
 */
final class FileWindow {
    private static final int INITIAL_BYTES = 1 << 20;

    private final FileChannel channel;
    private final long fileBytes;
    private byte[] bytes = new byte[INITIAL_BYTES];
    private long start;
    private int filled;

    FileWindow(FileChannel channel, long fileBytes) {
        this.channel = channel;
        this.fileBytes = fileBytes;
    }

    long fileBytes() {
        return fileBytes;
    }

    /** The buffer; {@code [position, position + n)} of the file sits at {@link #indexOf(long)} after a {@link #load} that returned n. */
    byte[] bytes() {
        return bytes;
    }

    int indexOf(long position) {
        return (int) (position - start);
    }

    long positionOf(int index) {
        return start + index;
    }

    /** Makes {@code [position, position + length)} available (as much of it as the file holds) and returns how many bytes are there. */
    int load(long position, int length) throws IOException {
        long available = Math.min(length, fileBytes - position);
        if (available <= 0) {
            return 0;
        }
        if (position >= start && position + available <= start + filled) {
            return (int) available;
        }
        if (available > bytes.length) {
            bytes = new byte[(int) available];
        }
        start = position;
        ByteBuffer buffer = ByteBuffer.wrap(bytes, 0, (int) Math.min(bytes.length, fileBytes - position));
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                break;
            }
        }
        filled = buffer.position();
        return (int) Math.min(available, filled);
    }
}
