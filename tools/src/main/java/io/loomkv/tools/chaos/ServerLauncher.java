package io.loomkv.tools.chaos;

import io.loomkv.tools.ClusterProcesses;
import io.loomkv.tools.LoomKv;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How chaos starts server processes: the shipped jar when there is one (the one this JVM runs
 * from, or {@code tools/target/loomkv.jar} next to the compiled classes), otherwise this JVM's
 * class path with {@link LoomKv} as the main class (a test run before the jar was packaged).
 */
public final class ServerLauncher {
    private ServerLauncher() {
    }

    /** The launch command up to the {@code server} subcommand. */
    public static List<String> command() {
        return ClusterProcesses.launcher(classpathArguments());
    }

    /** What {@link #command()} runs, short enough to print. */
    static String describe() {
        List<String> arguments = classpathArguments();
        return arguments.get(0).equals("-jar") ? "-jar " + arguments.get(1)
                : "-cp <this JVM's class path> " + LoomKv.class.getName();
    }

    private static List<String> classpathArguments() {
        boolean forceClasspath = "classpath".equals(System.getProperty("loomkv.chaos.launcher"));
        if (!forceClasspath) {
            try {
                return List.of("-jar", ClusterProcesses.jarPath().toString());
            } catch (IOException notFromJar) {
                Path built = builtJar();
                if (built != null) {
                    return List.of("-jar", built.toString());
                }
            }
        }
        return List.of("-cp", System.getProperty("java.class.path"), LoomKv.class.getName());
    }

    /** {@code tools/target/loomkv.jar} when this class was loaded from {@code tools/target/classes}. */
    private static Path builtJar() {
        try {
            Path classes = Path.of(ServerLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path jar = classes.getParent() == null ? null : classes.getParent().resolve("loomkv.jar");
            return jar != null && Files.isRegularFile(jar) ? jar : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }
}
