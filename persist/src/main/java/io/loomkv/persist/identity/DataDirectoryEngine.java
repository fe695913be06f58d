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
 * Which storage engine a data directory's state is kept in, in {@code engine.properties}, written
 * once when the directory is first used (tmp, fsync, rename, fsync of the directory), as
 * {@link DataDirectoryIdentity} does for the node.
 *
 * <p>Why: a store restarted with another engine would open an empty engine beside the old one's
 * files and, on a persistent engine, believe it has applied nothing; the data would seem gone. So
 * a start with another engine is refused, naming both.
 *
 * @param engine the engine's config name ({@code memory}, {@code rocksdb}, ...)
 */
public record DataDirectoryEngine(String engine) {
    private static final Logger LOG = LoggerFactory.getLogger(DataDirectoryEngine.class);
    public static final String FILE_NAME = "engine.properties";
    /** The engine of a directory written before engine files existed: the only one there was. */
    public static final String ENGINE_BEFORE_ENGINE_FILES = "memory";
    private static final String FORMAT = "1";

    public DataDirectoryEngine {
        Objects.requireNonNull(engine, "engine");
        if (engine.isBlank()) {
            throw new IllegalArgumentException("engine must not be blank");
        }
    }

    /**
     * Checks that {@code dataDirectory} is kept in this engine; a directory without an engine file
     * gets one: a new directory (no {@code existingDataMarker} in it) this engine, one that already
     * holds data (written before engine files) {@value #ENGINE_BEFORE_ENGINE_FILES}, which is then
     * checked like any other.
     *
     * @param existingDataMarker a file or directory that exists once the directory holds data (the Raft log's)
     * @throws DataDirectoryMismatchException when the directory's engine is another one, or its file is unreadable
     */
    public void claimOrVerify(Path dataDirectory, String existingDataMarker) throws IOException {
        Files.createDirectories(dataDirectory);
        Path file = dataDirectory.resolve(FILE_NAME);
        DataDirectoryEngine found;
        if (Files.exists(file)) {
            found = read(file);
        } else {
            found = Files.exists(dataDirectory.resolve(existingDataMarker)) ? new DataDirectoryEngine(ENGINE_BEFORE_ENGINE_FILES) : this;
            if (found.equals(this)) {
                write(file);
                LOG.info("data directory {} keeps its state in the {} engine", dataDirectory, engine);
                return;
            }
        }
        if (!found.equals(this)) {
            throw new DataDirectoryMismatchException("data directory " + dataDirectory + " keeps its state in the "
                    + found.engine + " engine, but this node is configured with engine=" + engine + " (see " + file
                    + "); refusing to start, since the " + engine + " engine would not find the data. Start it with engine="
                    + found.engine + ", or point data-dir at an empty directory.");
        }
    }

    /** Reads an engine file; a missing key or bad value is a {@link DataDirectoryMismatchException} naming the file. */
    public static DataDirectoryEngine read(Path file) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IllegalArgumentException e) {
            throw new DataDirectoryMismatchException(file + ": unreadable engine file: " + e.getMessage());
        }
        String format = properties.getProperty("format");
        String engine = properties.getProperty("engine");
        if (!FORMAT.equals(format) || engine == null || engine.isBlank()) {
            throw new DataDirectoryMismatchException(file + ": engine file needs format=" + FORMAT
                    + " and engine; found format=" + format + ", engine=" + engine);
        }
        return new DataDirectoryEngine(engine.trim());
    }

    private void write(Path file) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("format", FORMAT);
        properties.setProperty("engine", engine);
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            properties.store(writer, "which storage engine keeps this data directory's state; written once, checked at every start");
        }
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, file);
    }
}
