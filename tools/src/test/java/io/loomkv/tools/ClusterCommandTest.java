package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.rpc.LoopbackPorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster up} with real server processes (the packaged jar when there is one): it waits
 * until every data group and the shard controller have a leader and prints the groups, and refuses to start anything on
 * ports another process listens on (it would otherwise take that other cluster for its own).
 * Pid files and logs go to target/run (the surefire configuration sets loomkv.run.dir).
 */
class ClusterCommandTest {
    @TempDir
    Path dir;

    private static CliRun loomkv(String... args) {
        return CliRun.loomkv(args);
    }

    /** Below the ephemeral range: stores started first dial their peers from ephemeral ports. */
    private static int freePort() {
        return LoopbackPorts.next().getPort();
    }

    /** A folder like conf/sharded-3node: 3 stores on the given client ports (free peer ports), {@code groups} data groups. */
    private Path shardedFolder(String name, int groups, List<Integer> clientPorts) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        List<String> members = new ArrayList<>();
        List<Integer> peerPorts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peerPorts.add(freePort());
            members.add((i + 1) + "=127.0.0.1:" + clientPorts.get(i) + "/127.0.0.1:" + peerPorts.get(i));
        }
        for (int i = 0; i < 3; i++) {
            Files.writeString(folder.resolve("store" + (i + 1) + ".properties"), String.join("\n",
                    "node-id=" + (i + 1), "cluster-id=" + name, "client-address=127.0.0.1:" + clientPorts.get(i),
                    "peer-address=127.0.0.1:" + peerPorts.get(i), "data-dir=" + dir.resolve(name + "-data" + (i + 1)),
                    "members=" + String.join(",", members), "data-groups=" + groups, ""));
        }
        return folder;
    }

    @Test
    void upRefusesPortsAnotherProcessListensOnAndStartsNothing() throws Exception {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("127.0.0.1", 0));
            int taken = squatter.getLocalPort();
            Path folder = shardedFolder("squatted-" + taken, 2, List.of(freePort(), taken, freePort()));

            CliRun up = loomkv("cluster", "up", folder.toString());

            assertEquals(1, up.exitCode(), up.out() + up.err());
            assertTrue(up.err().contains("another process already listens on 127.0.0.1:" + taken + " (node 2)"), up.err());
            assertTrue(up.err().contains("nothing was started"), up.err());
            assertFalse(Files.exists(ClusterProcesses.runDirectory(folder)), "no pid file, no log: nothing was started");
        }
    }

    @Test
    void upWaitsForALeaderOfEveryGroupAndPrintsTheGroups() throws Exception {
        Path folder = shardedFolder("up-" + freePort(), 4, List.of(freePort(), freePort(), freePort()));
        try {
            CliRun up = loomkv("cluster", "up", folder.toString());

            assertEquals(0, up.exitCode(), up.out() + up.err());
            assertTrue(up.out().contains("every data group and the shard controller have a leader:\nGROUP  SLOTS"), up.out());
            for (String slots : List.of("0-4095", "4096-8191", "8192-12287", "12288-16383")) {
                assertTrue(up.out().contains(slots), up.out());
            }
            assertTrue(up.out().contains("(4 groups on 3 stores, 3 answered; every group has a leader)"), up.out());
            CliRun groups = loomkv("ctl", "--cluster", folder.toString(), "--json", "groups");
            assertEquals(4, groups.out().lines().filter(l -> l.matches(".*\"leader\":[123],.*")).count(), groups.out());
        } finally {
            CliRun down = loomkv("cluster", "down", folder.toString());
            assertEquals("stopped 3 servers of " + folder + "\n", down.out(), down.err());
        }
    }
}
