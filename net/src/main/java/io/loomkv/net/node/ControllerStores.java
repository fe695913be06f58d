package io.loomkv.net.node;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The stores group 0, the shard controller, was created on: the {@value #REPLICAS} initial members
 * with the lowest ids (all of them when there are fewer). Every initial member computes the same
 * list from the same {@code members}, and keeps it in {@value #FILE_NAME} in its data directory, so
 * a later edit of {@code members} cannot move the controller; a store that joins later copies the
 * list from a member. The created stores bootstrap group 0 and are configuration 1's list of its
 * stores; a replica move of group 0 (controller ReplaceReplica) changes the list in later
 * configurations, and each store keeps the newest one it saw in {@value #LATEST_FILE_NAME}, so that
 * after a restart it finds the controller even when no created store hosts it any more.
 */
final class ControllerStores {
    static final String FILE_NAME = "controller-stores";
    static final String LATEST_FILE_NAME = "controller-stores-latest";
    /** Three replicas: the controller survives one store down, as the data groups do by default. */
    static final int REPLICAS = 3;
    private static final long MAX_FILE_BYTES = 4096;

    private ControllerStores() {
    }

    /** The lowest {@value #REPLICAS} ids of {@code memberIds}, ascending. */
    static List<Long> initial(List<Long> memberIds) {
        if (memberIds.isEmpty()) {
            throw new IllegalArgumentException("a cluster needs at least one member to host its shard controller");
        }
        return memberIds.stream().sorted().distinct().limit(REPLICAS).toList();
    }

    static Optional<List<Long>> read(Path dataDirectory) throws IOException {
        return readFile(dataDirectory.resolve(FILE_NAME));
    }

    /** The stores the newest configuration this store saw lists for group 0, if it saw one that does. */
    static Optional<List<Long>> readLatest(Path dataDirectory) throws IOException {
        return readFile(dataDirectory.resolve(LATEST_FILE_NAME));
    }

    static void write(Path dataDirectory, List<Long> stores) throws IOException {
        write(dataDirectory, FILE_NAME, stores);
    }

    static void writeLatest(Path dataDirectory, List<Long> stores) throws IOException {
        write(dataDirectory, LATEST_FILE_NAME, stores);
    }

    private static Optional<List<Long>> readFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException(file + ": " + Files.size(file) + " bytes is not a list of controller stores; refusing to start");
        }
        String text = Files.readString(file, StandardCharsets.UTF_8).strip();
        List<Long> stores = new ArrayList<>();
        try {
            for (String part : text.split(",")) {
                long id = Long.parseLong(part.strip());
                if (id <= 0 || stores.contains(id)) {
                    throw new NumberFormatException("store id " + id + " is not positive or repeats");
                }
                stores.add(id);
            }
        } catch (NumberFormatException e) {
            throw new IOException(file + ": '" + text + "' is not a comma-separated list of store ids ("
                    + e.getMessage() + "); refusing to start", e);
        }
        return Optional.of(List.copyOf(stores));
    }

    private static void write(Path dataDirectory, String fileName, List<Long> stores) throws IOException {
        if (stores.isEmpty()) {
            throw new IllegalArgumentException("the shard controller needs at least one store");
        }
        Path tmp = dataDirectory.resolve(fileName + ".tmp");
        StringBuilder text = new StringBuilder();
        for (long id : stores) {
            text.append(text.isEmpty() ? "" : ",").append(id);
        }
        Files.writeString(tmp, text.append('\n'), StandardCharsets.UTF_8);
        try (var channel = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, dataDirectory.resolve(fileName));
    }
}
