package io.loomkv.net.node;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The groups of the layout the cluster was created with whose replica a replica move took off this
 * store ({@code dropped-groups} in the data directory, one id per line). Without it a restart would
 * create such a group again from the creation layout and write its initial membership, making a
 * replica that believes it is a voter of a group that removed it. Written durably (tmp, fsync,
 * rename) before the group's data is deleted; a group that comes back by a later move is created
 * by its leader as any added replica, whatever this file says.
 */
final class DroppedGroups {
    static final String FILE_NAME = "dropped-groups";
    /** Bounds the file a damaged directory could make us read. */
    private static final long MAX_BYTES = 1L << 20;

    private final Path dataDirectory;
    private final ConcurrentSkipListSet<Long> groups = new ConcurrentSkipListSet<>();
    private final java.util.concurrent.locks.ReentrantLock writeLock = new java.util.concurrent.locks.ReentrantLock();

    private DroppedGroups(Path dataDirectory) {
        this.dataDirectory = dataDirectory;
    }

    static DroppedGroups load(Path dataDirectory) throws IOException {
        DroppedGroups dropped = new DroppedGroups(dataDirectory);
        Path file = dataDirectory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return dropped;
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + " is over " + MAX_BYTES + " bytes; refusing to start");
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                dropped.groups.add(Long.parseLong(line.trim()));
            } catch (NumberFormatException e) {
                throw new IOException(file + ": '" + line + "' is not a group id; refusing to start", e);
            }
        }
        return dropped;
    }

    boolean contains(long groupId) {
        return groups.contains(groupId);
    }

    /** Records {@code groupId}, durably when this returns. */
    void add(long groupId) throws IOException {
        // A lock rather than synchronized: the caller may be a virtual thread, and this blocks on fsync.
        writeLock.lock();
        try {
            if (groups.contains(groupId)) {
                return;
            }
            Set<Long> all = new TreeSet<>(groups);
            all.add(groupId);
            StringBuilder text = new StringBuilder();
            all.forEach(id -> text.append(id).append('\n'));
            Path tmp = dataDirectory.resolve(FILE_NAME + ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            DurableFiles.renameDurably(tmp, dataDirectory.resolve(FILE_NAME));
            groups.add(groupId); // Only once durable: a failed write leaves the group to be recorded next time.
        } finally {
            writeLock.unlock();
        }
    }
}
