package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults between peers (6.824 KV lab names): messages dropped at random, and the leader cut off
 * in a minority partition. Every history must be linearizable.
 */
class KvNodeUnreliableTest {
    private static final List<String> KEYS = List.of("u/a", "u/b", "u/c");

    @TempDir
    Path dir;

    private static void runClients(LocalCluster cluster, ClientHistory history, int clients, int operations, long seed,
            Runnable midway) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean keepGoing = new java.util.concurrent.atomic.AtomicBoolean(midway != null);
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(clients * 10);
        for (int c = 0; c < clients; c++) {
            int clientNumber = c;
            threads.add(Thread.ofPlatform().name("client-" + c).start(() -> {
                Random random = new Random(seed + clientNumber);
                try (KvClient client = cluster.client()) {
                    // With a midway fault: keep going (up to the cap) until the fault has played out.
                    for (int i = 0; i < operations && (i < 10 || midway == null || keepGoing.get()); i++) {
                        history.runOne(client, clientNumber, i, random);
                        started.countDown();
                    }
                }
            }));
        }
        if (midway != null) {
            started.await();
            midway.run();
            int before = history.completed();
            LocalCluster.awaitCondition("clients make progress after the fault", () -> history.completed() >= before + 30);
            keepGoing.set(false);
        }
        for (Thread thread : threads) {
            thread.join();
        }
    }

    @Test
    void Unreliable() throws Exception {
        ClientHistory history = new ClientHistory(KEYS);
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll()) {
            cluster.awaitLeader();
            for (long id = 1; id <= 3; id++) {
                cluster.node(id).peerFaults().dropRandomly(0.1, 77 + id);
            }
            runClients(cluster, history, 3, 40, 500, null);
        }
        assertTrue(history.completed() > 40, history.completed() + " completed, " + history.unknown() + " unknown");
        CheckResult result = history.check();
        assertTrue(result.isOk(), result.toString());
    }

    @Test
    void OnePartition() throws Exception {
        ClientHistory history = new ClientHistory(KEYS);
        try (LocalCluster cluster = new LocalCluster(dir, 3, 10_000).startAll()) {
            Store oldLeader = cluster.awaitLeader();
            long isolated = oldLeader.storeId();
            Set<Long> others = Set.copyOf(LongStream.rangeClosed(1, 3).filter(id -> id != isolated).boxed().toList());
            runClients(cluster, history, 3, 150, 900, () -> {
                // Cut the leader off: the majority elects a new one, the old one must not serve stale data.
                oldLeader.peerFaults().block(others);
                for (long id : others) {
                    cluster.node(id).peerFaults().block(Set.of(isolated));
                }
                LocalCluster.awaitCondition("the majority elects a new leader",
                        () -> others.stream().anyMatch(id -> cluster.node(id).isLeader(GROUP)));
            });
            Store majorityLeader = cluster.awaitLeader();
            for (long id = 1; id <= 3; id++) {
                cluster.node(id).peerFaults().heal();
            }
            LocalCluster.awaitCondition("the old leader rejoins as follower",
                    () -> !cluster.node(isolated).isLeader(GROUP) && cluster.node(isolated).appliedIndex(GROUP) >= majorityLeader.appliedIndex(GROUP));
            assertNotEquals(isolated, cluster.awaitLeader().storeId());
        }
        assertTrue(history.completed() > 40, history.completed() + " completed, " + history.unknown() + " unknown");
        CheckResult result = history.check();
        assertTrue(result.isOk(), result.toString());
    }

    /**
     * Drops, a partition, crash-restarts of every node and a snapshot threshold low enough that
     * snapshots are taken and installed throughout (6.824 SnapshotUnreliableRecoverConcurrentPartition; the
     * history is checked for linearizability too, which 6.824 only does in the *Linearizable variant).
     */
    @Test
    void SnapshotUnreliableRecoverConcurrentPartition() throws Exception {
        ClientHistory history = new ClientHistory(KEYS);
        try (LocalCluster cluster = new LocalCluster(dir, 3, 30).startAll()) {
            cluster.awaitLeader();
            for (long id = 1; id <= 3; id++) {
                cluster.node(id).peerFaults().dropRandomly(0.05, 300 + id);
            }
            runClients(cluster, history, 3, 150, 1300, () -> {
                try {
                    Store leader = cluster.awaitLeader();
                    long cut = leader.storeId();
                    Set<Long> others = Set.copyOf(LongStream.rangeClosed(1, 3).filter(id -> id != cut).boxed().toList());
                    leader.peerFaults().block(others);
                    for (long id : others) {
                        cluster.node(id).peerFaults().block(Set.of(cut));
                    }
                    LocalCluster.awaitCondition("the majority elects a new leader",
                            () -> others.stream().anyMatch(id -> cluster.node(id).isLeader(GROUP)));
                    // Crash and restart every node, one at a time; the restarted ones recover from snapshot + WAL.
                    for (long id = 1; id <= 3; id++) {
                        cluster.stop(id);
                        cluster.start(id).peerFaults().dropRandomly(0.05, 400 + id);
                        cluster.awaitLeader();
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Store leader = cluster.awaitLeader();
            LocalCluster.awaitCondition("some node took a snapshot", () -> LongStream.rangeClosed(1, 3)
                    .anyMatch(id -> cluster.node(id).snapshotIndex(GROUP) > 0));
            assertTrue(leader.appliedIndex(GROUP) > 30, "applied " + leader.appliedIndex(GROUP));
        }
        assertTrue(history.completed() > 40, history.completed() + " completed, " + history.unknown() + " unknown");
        CheckResult result = history.check();
        assertTrue(result.isOk(), result.toString());
    }
}
