package io.loomkv.net.node;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.net.client.KvClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MIT 6.824 KV lab (kvraft test_test.go) scenarios, against in-process clusters of real
 * nodes on loopback: one parameterised harness ({@link #genericTest}, 6.824's GenericTest with its
 * flags nclients, unreliable, crash, partitions, maxraftstate, randomkeys) plus the scenarios
 * 6.824 writes out by hand (UnreliableOneKey, SnapshotRPC, SnapshotSize). Test names are 6.824's.
 *
 * <p>Shortened to keep the suite near 3 minutes on a loaded 2-core box: {@value #ITERATIONS}
 * iterations of {@value #LOAD_MILLIS} ms of client load each, where 6.824 runs 3 iterations of
 * 5 s; a partition lasts 600-1000 ms (6.824: electionTimeout + up to 200 ms with a 1 s election
 * timeout; ours is 200 ms). "Unreliable" drops 10% of peer messages and delays the rest by
 * 0-27 ms (so they arrive reordered), as labrpc does; faults apply between peers only, not between
 * client and server. Every history goes through core's linearizability checker; with per-client
 * keys each client also checks every read against the value it expects (when none of its writes
 * went unanswered) and, after each iteration, that every acknowledged append is present exactly
 * once and in order. No timed assertions: waits are 30 s liveness bounds.
 */
class KvLabScenariosTest {
    private static final Logger LOG = LoggerFactory.getLogger(KvLabScenariosTest.class);
    static final int ITERATIONS = 2;
    static final long LOAD_MILLIS = 1_800;
    /** "maxraftstate = -1": a threshold never reached, so no snapshot may appear. */
    private static final Duration SHORT_ATTEMPT = Duration.ofMillis(250);
    static final long NO_SNAPSHOTS = 1_000_000_000L;
    /** Our analogue of 6.824's maxraftstate = 1000 bytes: snapshot every 50 applied entries. */
    private static final long SNAPSHOT_EVERY = 50;

    @TempDir
    Path dir;

    /** 6.824 GenericTest flags (servers is its nservers). */
    record Scenario(int clients, int servers, boolean unreliable, boolean crash, boolean partitions,
            long snapshotThresholdEntries, boolean randomKeys) {
        boolean snapshots() {
            return snapshotThresholdEntries != NO_SNAPSHOTS;
        }
    }

    @Test
    void Basic() throws Exception {
        genericTest(new Scenario(1, 5, false, false, false, NO_SNAPSHOTS, false), 1);
    }

    @Test
    void Concurrent() throws Exception {
        genericTest(new Scenario(5, 5, false, false, false, NO_SNAPSHOTS, false), 2);
    }

    @Test
    void ManyPartitionsOneClient() throws Exception {
        genericTest(new Scenario(1, 5, false, false, true, NO_SNAPSHOTS, false), 3);
    }

    @Test
    void ManyPartitionsManyClients() throws Exception {
        genericTest(new Scenario(5, 5, false, false, true, NO_SNAPSHOTS, false), 4);
    }

    @Test
    void PersistOneClient() throws Exception {
        genericTest(new Scenario(1, 5, false, true, false, NO_SNAPSHOTS, false), 5);
    }

    @Test
    void PersistConcurrentUnreliable() throws Exception {
        genericTest(new Scenario(5, 5, true, true, false, NO_SNAPSHOTS, false), 6);
    }

    @Test
    void PersistPartition() throws Exception {
        genericTest(new Scenario(5, 5, false, true, true, NO_SNAPSHOTS, false), 7);
    }

    @Test
    void PersistPartitionUnreliable() throws Exception {
        genericTest(new Scenario(5, 5, true, true, true, NO_SNAPSHOTS, false), 8);
    }

    @Test
    void PersistPartitionUnreliableLinearizable() throws Exception {
        genericTest(new Scenario(15, 7, true, true, true, NO_SNAPSHOTS, true), 9);
    }

    @Test
    void SnapshotRecover() throws Exception {
        genericTest(new Scenario(1, 5, false, true, false, SNAPSHOT_EVERY, false), 10);
    }

    @Test
    void SnapshotRecoverManyClients() throws Exception {
        genericTest(new Scenario(20, 5, false, true, false, SNAPSHOT_EVERY, false), 11);
    }

    @Test
    void SnapshotUnreliable() throws Exception {
        genericTest(new Scenario(5, 5, true, false, false, SNAPSHOT_EVERY, false), 12);
    }

    @Test
    void SnapshotUnreliableRecover() throws Exception {
        genericTest(new Scenario(5, 5, true, true, false, SNAPSHOT_EVERY, false), 13);
    }

    @Test
    void SnapshotUnreliableRecoverConcurrentPartitionLinearizable() throws Exception {
        genericTest(new Scenario(15, 7, true, true, true, SNAPSHOT_EVERY, true), 14);
    }

    /**
     * 5 clients append 10 values each to one key over an unreliable network; every acknowledged
     * append lands exactly once, in its client's order (6.824 checkConcurrentAppends).
     */
    @Test
    void UnreliableOneKey() throws Exception {
        int clients = 5;
        int appendsPerClient = 10;
        ClientHistory history = new ClientHistory();
        List<String> failures = new ArrayList<>();
        List<List<Integer>> acknowledged = new ArrayList<>();
        List<Set<Integer>> unanswered = new ArrayList<>();
        try (LocalCluster cluster = new LocalCluster(dir, 3, NO_SNAPSHOTS).startAll()) {
            cluster.awaitLeader();
            makeUnreliable(cluster, 150);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int clientNumber = c;
                List<Integer> acked = new ArrayList<>();
                Set<Integer> unknown = new HashSet<>();
                acknowledged.add(acked);
                unanswered.add(unknown);
                threads.add(Thread.ofPlatform().name("onekey-" + c).start(() -> {
                    try (KvClient client = cluster.client(SHORT_ATTEMPT)) {
                        for (int j = 0; j < appendsPerClient; j++) {
                            Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Append("k", appendValue(clientNumber, j)));
                            (out.isPresent() ? acked : unknown).add(j);
                        }
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            try (KvClient client = cluster.client()) {
                Optional<KvOutput> value = history.run(client, 0, new KvInput.Get("k"));
                assertTrue(value.isPresent(), "final read of k got no answer");
                String v = valueOf(value.get());
                for (int c = 0; c < clients; c++) {
                    checkClientAppends(failures, c, v, acknowledged.get(c), unanswered.get(c));
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(clients * appendsPerClient, history.completed() + history.unknown() - 1);
        // Beyond 6.824 (which only checks the final value), the whole history is checked too: the
        // checker's append-only look-ahead makes five appenders with one final read decidable.
        assertLinearizable(history);
    }

    /**
     * A follower cut off while the others write enough to compact their logs must catch up through
     * an installed snapshot: after re-partitioning it forms the only majority with one old node.
     */
    @Test
    void SnapshotRPC() throws Exception {
        long threshold = 10;
        try (LocalCluster cluster = new LocalCluster(dir, 3, threshold).startAll(); KvClient all = cluster.client()) {
            cluster.awaitLeader();
            all.put("a", "A");
            cluster.partition(Set.of(1L, 2L), Set.of(3L));
            try (KvClient majority = cluster.client(List.of(1L, 2L))) {
                for (int i = 0; i < 50; i++) {
                    majority.put(Integer.toString(i), Integer.toString(i));
                }
                majority.put("b", "B");
            }
            LocalCluster.awaitCondition("nodes 1 and 2 compact their logs", () -> cluster.node(1).firstLogIndex(GROUP) > 10
                    && cluster.node(2).firstLogIndex(GROUP) > 10);
            assertLogsTrimmed(cluster, threshold);
            long before = cluster.node(3).snapshotIndex(GROUP);
            // Now {1, 3} is the majority: node 3 lacks entries node 1 no longer has in its log.
            cluster.partition(Set.of(1L, 3L), Set.of(2L));
            try (KvClient majority = cluster.client(List.of(1L, 3L))) {
                majority.put("c", "C");
                majority.put("d", "D");
                assertEquals(Optional.of("A"), majority.get("a"));
                assertEquals(Optional.of("B"), majority.get("b"));
                assertEquals(Optional.of("1"), majority.get("1"));
                assertEquals(Optional.of("49"), majority.get("49"));
            }
            assertTrue(cluster.node(3).snapshotIndex(GROUP) > before,
                    "node 3 should have installed a snapshot, snapshot index still " + cluster.node(3).snapshotIndex(GROUP));
            cluster.connectAll();
            all.put("e", "E");
            assertEquals(Optional.of("C"), all.get("c"));
            assertEquals(Optional.of("E"), all.get("e"));
            assertEquals(Optional.of("1"), all.get("1"));
            assertLogsTrimmed(cluster, threshold);
        }
    }

    /** Many overwrites of one key: logs stay trimmed, snapshots are taken and stay small (6.824 SnapshotSize). */
    @Test
    void SnapshotSize() throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, SNAPSHOT_EVERY).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeader();
            for (int i = 0; i < 200; i++) {
                client.put("x", "0");
                assertEquals(Optional.of("0"), client.get("x"));
                client.put("x", "1");
                assertEquals(Optional.of("1"), client.get("x"));
            }
            LocalCluster.awaitCondition("every node took a snapshot", () -> LongStream.rangeClosed(1, 3)
                    .allMatch(id -> cluster.node(id).snapshotIndex(GROUP) > 0));
            assertLogsTrimmed(cluster, SNAPSHOT_EVERY);
            // 6.824's maxsnapshotstate: the state is one short key (and one client session), so
            // its snapshot must stay small however many writes it absorbed.
            for (long id = 1; id <= 3; id++) {
                Path snapshots = cluster.node(id).config().dataDirectory().resolve("raft").resolve("snap")
                        .resolve(Long.toString(GROUP));
                long largestBytes;
                try (Stream<Path> files = Files.list(snapshots)) {
                    largestBytes = files.filter(f -> f.getFileName().toString().endsWith(".snap"))
                            .mapToLong(KvLabScenariosTest::sizeBytes).max().orElseThrow();
                }
                assertTrue(largestBytes <= 500, "node " + id + " snapshot of " + largestBytes + " bytes exceeds 500");
            }
        }
    }

    private void genericTest(Scenario scenario, long seed) throws Exception {
        ClientHistory history = new ClientHistory();
        List<String> failures = new ArrayList<>();
        try (LocalCluster cluster = new LocalCluster(dir, scenario.servers(), scenario.snapshotThresholdEntries()).startAll()) {
            cluster.awaitLeader();
            if (scenario.unreliable()) {
                makeUnreliable(cluster, seed * 100);
            }
            Random random = new Random(seed);
            for (int iteration = 0; iteration < ITERATIONS; iteration++) {
                AtomicBoolean done = new AtomicBoolean();
                ConcurrentLinkedQueue<String> clientFailures = new ConcurrentLinkedQueue<>();
                List<ClientRun> runs = new ArrayList<>();
                List<Thread> threads = new ArrayList<>();
                for (int c = 0; c < scenario.clients(); c++) {
                    ClientRun run = new ClientRun(c, new Random(seed * 1000 + iteration * 100 + c));
                    runs.add(run);
                    threads.add(Thread.ofPlatform().name("lab-client-" + c).start(() -> {
                        try (KvClient client = clientFor(cluster, scenario)) {
                            run.loop(client, history, scenario, done, clientFailures);
                        }
                    }));
                }
                Thread partitioner = null;
                if (scenario.partitions()) {
                    long partitionSeed = random.nextLong();
                    partitioner = Thread.ofPlatform().name("partitioner").start(() -> partitioner(cluster, scenario.servers(), done, partitionSeed));
                }
                Thread.sleep(LOAD_MILLIS);
                done.set(true);
                if (partitioner != null) {
                    partitioner.join();
                    cluster.connectAll();
                }
                if (scenario.crash()) {
                    // Crash every server (clients may be mid-operation) and restart them on their data.
                    for (long id : cluster.runningIds()) {
                        cluster.stop(id);
                    }
                    for (long id = 1; id <= scenario.servers(); id++) {
                        cluster.start(id);
                    }
                    if (scenario.unreliable()) {
                        makeUnreliable(cluster, seed * 100 + iteration + 1);
                    }
                }
                for (Thread thread : threads) {
                    thread.join();
                }
                failures.addAll(clientFailures);
                if (!scenario.randomKeys()) {
                    try (KvClient checker = cluster.client()) {
                        for (ClientRun run : runs) {
                            Optional<KvOutput> value = history.run(checker, 1_000 + iteration, new KvInput.Get(run.key()));
                            if (value.isEmpty()) {
                                failures.add("final read of " + run.key() + " got no answer");
                                continue;
                            }
                            String v = valueOf(value.get());
                            if (run.certain && !run.last.equals(v)) {
                                failures.add("iteration " + iteration + ": key " + run.key() + " wanted " + run.last + " got " + v);
                            }
                            checkClientAppends(failures, run.clientNumber, v, run.acknowledged, run.unanswered);
                        }
                    }
                }
                if (scenario.snapshots()) {
                    assertLogsTrimmed(cluster, scenario.snapshotThresholdEntries());
                } else {
                    for (long id : cluster.runningIds()) {
                        assertEquals(0, cluster.node(id).snapshotIndex(GROUP), "node " + id + " snapshotted although no threshold was reached");
                    }
                }
                assertTrue(failures.isEmpty(), "iteration " + iteration + ":\n" + String.join("\n", failures));
            }
            if (scenario.snapshots()) {
                LocalCluster.awaitCondition("some node took a snapshot",
                        () -> cluster.runningIds().stream().anyMatch(id -> cluster.node(id).snapshotIndex(GROUP) > 0));
            }
            LOG.info("{}: {} operations answered, {} unanswered; applied index {}, snapshot index {}", scenario,
                    history.completed(), history.unknown(), cluster.awaitLeader().appliedIndex(GROUP),
                    cluster.awaitLeader().snapshotIndex(GROUP));
        }
        assertTrue(history.completed() > scenario.clients(),
                history.completed() + " completed, " + history.unknown() + " unanswered");
        assertLinearizable(history);
    }

    /**
     * Our faults sit between peers, so client requests and replies are never lost as on 6.824's
     * network; instead, on a faulty network clients give up on attempts quickly, so that writes
     * which did commit are retried and must still be applied once.
     */
    private static KvClient clientFor(LocalCluster cluster, Scenario scenario) {
        return scenario.unreliable() || scenario.partitions() ? cluster.client(SHORT_ATTEMPT) : cluster.client();
    }

    /** 6.824's partitioner: every 600-1000 ms, put each server on a random side of a new cut. */
    private static void partitioner(LocalCluster cluster, int servers, AtomicBoolean done, long seed) {
        Random random = new Random(seed);
        sleepUnlessDone(500, done);
        while (!done.get()) {
            Set<Long> sideA = new HashSet<>();
            Set<Long> sideB = new HashSet<>();
            for (long id = 1; id <= servers; id++) {
                (random.nextBoolean() ? sideA : sideB).add(id);
            }
            cluster.partition(sideA, sideB);
            sleepUnlessDone(600 + random.nextInt(400), done);
        }
    }

    private static void sleepUnlessDone(long millis, AtomicBoolean done) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!done.get() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One 6.824 client of one iteration: appends and reads on its own key, or any key with randomKeys. */
    static final class ClientRun {
        final int clientNumber;
        final Random random;
        final List<Integer> acknowledged = new ArrayList<>();
        final Set<Integer> unanswered = new HashSet<>();
        String last = "";
        /** False once a write of ours went unanswered: then {@link #last} is only a guess. */
        boolean certain = true;

        ClientRun(int clientNumber, Random random) {
            this.clientNumber = clientNumber;
            this.random = random;
        }

        String key() {
            return Integer.toString(clientNumber);
        }

        void loop(KvClient client, ClientHistory history, Scenario scenario, AtomicBoolean done,
                ConcurrentLinkedQueue<String> failures) {
            if (!scenario.randomKeys()) {
                certain = history.run(client, clientNumber, new KvInput.Put(key(), "")).isPresent();
            }
            int j = 0;
            while (!done.get()) {
                String key = scenario.randomKeys() ? Integer.toString(random.nextInt(scenario.clients())) : key();
                String value = appendValue(clientNumber, j);
                if (random.nextInt(1000) < 500) {
                    Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Append(key, value));
                    if (!scenario.randomKeys()) {
                        if (out.isPresent()) {
                            acknowledged.add(j);
                            last = last + value;
                        } else {
                            unanswered.add(j);
                            certain = false;
                        }
                    }
                    j++;
                } else if (scenario.randomKeys() && random.nextInt(1000) < 100) {
                    history.run(client, clientNumber, new KvInput.Put(key, value));
                    j++;
                } else {
                    Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Get(key));
                    if (!scenario.randomKeys() && certain && out.isPresent() && !last.equals(valueOf(out.get()))) {
                        failures.add("client " + clientNumber + ": get " + key + " wanted " + last + " got " + valueOf(out.get()));
                    }
                }
            }
        }
    }

    private static long sizeBytes(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String appendValue(int clientNumber, int j) {
        return "x " + clientNumber + " " + j + " y";
    }

    static String valueOf(KvOutput output) {
        if (!(output instanceof KvOutput.Value value)) {
            throw new IllegalStateException("a read answered " + output);
        }
        return value.value() == null ? "" : value.value();
    }

    /**
     * 6.824 checkClntAppends, allowing for unanswered appends: each acknowledged append of
     * {@code clientNumber} is in {@code value} exactly once and in order; an unanswered one at most once.
     */
    static void checkClientAppends(List<String> failures, int clientNumber, String value, List<Integer> acknowledged,
            Set<Integer> unanswered) {
        int lastOffset = -1;
        for (int j : acknowledged) {
            String wanted = appendValue(clientNumber, j);
            int offset = value.indexOf(wanted);
            if (offset < 0) {
                failures.add("client " + clientNumber + ": acknowledged append '" + wanted + "' missing from " + value);
                return;
            }
            if (value.lastIndexOf(wanted) != offset) {
                failures.add("client " + clientNumber + ": append '" + wanted + "' present twice in " + value);
                return;
            }
            if (offset <= lastOffset) {
                failures.add("client " + clientNumber + ": append '" + wanted + "' out of order in " + value);
                return;
            }
            lastOffset = offset;
        }
        for (int j : unanswered) {
            String maybe = appendValue(clientNumber, j);
            int offset = value.indexOf(maybe);
            if (offset >= 0 && value.lastIndexOf(maybe) != offset) {
                failures.add("client " + clientNumber + ": unanswered append '" + maybe + "' present twice in " + value);
                return;
            }
        }
    }

    /** labrpc's unreliable network, between peers: 10% of messages dropped, the rest delayed 0-27 ms. */
    static void makeUnreliable(LocalCluster cluster, long seed) {
        for (long id : cluster.runningIds()) {
            PeerFaults faults = cluster.node(id).peerFaults();
            faults.dropRandomly(0.1, seed + id);
            faults.delayRandomly(27, seed + 50 + id);
        }
    }

    /** 6.824 checks the Raft state stays below 8 x maxraftstate; ours: the live log below 8 x the threshold. */
    static void assertLogsTrimmed(LocalCluster cluster, long thresholdEntries) {
        LocalCluster.awaitCondition(() -> "every log is trimmed to at most 8 x " + thresholdEntries + " entries: "
                + logLengths(cluster), () -> cluster.runningIds().stream()
                .allMatch(id -> logLength(cluster.node(id)) <= 8 * thresholdEntries));
    }

    private static long logLength(Store node) {
        return node.appliedIndex(GROUP) - node.firstLogIndex(GROUP) + 1;
    }

    private static String logLengths(LocalCluster cluster) {
        return cluster.runningIds().stream().map(id -> id + "=" + logLength(cluster.node(id)))
                .collect(Collectors.joining(", "));
    }

    static void assertLinearizable(ClientHistory history) {
        CheckResult result = history.check();
        LOG.info("linearizability: {} answered, {} unanswered operations: {} ({} search steps)",
                history.completed(), history.unknown(), result.verdict(), result.steps());
        if (!result.isOk()) {
            fail("history of " + history.completed() + " answered and " + history.unknown() + " unanswered operations is not "
                    + "linearizable: " + result);
        }
    }
}
