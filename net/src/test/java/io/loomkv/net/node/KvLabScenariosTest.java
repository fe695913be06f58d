package io.loomkv.net.node;

// Why this file is long: it holds the MIT 6.824 KV lab scenarios by name, in one place, the way the
// lab lists them, so a reader can check them against the lab one for one; the cluster, client and
// history helpers they share are already in LocalCluster and the lincheck package.

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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Every scenario runs twice on the same stores: with one data group, and with the slots split
 * over {@value #SHARDED_GROUPS} groups, each a Raft group of its own on every store (DESIGN.md
 * "Multi-Raft and sharding"). With several groups each client works on one key per group (the
 * first of "c", "c.1", "c.2", ... that falls in that group; with one group that is 6.824's key
 * "c"), so every group carries load, and the per-group facts (snapshots taken, logs trimmed, a
 * lagging store caught up through a snapshot) are checked for every group.
 */
class KvLabScenariosTest {
    private static final Logger LOG = LoggerFactory.getLogger(KvLabScenariosTest.class);
    static final int ITERATIONS = 2;
    static final int SHARDED_GROUPS = 4;
    static final long LOAD_MILLIS = 1_800;
    /** "maxraftstate = -1": a threshold never reached, so no snapshot may appear. */
    private static final Duration SHORT_ATTEMPT = Duration.ofMillis(250);
    static final long NO_SNAPSHOTS = 1_000_000_000L;
    /** Our analogue of 6.824's maxraftstate = 1000 bytes: snapshot every 50 applied entries. */
    static final long SNAPSHOT_EVERY = 50;

    @TempDir
    Path dir;

    /** 6.824 GenericTest flags (servers is its nservers). */
    record Scenario(int clients, int servers, boolean unreliable, boolean crash, boolean partitions,
            long snapshotThresholdEntries, boolean randomKeys) {
        boolean snapshots() {
            return snapshotThresholdEntries != NO_SNAPSHOTS;
        }

        Scenario withSnapshotThreshold(long entries) {
            return new Scenario(clients, servers, unreliable, crash, partitions, entries, randomKeys);
        }
    }

