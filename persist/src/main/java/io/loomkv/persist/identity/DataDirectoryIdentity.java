package io.loomkv.persist.identity;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node of which cluster a data directory belongs to, in {@code identity.properties},
 * written once when the directory is first used (tmp, fsync, rename, fsync of the directory).
 *
 * <p>Why: a node started on another node's data (a copy-paste slip in a config, a volume mounted
 * on the wrong machine) would present that node's log and votes under its own id, and a node
 * started on another cluster's data would mix two clusters' logs; either can break Raft's safety
 * quietly. Refusing at startup, naming both identities, turns that into a clear error.
 *
 * @param clusterId the cluster the directory belongs to
 * @param nodeId the node the directory belongs to
 */
public record DataDirectoryIdentity(String clusterId, long nodeId) {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectoryIdentity.class);
    public static final String FILE_NAME = "identity.properties";
    private static final String FORMAT = "1";

    public DataDirectoryIdentity {
        Objects.requireNonNull(clusterId, "clusterId");
        if (clusterId.isBlank()) {
            throw new IllegalArgumentException("clusterId must not be blank");
        }
        if (nodeId <= 0) {
            throw new IllegalArgumentException("nodeId must be positive, got " + nodeId);
        }
    }

    /**
     * Checks that {@code dataDirectory} belongs to this identity; when it has no identity file yet
     * (new, or written by a version before identity files), writes one.
     *
     * @throws DataDirectoryMismatchException when the directory belongs to another node or cluster,
     *     or its identity file is unreadable
     */
    public void claimOrVerify(Path dataDirectory) throws IOException {
        Files.createDirectories(dataDirectory);
        Path file = dataDirectory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            write(file);
            LOG.info("data directory {} now belongs to node {} of cluster '{}'", dataDirectory, nodeId, clusterId);
            return;
        }
        DataDirectoryIdentity found = read(file);
        if (!found.equals(this)) {
            throw new DataDirectoryMismatchException("data directory " + dataDirectory + " belongs to node " + found.nodeId
                    + " of cluster '" + found.clusterId + "', not to node " + nodeId + " of cluster '" + clusterId
                    + "' (see " + file + "); refusing to start on it. Point data-dir at this node's own directory, or at "
                    + "an empty one for a new node.");
        }
    }

    /** Reads an identity file; a missing key or bad value is a {@link DataDirectoryMismatchException} naming the file. */
    public static DataDirectoryIdentity read(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IllegalArgumentException e) {
            throw new DataDirectoryMismatchException(file + ": unreadable identity file: " + e.getMessage());
        }
        String format = properties.getProperty("format");
        String cluster = properties.getProperty("cluster-id");
        String node = properties.getProperty("node-id");
        if (!FORMAT.equals(format) || cluster == null || node == null) {
            throw new DataDirectoryMismatchException(file + ": identity file needs format=" + FORMAT
                    + ", cluster-id and node-id; found format=" + format + ", cluster-id=" + cluster + ", node-id=" + node);
        }
        try {
            return new DataDirectoryIdentity(cluster, Long.parseLong(node.trim()));
        } catch (IllegalArgumentException e) {
            throw new DataDirectoryMismatchException(file + ": bad identity: " + e.getMessage());
        }
    }

    private void write(Path file) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("format", FORMAT);
        properties.setProperty("cluster-id", clusterId);
        properties.setProperty("node-id", Long.toString(nodeId));
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            properties.store(writer, "which loomkv node owns this data directory; written once, checked at every start");
        }
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, file);
    }
}
