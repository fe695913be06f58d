package io.loomkv.tools.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Assembles the release tarball {@code loomkv-VERSION.tar.gz}: what an operator copies to a
 * machine that has only a Java runtime. Layout under {@code loomkv-VERSION/}:
 * <pre>
 *   bin/loomkv              the launcher (ops/dist/bin/loomkv): finds a Java >= 21, runs the jar
 *   lib/loomkv.jar          the server and CLI jar
 *   conf/...                the example node configs (conf/ of the source tree)
 *   systemd/loomkv.service  an example unit (ops/systemd/loomkv.service)
 * </pre>
 * Takes its inputs as paths (the jar and the source tree), so {@code ./loomkv dist} and a test
 * build the same tarball without Maven.
 */
public final class DistAssembler {
    static final String LAUNCHER = "ops/dist/bin/loomkv";
    static final String SYSTEMD_UNIT = "ops/systemd/loomkv.service";
    static final String CONF = "conf";
    private static final int EXECUTABLE = 0755;
    private static final int READABLE = 0644;

    private DistAssembler() {
    }

    /** The archive's file name for {@code version}. */
    public static String fileName(String version) {
        return "loomkv-" + version + ".tar.gz";
    }

    /**
     * Writes {@code outputDirectory/loomkv-VERSION.tar.gz} (replacing an older one) and returns
     * its path. The tarball is written under a temporary name and moved in place at the end, so a
     * failed build never leaves a truncated archive behind.
     */
    public static Path assemble(String version, Path jar, Path sourceRoot, Path outputDirectory) throws IOException {
        if (!version.matches("[0-9A-Za-z][0-9A-Za-z.+_-]*")) {
            throw new IllegalArgumentException("version '" + version + "' is not a plain version string");
        }
        requireFile(jar, "the loomkv jar (./loomkv build makes tools/target/loomkv.jar)");
        Path launcher = requireFile(sourceRoot.resolve(LAUNCHER), "the release launcher");
        Path unit = requireFile(sourceRoot.resolve(SYSTEMD_UNIT), "the systemd unit example");
        Path conf = sourceRoot.resolve(CONF);
        if (!Files.isDirectory(conf)) {
            throw new IOException(conf + " is missing: --source must name the loomkv source tree");
        }
        Files.createDirectories(outputDirectory);
        Path target = outputDirectory.resolve(fileName(version));
        Path partial = outputDirectory.resolve(fileName(version) + ".partial");
        String top = "loomkv-" + version;
        long modified = Files.getLastModifiedTime(jar).toInstant().getEpochSecond();
        try (TarGzWriter tar = new TarGzWriter(partial, modified)) {
            tar.directory(top, EXECUTABLE);
            tar.directory(top + "/bin", EXECUTABLE);
            tar.file(top + "/bin/loomkv", EXECUTABLE, launcher);
            tar.directory(top + "/lib", EXECUTABLE);
            tar.file(top + "/lib/loomkv.jar", READABLE, jar);
            addTree(tar, conf, top + "/conf");
            tar.directory(top + "/systemd", EXECUTABLE);
            tar.file(top + "/systemd/loomkv.service", READABLE, unit);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        return Files.move(partial, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Every directory and regular file under {@code root}, in name order, as {@code prefix/...}. */
    private static void addTree(TarGzWriter tar, Path root, String prefix) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(root)) {
            paths = walk.sorted().toList();
        }
        for (Path path : paths) {
            String relative = root.relativize(path).toString().replace('\\', '/');
            String name = relative.isEmpty() ? prefix : prefix + "/" + relative;
            if (Files.isDirectory(path)) {
                tar.directory(name, EXECUTABLE);
            } else if (Files.isRegularFile(path)) {
                tar.file(name, READABLE, path);
            }
        }
    }

    private static Path requireFile(Path file, String what) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " is missing (" + what + ")");
        }
        return file;
    }
}