    /** The group counts every scenario runs with: one group, and the slots split over several. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0} groups")
    @ValueSource(ints = {1, SHARDED_GROUPS})
    @interface OneAndManyGroups {
    }

    @OneAndManyGroups
    void Basic(int groups) throws Exception {
        genericTest(new Scenario(1, 5, false, false, false, NO_SNAPSHOTS, false), groups, 1);
    }

    @OneAndManyGroups
    void Concurrent(int groups) throws Exception {
        genericTest(new Scenario(5, 5, false, false, false, NO_SNAPSHOTS, false), groups, 2);
    }

    @OneAndManyGroups
    void ManyPartitionsOneClient(int groups) throws Exception {
        genericTest(new Scenario(1, 5, false, false, true, NO_SNAPSHOTS, false), groups, 3);
    }

    @OneAndManyGroups
    void ManyPartitionsManyClients(int groups) throws Exception {
        genericTest(new Scenario(5, 5, false, false, true, NO_SNAPSHOTS, false), groups, 4);
    }

    @OneAndManyGroups
    void PersistOneClient(int groups) throws Exception {
        genericTest(new Scenario(1, 5, false, true, false, NO_SNAPSHOTS, false), groups, 5);
    }

    @OneAndManyGroups
    void PersistConcurrentUnreliable(int groups) throws Exception {
        genericTest(new Scenario(5, 5, true, true, false, NO_SNAPSHOTS, false), groups, 6);
    }

    @OneAndManyGroups
    void PersistPartition(int groups) throws Exception {
        genericTest(new Scenario(5, 5, false, true, true, NO_SNAPSHOTS, false), groups, 7);
    }

    @OneAndManyGroups
    void PersistPartitionUnreliable(int groups) throws Exception {
        genericTest(new Scenario(5, 5, true, true, true, NO_SNAPSHOTS, false), groups, 8);
    }

    @OneAndManyGroups
    void PersistPartitionUnreliableLinearizable(int groups) throws Exception {
        genericTest(new Scenario(15, 7, true, true, true, NO_SNAPSHOTS, true), groups, 9);
    }

    @OneAndManyGroups
    void SnapshotRecover(int groups) throws Exception {
        genericTest(new Scenario(1, 5, false, true, false, SNAPSHOT_EVERY, false), groups, 10);
    }

    @OneAndManyGroups
    void SnapshotRecoverManyClients(int groups) throws Exception {
        genericTest(new Scenario(20, 5, false, true, false, SNAPSHOT_EVERY, false), groups, 11);
    }

    @OneAndManyGroups
    void SnapshotUnreliable(int groups) throws Exception {
        genericTest(new Scenario(5, 5, true, false, false, SNAPSHOT_EVERY, false), groups, 12);
    }

    @OneAndManyGroups
    void SnapshotUnreliableRecover(int groups) throws Exception {
        genericTest(new Scenario(5, 5, true, true, false, SNAPSHOT_EVERY, false), groups, 13);
    }

    @OneAndManyGroups
    void SnapshotUnreliableRecoverConcurrentPartitionLinearizable(int groups) throws Exception {
        genericTest(new Scenario(15, 7, true, true, true, SNAPSHOT_EVERY, true), groups, 14);
    }

    /**
     * 5 clients append 10 values each to one key over an unreliable network; every acknowledged
     * append lands exactly once, in its client's order (6.824 checkConcurrentAppends). With
     * several groups there is one such key per group, and a client's j-th append goes to the key
     * of group j mod groups: the groups run the scenario side by side.
     */
    @OneAndManyGroups
    void UnreliableOneKey(int groups) throws Exception {
        int clients = 5;
        int appendsPerClient = 10;
        ClientHistory history = new ClientHistory();
        List<String> failures = new ArrayList<>();
        try (LocalCluster cluster = new LocalCluster(dir, 3, NO_SNAPSHOTS, groups).startAll()) {
            cluster.awaitLeaders();
            List<String> keys = cluster.groups().stream().map(g -> cluster.keyIn(g, "k")).toList();
            List<KeyRun> runs = new ArrayList<>();
            makeUnreliable(cluster, 150);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int clientNumber = c;
                List<KeyRun> mine = keys.stream().map(KeyRun::new).toList();
                runs.addAll(mine);
                threads.add(Thread.ofPlatform().name("onekey-" + c).start(() -> {
                    try (KvClient client = cluster.client(SHORT_ATTEMPT)) {
                        for (int j = 0; j < appendsPerClient; j++) {
                            KeyRun run = mine.get(j % mine.size());
                            Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Append(run.key, appendValue(clientNumber, j)));
                            (out.isPresent() ? run.acknowledged : run.unanswered).add(j);
                        }
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join();
            }
            try (KvClient client = cluster.client()) {
                for (String key : keys) {
                    Optional<KvOutput> value = history.run(client, 0, new KvInput.Get(key));
                    assertTrue(value.isPresent(), "final read of " + key + " got no answer");
                    String v = valueOf(value.get());
                    for (int r = 0; r < runs.size(); r++) {
                        if (runs.get(r).key.equals(key)) {
                            checkClientAppends(failures, r / keys.size(), v, runs.get(r).acknowledged, runs.get(r).unanswered);
                        }
                    }
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(clients * appendsPerClient, history.completed() + history.unknown() - groups);
        // Beyond 6.824 (which only checks the final value), the whole history is checked too: the
        // checker's append-only look-ahead makes five appenders with one final read decidable.
        assertLinearizable(history);
    }

    /**
     * A follower cut off while the others write enough to compact their logs must catch up through
     * an installed snapshot: after re-partitioning it forms the only majority with one old node.
     * With several groups, every group is written, compacted, and caught up by snapshot.
     */
    @OneAndManyGroups
    void SnapshotRPC(int groups) throws Exception {
        snapshotRpc(groups, EngineKind.MEMORY);
    }

    /** {@link #SnapshotRPC} on {@code engine}: on a persistent one the leader writes the file only for the lagging follower. */
    void snapshotRpc(int groups, EngineKind engine) throws Exception {
        long threshold = 10;
        try (LocalCluster cluster = new LocalCluster(dir, 3, threshold, groups).withEngine(engine).startAll();
                KvClient all = cluster.client()) {
            cluster.awaitLeaders();
            List<Long> groupIds = cluster.groups();
            for (long g : groupIds) {
                all.put(cluster.keyIn(g, "a"), "A");
            }
            cluster.partition(Set.of(1L, 2L), Set.of(3L));
            try (KvClient majority = cluster.client(List.of(1L, 2L))) {
                for (long g : groupIds) {
                    for (int i = 0; i < 50; i++) {
                        majority.put(cluster.keyIn(g, Integer.toString(i)), Integer.toString(i));
                    }
                    majority.put(cluster.keyIn(g, "b"), "B");
                }
            }
            LocalCluster.awaitCondition("nodes 1 and 2 compact the logs of every group", () -> groupIds.stream()
                    .allMatch(g -> cluster.node(1).firstLogIndex(g) > 10 && cluster.node(2).firstLogIndex(g) > 10));
            assertLogsTrimmed(cluster, threshold);
            Map<Long, Long> before = new HashMap<>();
            for (long g : groupIds) {
                before.put(g, cluster.node(3).snapshotFileIndex(g));
            }
            // Now {1, 3} is the majority: node 3 lacks entries node 1 no longer has in its log.
            cluster.partition(Set.of(1L, 3L), Set.of(2L));
            try (KvClient majority = cluster.client(List.of(1L, 3L))) {
                for (long g : groupIds) {
                    // A write commits only once node 3 holds the log: through a snapshot of this group.
                    majority.put(cluster.keyIn(g, "c"), "C");
                    majority.put(cluster.keyIn(g, "d"), "D");
                    assertEquals(Optional.of("A"), majority.get(cluster.keyIn(g, "a")));
                    assertEquals(Optional.of("B"), majority.get(cluster.keyIn(g, "b")));
                    assertEquals(Optional.of("1"), majority.get(cluster.keyIn(g, "1")));
                    assertEquals(Optional.of("49"), majority.get(cluster.keyIn(g, "49")));
                }
            }
            for (long g : groupIds) {
                assertTrue(cluster.node(3).snapshotFileIndex(g) > before.get(g), "node 3 should have installed a snapshot of group "
                        + g + ", snapshot file index still " + cluster.node(3).snapshotFileIndex(g));
            }
            cluster.connectAll();
            for (long g : groupIds) {
                all.put(cluster.keyIn(g, "e"), "E");
                assertEquals(Optional.of("C"), all.get(cluster.keyIn(g, "c")));
                assertEquals(Optional.of("E"), all.get(cluster.keyIn(g, "e")));
                assertEquals(Optional.of("1"), all.get(cluster.keyIn(g, "1")));
            }
            assertLogsTrimmed(cluster, threshold);
        }
    }

    /**
     * Many overwrites of one key: logs stay trimmed, snapshots are taken and stay small (6.824
     * SnapshotSize). With several groups, one such key per group, the rounds spread over them.
     */
    @OneAndManyGroups
    void SnapshotSize(int groups) throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, SNAPSHOT_EVERY, groups).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeaders();
            List<Long> groupIds = cluster.groups();
            for (int i = 0; i < 200; i++) {
                String x = cluster.keyIn(groupIds.get(i % groupIds.size()), "x");
                client.put(x, "0");
                assertEquals(Optional.of("0"), client.get(x));
                client.put(x, "1");
                assertEquals(Optional.of("1"), client.get(x));
            }
            LocalCluster.awaitCondition(() -> "every node took a snapshot of every group: " + snapshotIndexes(cluster),
                    () -> LongStream.rangeClosed(1, 3).allMatch(id -> groupIds.stream().allMatch(g -> cluster.node(id).snapshotIndex(g) > 0)));
            assertLogsTrimmed(cluster, SNAPSHOT_EVERY);
            // 6.824's maxsnapshotstate: the state is one short key (and one client session), so
            // its snapshot must stay small however many writes it absorbed.
            for (long id = 1; id <= 3; id++) {
                for (long g : groupIds) {
                    Path snapshots = cluster.node(id).config().dataDirectory().resolve("raft").resolve("snap")
                            .resolve(Long.toString(g));
                    long largestBytes;
                    try (Stream<Path> files = Files.list(snapshots)) {
                        largestBytes = files.filter(f -> f.getFileName().toString().endsWith(".snap"))
                                .mapToLong(KvLabScenariosTest::sizeBytes).max().orElseThrow();
                    }
                    assertTrue(largestBytes <= 500, "node " + id + " group " + g + " snapshot of " + largestBytes + " bytes exceeds 500");
                }
            }
        }
    }

    /**
     * 6.824's GenericTest. With several groups each group sees about 1/groups of the load, so the
     * snapshot threshold is divided by the group count (at least 10 entries): every group then
     * takes snapshots as often as the one group does, also when a slow box serves few operations.
     */
    private void genericTest(Scenario requested, int groups, long seed) throws Exception {
        genericTest(requested, groups, seed, EngineKind.MEMORY);
    }

    /** {@link #genericTest(Scenario, int, long)} with the groups' data in {@code engine} (KvLabScenariosOnRocksDbTest). */
    void genericTest(Scenario requested, int groups, long seed, EngineKind engine) throws Exception {
        ClientHistory history = new ClientHistory();
        List<String> failures = new ArrayList<>();
        Scenario scenario = requested.snapshots()
                ? requested.withSnapshotThreshold(Math.max(10, requested.snapshotThresholdEntries() / groups)) : requested;
        try (LocalCluster cluster = new LocalCluster(dir, scenario.servers(), scenario.snapshotThresholdEntries(), groups)
                .withEngine(engine).startAll()) {
            cluster.awaitLeaders();
            if (scenario.unreliable()) {
                makeUnreliable(cluster, seed * 100);
            }
            // keys.get(c).get(i): client c's key in the i-th group.
            List<List<String>> keys = new ArrayList<>();
            for (int c = 0; c < scenario.clients(); c++) {
                String base = Integer.toString(c);
                keys.add(cluster.groups().stream().map(g -> cluster.keyIn(g, base)).toList());
            }
            Random random = new Random(seed);
            for (int iteration = 0; iteration < ITERATIONS; iteration++) {
                AtomicBoolean done = new AtomicBoolean();
                ConcurrentLinkedQueue<String> clientFailures = new ConcurrentLinkedQueue<>();
                List<ClientRun> runs = new ArrayList<>();
                List<Thread> threads = new ArrayList<>();
                for (int c = 0; c < scenario.clients(); c++) {
                    ClientRun run = new ClientRun(c, keys, new Random(seed * 1000 + iteration * 100 + c));
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
                            for (KeyRun keyRun : run.keys) {
                                checkFinalValue(history, checker, iteration, run.clientNumber, keyRun, failures);
                            }
                        }
                    }
                }
                if (scenario.snapshots()) {
                    assertLogsTrimmed(cluster, scenario.snapshotThresholdEntries());
                } else {
                    for (long id : cluster.runningIds()) {
                        for (long g : cluster.groups()) {
                            assertEquals(0, cluster.node(id).snapshotIndex(g), "node " + id + " snapshotted group " + g
                                    + " although no threshold was reached");
                        }
                    }
                }
                assertTrue(failures.isEmpty(), "iteration " + iteration + ":\n" + String.join("\n", failures));
            }
            if (scenario.snapshots()) {
                LocalCluster.awaitCondition(() -> "in every group some node took a snapshot: " + snapshotIndexes(cluster),
                        () -> cluster.groups().stream().allMatch(g -> cluster.runningIds().stream()
                                .anyMatch(id -> cluster.node(id).snapshotIndex(g) > 0)));
            }
            for (long g : cluster.groups()) {
                Store leader = cluster.awaitLeader(g);
                LOG.info("{}, {} groups: group {} applied index {}, snapshot index {}", scenario, groups, g,
                        leader.appliedIndex(g), leader.snapshotIndex(g));
            }
            LOG.info("{}, {} groups: {} operations answered, {} unanswered", scenario, groups, history.completed(), history.unknown());
        }
        assertTrue(history.completed() > scenario.clients(),
                history.completed() + " completed, " + history.unknown() + " unanswered");
        assertLinearizable(history);
    }

