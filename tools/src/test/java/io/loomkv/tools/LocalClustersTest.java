package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.rpc.LoopbackPorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster down|status} without a folder: the only running cluster, or a list of those
 * running and nothing done; a second {@code cluster up} no longer hides the first. The last test
 * starts two real one-store clusters (the packaged jar when there is one).
 */
class LocalClustersTest {
    @TempDir
    Path dir;

    @Test
    void choosesTheOnlyRunningClusterAndListsSeveral() {
        Path a = Path.of("/srv/a");
        Path b = Path.of("/srv/b");
        assertEquals(Optional.of(a), LocalClusters.choose(List.of(new LocalClusters.Running(a, Path.of("run/a"), 3)), "down").folder());
        LocalClusters.Choice none = LocalClusters.choose(List.of(), "down");
        assertEquals(Optional.empty(), none.folder());
        assertTrue(none.message().contains("no cluster") && !none.ambiguous(), none.message());
        LocalClusters.Choice two = LocalClusters.choose(List.of(new LocalClusters.Running(a, Path.of("run/a"), 3),
                new LocalClusters.Running(b, Path.of("run/b"), 1)), "status");
        assertEquals(Optional.empty(), two.folder());
        assertTrue(two.ambiguous());
        assertEquals("2 clusters are running; name one: ./loomkv cluster status DIR\n  /srv/a  (3 servers)\n  /srv/b  (1 servers)",
                two.message());
    }

    @Test
    void recordsTheFolderOfARunDirectory() throws IOException {
        Path run = dir.resolve("run/x");
        LocalClusters.record(run, dir.resolve("conf/../x"));
        assertEquals(Optional.of(dir.resolve("x").toAbsolutePath()), LocalClusters.recordedFolder(run));
        assertEquals(List.of(), LocalClusters.running(dir.resolve("run")), "recorded, but no server runs");
        LocalClusters.forget(run);
        assertEquals(Optional.empty(), LocalClusters.recordedFolder(run));
    }

    private static CliRun loomkv(String... args) {
        return CliRun.loomkv(args);
    }

    /** A one-store cluster's config folder, named uniquely so its run folder is its own. */
    private Path oneStore(String name) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        String client = "127.0.0.1:" + freePort();
        String peer = "127.0.0.1:" + freePort();
        Files.writeString(folder.resolve("node1.properties"), String.join("\n", "node-id=1", "cluster-id=" + name,
                "client-address=" + client, "peer-address=" + peer, "data-dir=" + dir.resolve(name + "-data"),
                "members=1=" + client + "/" + peer, "tick-interval-ms=20", ""));
        return folder;
    }

    @Test
    void aSecondClusterUpDoesNotHideTheFirst() throws Exception {
        Path first = oneStore("first-" + freePort());
        Path second = oneStore("second-" + freePort());
        try {
            assertEquals(0, loomkv("cluster", "up", first.toString()).exitCode());
            assertEquals(0, loomkv("cluster", "up", second.toString()).exitCode());

            CliRun ambiguous = loomkv("cluster", "down");
            assertEquals(2, ambiguous.exitCode(), ambiguous.out() + ambiguous.err());
            assertTrue(ambiguous.err().contains(first.getFileName().toString()) && ambiguous.err().contains(second.getFileName().toString()),
                    ambiguous.err());
            assertEquals(2, loomkv("cluster", "status").exitCode());
            assertTrue(LocalClusters.running(ClusterProcesses.RUN).stream().anyMatch(r -> r.folder().equals(first.toAbsolutePath())),
                    "the ambiguous down stopped nothing");

            assertEquals("stopped 1 servers of " + first + "\n", loomkv("cluster", "down", first.toString()).out());
            CliRun status = loomkv("cluster", "status");
            assertEquals(0, status.exitCode(), status.out() + status.err());
            assertTrue(status.out().startsWith("cluster " + LocalClusters.display(second.toAbsolutePath()) + ":\n"), status.out());
            CliRun down = loomkv("cluster", "down");
            assertEquals("stopped 1 servers of " + LocalClusters.display(second.toAbsolutePath()) + "\n", down.out(), down.err());
        } finally {
            loomkv("cluster", "down", first.toString());
            loomkv("cluster", "down", second.toString());
        }
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }
}
