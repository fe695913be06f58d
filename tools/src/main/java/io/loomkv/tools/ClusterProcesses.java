package io.loomkv.tools;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.tools.chaos.ServerLauncher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Server processes of a local cluster: one {@code loomkv server} JVM per node config, started in
 * the background with output in {@code run/<folder>/node<ID>.log} and the pid in
 * {@code node<ID>.pid}. Used by {@code cluster up|down|status} and {@code demo}.
 */
public final class ClusterProcesses {
    /**
     * Pid files, logs and the demo's data: {@code run/} under the working directory (the launcher
     * runs from the repository root); tests point {@code loomkv.run.dir} into {@code target/}.
     */
    static final Path RUN = Path.of(System.getProperty("loomkv.run.dir", "run"));

    private ClusterProcesses() {
    }

    static Path runDirectory(Path configFolder) {
        return RUN.resolve(configFolder.toAbsolutePath().normalize().getFileName().toString());
    }

    public static Path pidFile(Path runDir, long nodeId) {
        return runDir.resolve("node" + nodeId + ".pid");
    }

    public static Path logFile(Path runDir, long nodeId) {
        return runDir.resolve("node" + nodeId + ".log");
    }

    /** The server process recorded for a node, when it still runs (and is a loomkv server, not a reused pid). */
    static Optional<ProcessHandle> running(Path runDir, long nodeId) {
        Path file = pidFile(runDir, nodeId);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            long pid = Long.parseLong(Files.readString(file).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .filter(p -> p.info().commandLine().map(c -> c.contains("server")).orElse(true));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Why the nodes of {@code configs} that are not running from {@code runDir} could not start:
     * a client or peer port another process already listens on (another cluster on the same
     * ports, e.g. one started from another checkout). Empty when every port is free. Checked
     * before anything starts, because the clients would otherwise find the other cluster answering
     * and take it for this one.
     */
    static Optional<String> portsInUse(Path runDir, List<NodeConfig> configs) {
        List<String> taken = new ArrayList<>();
        for (NodeConfig config : configs) {
            if (running(runDir, config.nodeId()).isPresent()) {
                continue;
            }
            List<InetSocketAddress> addresses = new ArrayList<>(List.of(config.clientAddress(), config.peerAddress()));
            if (config.respAddress() != null) {
                addresses.add(config.respAddress());
            }
            for (InetSocketAddress address : addresses) {
                if (!canListen(address)) {
                    taken.add(MemberAddress.format(address) + " (node " + config.nodeId() + ")");
                }
            }
        }
        return taken.isEmpty() ? Optional.empty() : Optional.of("another process already listens on " + String.join(", ", taken)
                + " (another cluster on these ports?)");
    }

    private static boolean canListen(InetSocketAddress address) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(address);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Starts the node's server process (returns the running one if it is already up). */
    static ProcessHandle start(Path runDir, NodeConfig config, Path configFile) throws IOException {
        return start(runDir, config, configFile, List.of());
    }

    /** As {@link #start(Path, NodeConfig, Path)}, with extra server flags (overriding the file); launched as {@link ServerLauncher} says. */
    static ProcessHandle start(Path runDir, NodeConfig config, Path configFile, List<String> extraFlags) throws IOException {
        return start(runDir, config, configFile, extraFlags, ServerLauncher.command());
    }

    /**
     * As {@link #start(Path, NodeConfig, Path, List)}, started by {@code launcher}: the command up to
     * (not including) the {@code server} subcommand, e.g. from {@link #launcher(List)}.
     */
    public static ProcessHandle start(Path runDir, NodeConfig config, Path configFile, List<String> extraFlags,
            List<String> launcher) throws IOException {
        Optional<ProcessHandle> existing = running(runDir, config.nodeId());
        if (existing.isPresent()) {
            return existing.get();
        }
        Files.createDirectories(runDir);
        List<String> command = new ArrayList<>(launcher);
        command.addAll(List.of("server", "--config", configFile.toString()));
        command.addAll(extraFlags);
        Path log = logFile(runDir, config.nodeId());
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        Files.writeString(pidFile(runDir, config.nodeId()), Long.toString(process.pid()) + "\n", StandardCharsets.UTF_8);
        return process.toHandle();
    }

    /**
     * The AOT cache for server JVMs (JDK 25+), set by the {@code ./loomkv} launcher only when the
     * cache was trained on the jar and the JDK it runs; see docs/warmup.md.
     */
    static final String AOT_SERVER_CACHE_VARIABLE = "LOOMKV_AOT_SERVER_CACHE";
    /** The first JDK whose caches the launcher trains (one-step training, JEP 514; method profiles, JEP 515). */
    static final int AOT_CACHE_MIN_JAVA = 25;

    /**
     * The command that runs a loomkv server in a new JVM: this JVM's {@code java}, the server AOT
     * cache when the launcher found one, -Xmx512m, then {@code LOOMKV_JVM_OPTS}, the flags native
     * code (on a class path run) and protobuf need, then {@code classpathArguments} ({@code -jar loomkv.jar} or
     * {@code -cp ... io.loomkv.tools.LoomKv}).
     */
    public static List<String> launcher(List<String> classpathArguments) {
        return launcher(classpathArguments, System.getenv(), Runtime.version().feature());
    }

    /** As {@link #launcher(List)}, for the given environment and JDK feature version. */
    static List<String> launcher(List<String> classpathArguments, Map<String, String> environment, int javaFeature) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        // Before LOOMKV_JVM_OPTS, so -Xlog:aot there shows what the JVM makes of the cache.
        command.addAll(aotCacheFlags(classpathArguments, environment, javaFeature));
        // The heap default first: LOOMKV_JVM_OPTS adds to it, and an -Xmx there wins (the JVM takes
        // the last). Replacing it made any other flag silently move the heap to a quarter of the
        // machine's memory, which skewed A/B runs that set flags for one side only.
        command.add("-Xmx512m");
        String jvmOptions = environment.get("LOOMKV_JVM_OPTS");
        if (jvmOptions != null && !jvmOptions.isBlank()) {
            command.addAll(List.of(jvmOptions.trim().split("\\s+")));
        }
        // zstd-jni/lz4-java load native code: the jar's manifest allows it (Enable-Native-Access), so a jar
        // run leaves the flag out, which would turn off the JDK's archived module graph (CDS) and
        // slow every start; a class path run needs it.
        if (!fromJar(classpathArguments)) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        // protobuf uses sun.misc.Unsafe: allowed without warnings.
        if (javaFeature >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(classpathArguments);
        return command;
    }

    /**
     * {@code -XX:AOTCache=FILE -Xlog:aot*=off} when the launcher named a server cache that exists,
     * the JDK takes it and the server runs from a jar (the cache fits only the jar it was trained
     * on; a class path run, as in tests, gets none). The logging is off because a JVM that cannot
     * use the cache (e.g. ZGC in {@code LOOMKV_JVM_OPTS}) starts without it, and would otherwise
     * say so in every server log.
     */
    static List<String> aotCacheFlags(List<String> classpathArguments, Map<String, String> environment, int javaFeature) {
        String cache = environment.get(AOT_SERVER_CACHE_VARIABLE);
        if (javaFeature < AOT_CACHE_MIN_JAVA || cache == null || cache.isBlank() || !fromJar(classpathArguments)
                || !Files.isRegularFile(Path.of(cache))) {
            return List.of();
        }
        return List.of("-XX:AOTCache=" + cache, "-Xlog:aot*=off");
    }

    private static boolean fromJar(List<String> classpathArguments) {
        return !classpathArguments.isEmpty() && classpathArguments.get(0).equals("-jar");
    }

    public static Path jarPath() throws IOException {
        try {
            Path jar = Path.of(ClusterProcesses.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!jar.toString().endsWith(".jar")) {
                throw new IOException("not running from the loomkv jar (" + jar + "); run ./loomkv build first");
            }
            return jar;
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the loomkv jar", e);
        }
    }

    /** Stops a process: SIGTERM, then SIGKILL after {@code grace}. Returns whether it was running. */
    public static boolean stop(ProcessHandle process, Duration grace) {
        if (!process.isAlive()) {
            return false;
        }
        process.destroy();
        try {
            process.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
            try {
                process.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // Reported by the caller's check below.
            }
        }
        return true;
    }

    /** Stops every node recorded in {@code runDir}; returns how many were running. */
    static int stopAll(Path runDir, Duration grace) throws IOException {
        int stopped = 0;
        if (!Files.isDirectory(runDir)) {
            return 0;
        }
        List<Path> pidFiles;
        try (Stream<Path> files = Files.list(runDir)) {
            pidFiles = files.filter(p -> p.getFileName().toString().matches("node\\d+\\.pid")).sorted().toList();
        }
        for (Path pidFile : pidFiles) {
            String name = pidFile.getFileName().toString();
            long id = Long.parseLong(name.substring(4, name.length() - 4));
            Optional<ProcessHandle> process = running(runDir, id);
            if (process.isPresent() && stop(process.get(), grace)) {
                if (process.get().isAlive()) {
                    throw new IOException("node " + id + " (pid " + process.get().pid() + ") did not stop");
                }
                stopped++;
            }
            Files.deleteIfExists(pidFile);
        }
        return stopped;
    }

    /**
     * Waits until every data group has a leader (one group: until some store leads it), and with
     * {@code everyStore} until every store the layout lists answers too and the shard controller has
     * a leader as well, and returns the stores' view at that moment; after {@code timeout}, the last
     * view seen (with the groups still without a leader in {@link GroupTable#leaderless()}), or
     * empty when no store ever answered.
     */
    static Optional<GroupTable> awaitEveryGroupLed(ClusterTarget target, Duration timeout, boolean everyStore) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<GroupTable> last = Optional.empty();
        KvClientConfig clientConfig;
        try {
            clientConfig = target.clientConfig();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (KvClient client = new KvClient(clientConfig.withDeadline(Duration.ofSeconds(1), Duration.ofSeconds(1)))) {
            while (true) {
                Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
                if (table.isPresent()) {
                    last = table;
                    boolean storesAnswered = !everyStore
                            || (table.get().answeredStores().containsAll(table.get().storeAddresses().keySet())
                                    && !table.get().controllerLeaderless());
                    if (table.get().leaderless().isEmpty() && storesAnswered) {
                        return table;
                    }
                }
                if (System.nanoTime() >= deadline) {
                    return last;
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return last;
                }
            }
        }
    }

    /** The last lines of a node's log, for error messages. */
    public static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
