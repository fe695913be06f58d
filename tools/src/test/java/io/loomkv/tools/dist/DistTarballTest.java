package io.loomkv.tools.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.rpc.LoopbackPorts;
import io.loomkv.tools.LoomKv;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball as an operator uses it: assembled from the packaged jar (tools/target/
 * loomkv.jar, which {@code ./loomkv test} builds before the tests) and the source tree, unpacked
 * with {@code tar} in a folder outside the checkout, and a node started with its own
 * {@code bin/loomkv}, which must find Java by itself and need nothing else.
 */
class DistTarballTest {
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private static Path sourceRoot() {
        return Path.of(System.getProperty("loomkv.source.root", "..")).toAbsolutePath().normalize();
    }

    @Test
    void versionConstantIsTheMavenProjectVersion() throws IOException {
        String pom = Files.readString(sourceRoot().resolve("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>loomkv-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "no loomkv-parent version in pom.xml");
        assertEquals(m.group(1), LoomKv.VERSION);
    }

    @Test
    void unpackedTarballStartsANodeThatServesWithItsOwnLauncher() throws Exception {
        Path jar = Path.of(System.getProperty("loomkv.jar", "target/loomkv.jar"));
        assumeTrue(Files.isRegularFile(jar), jar + " is missing: './loomkv test' (or './loomkv build') packages it before the tests");

        Path tarball = DistAssembler.assemble(LoomKv.VERSION, jar, sourceRoot(), dir.resolve("out"));
        assertEquals(DistAssembler.fileName(LoomKv.VERSION), tarball.getFileName().toString());
        Path unpacked = Files.createDirectories(dir.resolve("opt"));
        Result untar = run(dir, List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()));
        assertEquals(0, untar.exitCode(), untar.err());
        Path home = unpacked.resolve("loomkv-" + LoomKv.VERSION);
        Path launcher = home.resolve("bin/loomkv");
        assertTrue(Files.getPosixFilePermissions(launcher).contains(PosixFilePermission.OWNER_EXECUTE), "bin/loomkv is not executable");
        assertEquals(Files.size(jar), Files.size(home.resolve("lib/loomkv.jar")));
        assertTrue(Files.isRegularFile(home.resolve("conf/local-3node/node1.properties")));
        assertTrue(Files.readString(home.resolve("systemd/loomkv.service")).contains("ExecStart=/opt/loomkv/bin/loomkv server"));

        int clientPort = freePort();
        int peerPort = freePort();
        String client = "127.0.0.1:" + clientPort;
        Path config = dir.resolve("node1.properties");
        Files.writeString(config, String.join("\n", "node-id=1", "cluster-id=dist-test", "client-address=" + client,
                "peer-address=127.0.0.1:" + peerPort, "data-dir=" + dir.resolve("data"),
                "members=1=" + client + "/127.0.0.1:" + peerPort, "tick-interval-ms=20", ""));
        Path log = dir.resolve("server.log");
        ProcessBuilder serverBuilder = new ProcessBuilder(launcher.toString(), "server", "--config", config.toString())
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        serverBuilder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process server = serverBuilder.start();
        try {
            try (KvClient kv = new KvClient(KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", clientPort)), "dist-test")
                    .withDeadline(PROCESS_TIMEOUT, Duration.ofSeconds(2)))) {
                kv.put(ByteString.copyFromUtf8("release"), ByteString.copyFromUtf8("unpacked"));
                assertEquals(Optional.of(ByteString.copyFromUtf8("unpacked")), kv.get(ByteString.copyFromUtf8("release")));
            } catch (RuntimeException e) {
                throw new AssertionError("the node did not serve; its log:\n" + Files.readString(log), e);
            }
            Result get = run(dir, List.of(launcher.toString(), "ctl", "get", "release", "--cluster", client));
            assertEquals(new Result(0, "unpacked\n", ""), get.withoutErr(), "bin/loomkv ctl get: " + get.err()
                    + "\nserver log:\n" + Files.readString(log));
        } finally {
            server.destroy();
            if (!server.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor();
            }
        }
    }

    /** Exit code and standard output; {@code err} is only for failure messages. */
    private record Result(int exitCode, String out, String err) {
        Result withoutErr() {
            return new Result(exitCode, out, "");
        }
    }

    /** Runs a command with JAVA_HOME set to this JVM's Java, as an operator's shell would have it. */
    private static Result run(Path workingDirectory, List<String> command) throws IOException, InterruptedException {
        Path output = Files.createTempFile(workingDirectory, "out", ".txt");
        Path error = Files.createTempFile(workingDirectory, "err", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectOutput(output.toFile()).redirectError(error.toFile());
        Map<String, String> environment = builder.environment();
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        Process process = builder.start();
        if (!process.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(command + " did not finish within " + PROCESS_TIMEOUT);
        }
        return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8),
                Files.readString(error, StandardCharsets.UTF_8));
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
