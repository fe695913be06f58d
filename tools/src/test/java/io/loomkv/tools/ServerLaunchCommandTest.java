package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line {@link ClusterProcesses#launcher} builds for server JVMs, with and without the
 * AOT cache the {@code ./loomkv} launcher names in {@code LOOMKV_AOT_SERVER_CACHE}: the cache only
 * on JDK 25+, only for a jar run, only when the file exists, and before {@code LOOMKV_JVM_OPTS} so
 * that flags there (e.g. {@code -Xlog:aot}) win; and {@code --enable-native-access} only on a class
 * path run (a jar run has it from the manifest, and the flag would turn off the JDK's CDS module graph).
 */
class ServerLaunchCommandTest {
    private static final List<String> FROM_JAR = List.of("-jar", "/opt/loomkv/loomkv.jar");

    @TempDir
    Path dir;

    private Path cache() throws IOException {
        return Files.write(dir.resolve("loomkv-server.aot"), new byte[] {1});
    }

    @Test
    void withACacheOnJdk25TheServerJvmUsesItQuietly() throws IOException {
        Path cache = cache();
        List<String> command = ClusterProcesses.launcher(FROM_JAR,
                Map.of(ClusterProcesses.AOT_SERVER_CACHE_VARIABLE, cache.toString()), 25);

        assertEquals(List.of("-XX:AOTCache=" + cache, "-Xlog:aot*=off", "-Xmx512m", "--sun-misc-unsafe-memory-access=allow", "-jar", "/opt/loomkv/loomkv.jar"), command.subList(1, command.size()));
    }

    @Test
    void withoutTheLaunchersCacheThereAreNoAotFlags() {
        List<String> command = ClusterProcesses.launcher(FROM_JAR, Map.of(), 25);

        assertEquals(List.of("-Xmx512m", "--sun-misc-unsafe-memory-access=allow",
                "-jar", "/opt/loomkv/loomkv.jar"), command.subList(1, command.size()));
    }

    @Test
    void jdksBefore25GetNoAotFlags() throws IOException {
        Map<String, String> environment = Map.of(ClusterProcesses.AOT_SERVER_CACHE_VARIABLE, cache().toString());

        assertEquals(List.of("-Xmx512m", "-jar", "/opt/loomkv/loomkv.jar"),
                tail(ClusterProcesses.launcher(FROM_JAR, environment, 21)));
        List<String> jdk24 = ClusterProcesses.launcher(FROM_JAR, environment, 24);
        assertTrue(jdk24.stream().noneMatch(flag -> flag.contains("AOT") || flag.contains("aot")), jdk24.toString());
        assertTrue(jdk24.contains("--sun-misc-unsafe-memory-access=allow"), jdk24.toString());
    }

    @Test
    void aClassPathRunOrAMissingCacheFileGetsNoCache() throws IOException {
        Map<String, String> environment = Map.of(ClusterProcesses.AOT_SERVER_CACHE_VARIABLE, cache().toString());
        List<String> fromClassPath = List.of("-cp", "classes:lib.jar", LoomKv.class.getName());
        List<String> classPathCommand = ClusterProcesses.launcher(fromClassPath, environment, 25);
        assertFalse(classPathCommand.stream().anyMatch(flag -> flag.startsWith("-XX:AOTCache")), classPathCommand.toString());
        // Without the jar's manifest, native access needs the flag.
        assertTrue(classPathCommand.contains("--enable-native-access=ALL-UNNAMED"), classPathCommand.toString());

        Map<String, String> missing = Map.of(ClusterProcesses.AOT_SERVER_CACHE_VARIABLE, dir.resolve("gone.aot").toString());
        assertFalse(ClusterProcesses.launcher(FROM_JAR, missing, 25).stream().anyMatch(flag -> flag.startsWith("-XX:AOTCache")));
    }

    @Test
    void jvmOptionsComeAfterTheCacheAndTheHeapDefault() throws IOException {
        Path cache = cache();
        List<String> command = ClusterProcesses.launcher(FROM_JAR, Map.of(ClusterProcesses.AOT_SERVER_CACHE_VARIABLE,
                cache.toString(), "LOOMKV_JVM_OPTS", "  -Xlog:aot   -XX:+UseSerialGC "), 25);

        assertEquals(List.of("-XX:AOTCache=" + cache, "-Xlog:aot*=off", "-Xmx512m", "-Xlog:aot", "-XX:+UseSerialGC",
                "--sun-misc-unsafe-memory-access=allow", "-jar", "/opt/loomkv/loomkv.jar"),
                tail(command));
    }

    private static List<String> tail(List<String> command) {
        return command.subList(1, command.size());
    }
}
