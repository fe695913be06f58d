package io.loomkv.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The local clusters {@code cluster up} started: each run folder ({@code run/<name>/}) records
 * the config folder it was started from in {@code cluster.folder}, next to its pid files. So
 * {@code cluster down} and {@code cluster status} without a folder find the one running cluster,
 * or name every running one, instead of following a single "current cluster" file that a second
 * {@code cluster up} overwrote (which left the first cluster running with nothing pointing at it).
 */
final class LocalClusters {
    static final String FOLDER_FILE = "cluster.folder";

    /** A cluster with {@code servers} live server processes, started from {@code folder}. */
    record Running(Path folder, Path runDirectory, int servers) {
    }

    /**
     * Which cluster a command without a folder means; {@code message} says why there is none,
     * {@code ambiguous} true when several run (an error) rather than none.
     */
    record Choice(Optional<Path> folder, String message, boolean ambiguous) {
    }

    private LocalClusters() {
    }

    /** Records that {@code runDirectory} holds the servers of the cluster in {@code folder}. */
    static void record(Path runDirectory, Path folder) throws IOException {
        Files.createDirectories(runDirectory);
        Files.writeString(runDirectory.resolve(FOLDER_FILE), folder.toAbsolutePath().normalize() + "\n", StandardCharsets.UTF_8);
    }

    static void forget(Path runDirectory) throws IOException {
        Files.deleteIfExists(runDirectory.resolve(FOLDER_FILE));
    }

    /** The config folder recorded in {@code runDirectory}, if any. */
    static Optional<Path> recordedFolder(Path runDirectory) {
        Path file = runDirectory.resolve(FOLDER_FILE);
        try {
            return Files.exists(file) ? Optional.of(Path.of(Files.readString(file, StandardCharsets.UTF_8).trim())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Every recorded cluster with at least one live server, in run-folder order. */
    static List<Running> running(Path runRoot) throws IOException {
        if (!Files.isDirectory(runRoot)) {
            return List.of();
        }
        List<Path> runDirectories;
        try (Stream<Path> listing = Files.list(runRoot)) {
            runDirectories = listing.filter(Files::isDirectory).sorted().toList();
        }
        List<Running> running = new ArrayList<>();
        for (Path runDirectory : runDirectories) {
            Optional<Path> folder = recordedFolder(runDirectory);
            int servers = liveServers(runDirectory);
            if (folder.isPresent() && servers > 0) {
                running.add(new Running(folder.get(), runDirectory, servers));
            }
        }
        return running;
    }

    private static int liveServers(Path runDirectory) throws IOException {
        List<Long> ids;
        try (Stream<Path> files = Files.list(runDirectory)) {
            ids = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("node\\d+\\.pid"))
                    .map(n -> Long.parseLong(n.substring(4, n.length() - 4))).toList();
        }
        return (int) ids.stream().filter(id -> ClusterProcesses.running(runDirectory, id).isPresent()).count();
    }

    /**
     * The cluster {@code verb} (down, status) acts on when no folder was named: the only running
     * one; none, or several, give an empty folder and a message that lists them.
     */
    static Choice choose(List<Running> running, String verb) {
        if (running.size() == 1) {
            return new Choice(Optional.of(running.get(0).folder()), "", false);
        }
        if (running.isEmpty()) {
            return new Choice(Optional.empty(), "no cluster started by './loomkv cluster up' is running", false);
        }
        StringBuilder message = new StringBuilder(running.size() + " clusters are running; name one: ./loomkv cluster " + verb + " DIR");
        for (Running cluster : running) {
            message.append("\n  ").append(display(cluster.folder())).append("  (").append(cluster.servers()).append(" servers)");
        }
        return new Choice(Optional.empty(), message.toString(), true);
    }

    /** {@code folder} relative to the working directory when it is under it (as the user typed it, usually). */
    static String display(Path folder) {
        Path here = Path.of("").toAbsolutePath();
        Path absolute = folder.toAbsolutePath().normalize();
        return absolute.startsWith(here) && !absolute.equals(here) ? here.relativize(absolute).toString() : absolute.toString();
    }
}
