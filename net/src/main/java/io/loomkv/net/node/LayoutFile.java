package io.loomkv.net.node;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The slot layout a store was created with, in {@code layout.pb} in its data directory: a CRC32C
 * of the body, then the {@link Layout} protobuf. Written once (tmp, fsync, rename, fsync of the
 * directory) when the store first starts; checked at every later start, so that a store restarted
 * with another {@code data-groups} refuses rather than serving keys from the wrong groups.
 */
final class LayoutFile {
    static final String FILE_NAME = "layout.pb";
    /** A layout of 16,384 one-slot ranges and 16,384 groups is about 400 KB; anything far larger is not one. */
    static final long MAX_BYTES = 16L << 20;

    private LayoutFile() {
    }

    static Optional<SlotLayout> read(Path dataDirectory) throws IOException {
        Path file = dataDirectory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        long size = Files.size(file);
        if (size < 4 || size > MAX_BYTES) {
            throw new IOException(file + ": " + size + " bytes is not a layout file; refusing to start");
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        int expected = buffer.getInt();
        CRC32C crc = new CRC32C();
        crc.update(bytes, 4, bytes.length - 4);
        if ((int) crc.getValue() != expected) {
            throw new IOException(file + ": checksum mismatch (the file is damaged); refusing to start");
        }
        try {
            return Optional.of(SlotLayout.fromProto(Layout.parseFrom(ByteBuffer.wrap(bytes, 4, bytes.length - 4))));
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            throw new IOException(file + ": not a valid layout: " + e.getMessage(), e);
        }
    }

    static void write(Path dataDirectory, SlotLayout layout) throws IOException {
        byte[] body = layout.toProto().toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(body);
        ByteBuffer buffer = ByteBuffer.allocate(4 + body.length).putInt((int) crc.getValue()).put(body).flip();
        Path tmp = dataDirectory.resolve(FILE_NAME + ".tmp");
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, dataDirectory.resolve(FILE_NAME));
    }
}