    private static void checkFinalValue(ClientHistory history, KvClient checker, int iteration, int clientNumber, KeyRun run,
            List<String> failures) {
        Optional<KvOutput> value = history.run(checker, 1_000 + iteration, new KvInput.Get(run.key));
        if (value.isEmpty()) {
            failures.add("final read of " + run.key + " got no answer");
            return;
        }
        String v = valueOf(value.get());
        if (run.certain && !run.last.equals(v)) {
            failures.add("iteration " + iteration + ": key " + run.key + " wanted " + run.last + " got " + v);
        }
        checkClientAppends(failures, clientNumber, v, run.acknowledged, run.unanswered);
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

    /** What one client did to one of its keys in one iteration. */
    static final class KeyRun {
        final String key;
        final List<Integer> acknowledged = new ArrayList<>();
        final Set<Integer> unanswered = new HashSet<>();
        String last = "";
        /** False once a write of ours went unanswered: then {@link #last} is only a guess. */
        boolean certain = true;

        KeyRun(String key) {
            this.key = key;
        }
    }

    /**
     * One 6.824 client of one iteration: appends and reads on its own key (one per group), or on
     * any client's keys with randomKeys.
     */
    static final class ClientRun {
        final int clientNumber;
        final Random random;
        final List<List<String>> allKeys;
        final List<KeyRun> keys;

        ClientRun(int clientNumber, List<List<String>> allKeys, Random random) {
            this.clientNumber = clientNumber;
            this.random = random;
            this.allKeys = allKeys;
            this.keys = allKeys.get(clientNumber).stream().map(KeyRun::new).toList();
        }

        /** One of our keys; with one group always the same, drawing nothing from the random stream. */
        private KeyRun pick() {
            return keys.size() == 1 ? keys.get(0) : keys.get(random.nextInt(keys.size()));
        }

        void loop(KvClient client, ClientHistory history, Scenario scenario, AtomicBoolean done,
                ConcurrentLinkedQueue<String> failures) {
            if (!scenario.randomKeys()) {
                for (KeyRun run : keys) {
                    run.certain = history.run(client, clientNumber, new KvInput.Put(run.key, "")).isPresent();
                }
            }
            int j = 0;
            while (!done.get()) {
                KeyRun run = scenario.randomKeys() ? null : pick();
                String key = run != null ? run.key : randomKey(scenario);
                String value = appendValue(clientNumber, j);
                if (random.nextInt(1000) < 500) {
                    Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Append(key, value));
                    if (run != null) {
                        if (out.isPresent()) {
                            run.acknowledged.add(j);
                            run.last = run.last + value;
                        } else {
                            run.unanswered.add(j);
                            run.certain = false;
                        }
                    }
                    j++;
                } else if (scenario.randomKeys() && random.nextInt(1000) < 100) {
                    history.run(client, clientNumber, new KvInput.Put(key, value));
                    j++;
                } else {
                    Optional<KvOutput> out = history.run(client, clientNumber, new KvInput.Get(key));
                    if (run != null && run.certain && out.isPresent() && !run.last.equals(valueOf(out.get()))) {
                        failures.add("client " + clientNumber + ": get " + key + " wanted " + run.last + " got " + valueOf(out.get()));
                    }
                }
            }
        }

        private String randomKey(Scenario scenario) {
            List<String> someClients = allKeys.get(random.nextInt(scenario.clients()));
            return someClients.size() == 1 ? someClients.get(0) : someClients.get(random.nextInt(someClients.size()));
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

    /**
     * 6.824 checks the Raft state stays below 8 x maxraftstate; ours: the live log of every group
     * on every store below 8 x the threshold.
     */
    static void assertLogsTrimmed(LocalCluster cluster, long thresholdEntries) {
        LocalCluster.awaitCondition(() -> "every log of every group is trimmed to at most 8 x " + thresholdEntries
                + " entries: " + logLengths(cluster), () -> cluster.runningIds().stream()
                .allMatch(id -> cluster.groups().stream().allMatch(g -> logLength(cluster.node(id), g) <= 8 * thresholdEntries)));
    }

    private static long logLength(Store node, long group) {
        return node.appliedIndex(group) - node.firstLogIndex(group) + 1;
    }

    /** "store/group=length" for every store and group. */
    private static String logLengths(LocalCluster cluster) {
        return cluster.runningIds().stream().flatMap(id -> cluster.groups().stream()
                .map(g -> id + "/" + g + "=" + logLength(cluster.node(id), g))).collect(Collectors.joining(", "));
    }

    /** "store/group=snapshot index" for every store and group. */
    private static String snapshotIndexes(LocalCluster cluster) {
        return cluster.runningIds().stream().flatMap(id -> cluster.groups().stream()
                .map(g -> id + "/" + g + "=" + cluster.node(id).snapshotIndex(g))).collect(Collectors.joining(", "));
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
