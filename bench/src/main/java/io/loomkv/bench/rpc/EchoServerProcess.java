package io.loomkv.bench.rpc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The bench's echo server as a child JVM started from this JVM's own executable and class path.
 * {@link #close()} closes its stdin (it then shuts down) and kills it if it does not exit in time;
 * a shutdown hook does the same if the bench itself is interrupted.
 */
final class EchoServerProcess implements AutoCloseable {
    private static final long READY_TIMEOUT_SECONDS = 60;
    private static final long EXIT_TIMEOUT_SECONDS = 10;

    private final Process process;
    private final Thread cleanupHook;
    private final int port;

    private EchoServerProcess(Process process, Thread cleanupHook, int port) {
        this.process = process;
        this.cleanupHook = cleanupHook;
        this.port = port;
    }

    static EchoServerProcess start(List<String> jvmOptions, int maxInFlight) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        // lz4-java loads native code and JCTools/protobuf use sun.misc.Unsafe; grant both so the
        // child does not print JVM warnings into the bench output (the Unsafe flag is JDK 24+).
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(RpcEchoServerCommand.class.getName());
        command.add("--max-in-flight");
        command.add(Integer.toString(maxInFlight));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread hook = new Thread(process::destroyForcibly, "rpc-bench-server-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            int port = awaitPort(process);
            return new EchoServerProcess(process, hook, port);
        } catch (IOException | RuntimeException e) {
            process.destroyForcibly();
            Runtime.getRuntime().removeShutdownHook(hook);
            throw e;
        }
    }

    private static int awaitPort(Process process) throws IOException {
        BufferedReader stdout = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String read;
                while ((read = stdout.readLine()) != null) {
                    if (read.startsWith(RpcEchoServerCommand.READY_PREFIX)) {
                        return read;
                    }
                }
                return null;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofVirtual().start(r));
        String ready;
        try {
            ready = line.get(READY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the echo server", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("echo server did not report its port within " + READY_TIMEOUT_SECONDS + " s", e);
        }
        if (ready == null) {
            throw new IOException("echo server exited before listening (exit code "
                    + (process.isAlive() ? "n/a" : process.exitValue()) + "; see its output above)");
        }
        return Integer.parseInt(ready.substring(RpcEchoServerCommand.READY_PREFIX.length()).trim());
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupHook);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook runs anyway.
            }
        }
    }
}
