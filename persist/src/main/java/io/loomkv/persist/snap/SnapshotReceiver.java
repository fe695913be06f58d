package io.loomkv.persist.snap;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A snapshot arriving from the leader in chunks: raw bytes of the leader's snapshot file,
 * appended in order to a staging file, then verified and installed under its final name. Nothing
 * reaches the final name unless the whole file checks out.
 */
public final class SnapshotReceiver implements AutoCloseable {
    private final SnapshotMetadata expected;
    private final Path staging;
    private final Path target;
    private final long limitBytes;
    private final FileChannel channel;
    private long receivedBytes;
    private boolean done;

    SnapshotReceiver(SnapshotMetadata expected, Path staging, Path target, long limitBytes) throws IOException {
        this.expected = expected;
        this.staging = staging;
        this.target = target;
        this.limitBytes = limitBytes;
        Files.deleteIfExists(staging);
        this.channel = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    public long receivedBytes() {
        return receivedBytes;
    }

    /** Appends the chunk that starts at {@code offsetBytes}; chunks must arrive in order, without gaps. */
    public void append(long offsetBytes, ByteString chunk) throws IOException {
        if (done) {
            throw new IllegalStateException("receiver for " + target.getFileName() + " is finished");
        }
        if (offsetBytes != receivedBytes) {
            throw new IllegalArgumentException("chunk at offset " + offsetBytes + " but " + receivedBytes + " bytes received so far");
        }
        if (receivedBytes + chunk.size() > limitBytes) {
            throw new IllegalArgumentException("snapshot grows past its limit of " + limitBytes + " bytes");
        }
        ByteBuffer buffer = chunk.asReadOnlyByteBuffer();
        while (buffer.hasRemaining()) {
            channel.write(buffer, receivedBytes + (chunk.size() - buffer.remaining()));
        }
        receivedBytes += chunk.size();
    }

    /**
     * Fsyncs and verifies the staged file (checksum, and a header matching the expected term and
     * index), then renames it into place. Returns the metadata with the file size.
     *
     * @throws SnapshotCorruptionException when the received bytes do not form the expected snapshot (the staging file is deleted)
     */
    public SnapshotMetadata finish() throws IOException {
        if (done) {
            throw new IllegalStateException("receiver for " + target.getFileName() + " is finished");
        }
        done = true;
        try {
            channel.force(true);
            channel.close();
            SnapshotFormat.Layout layout = SnapshotFormat.verify(staging);
            SnapshotMetadata received = layout.metadata();
            if (received.getIndex() != expected.getIndex() || received.getTerm() != expected.getTerm()) {
                throw new SnapshotCorruptionException(staging, "received term " + received.getTerm() + " index " + received.getIndex()
                        + ", expected term " + expected.getTerm() + " index " + expected.getIndex());
            }
            if (expected.getSizeBytes() > 0 && expected.getSizeBytes() != layout.fileLength()) {
                throw new SnapshotCorruptionException(staging, "received " + layout.fileLength() + " bytes, expected " + expected.getSizeBytes());
            }
            DurableFiles.renameDurably(staging, target);
            return received;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(staging);
            throw e;
        }
    }

    /** Gives up: the staging file is deleted. Safe to call after {@link #finish()}. */
    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
        if (!done) {
            done = true;
            Files.deleteIfExists(staging);
        }
    }
}
