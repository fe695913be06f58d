package io.loomkv.tools;

import com.google.protobuf.ByteString;
import io.loomkv.bench.LatencyReport;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv demo}: starts a cluster (conf/local-3node unless {@code --config} names another)
 * as server processes (data and logs in run/demo/, wiped first), writes and reads some keys, runs
 * a closed-loop load, kills the leader (SIGKILL) in the middle of it and shows the cluster
 * recover, prints the latency report, and stops everything it started. With several data groups
 * (conf/sharded-3node) the store leading the most groups is killed, and the demo shows every
 * group it led electing a new leader and a write to every group succeeding.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a cluster (conf/local-3node), show reads and writes, run a load, kill the leader "
                + "(with several groups: the store leading the most), show recovery, stop.")
public final class DemoCommand implements Callable<Integer> {
    private static final Path RUN_DIR = ClusterProcesses.RUN.resolve("demo");

    @Option(names = "--seconds", defaultValue = "15", description = "length of the load phase (default: ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--clients", defaultValue = "16", description = "concurrent clients in the load (default: ${DEFAULT-VALUE})")
    int clients;

    @Option(names = "--config", defaultValue = "conf/local-3node", description = "config folder (default: ${DEFAULT-VALUE})")
    Path folder;

    @Override
    public Integer call() throws Exception {
        CtlCommand.quietLogs();
        if (seconds < 2 || seconds > 3600 || clients < 1 || clients > 1024) {
            System.err.println("error: --seconds must be in 2..3600 and --clients in 1..1024");
            return 2;
        }
        ClusterTarget target;
        try {
            target = ClusterTarget.fromFolder(folder);
        } catch (NodeConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Path clusterRun = ClusterProcesses.runDirectory(folder);
        for (NodeConfig config : target.configs()) {
            if (ClusterProcesses.running(clusterRun, config.nodeId()).isPresent()) {
                System.err.println("error: node " + config.nodeId() + " of " + folder
                        + " is already running (cluster up); stop it with ./loomkv cluster down first");
                return 1;
            }
        }
        ClusterProcesses.stopAll(RUN_DIR, Duration.ofSeconds(5));
        Optional<String> portsInUse = ClusterProcesses.portsInUse(RUN_DIR, target.configs());
        if (portsInUse.isPresent()) {
            System.err.println("error: " + portsInUse.get() + "; the demo needs them for its own servers");
            return 1;
        }
        deleteRecursively(RUN_DIR);
        try {
            return run(target);
        } finally {
            int stopped = ClusterProcesses.stopAll(RUN_DIR, Duration.ofSeconds(10));
            System.out.println();
            System.out.println("== stopped the " + stopped + " server processes the demo started (logs kept in " + RUN_DIR + ")");
        }
    }

    private int run(ClusterTarget target) throws IOException, InterruptedException {
        System.out.println("== starting " + target.configs().size() + " servers from " + folder + " (data and logs in " + RUN_DIR + ")");
        for (int i = 0; i < target.configs().size(); i++) {
            NodeConfig config = target.configs().get(i);
            ProcessHandle process = ClusterProcesses.start(RUN_DIR, config, target.configFiles().get(i),
                    List.of("--data-dir=" + RUN_DIR.resolve("node" + config.nodeId() + "-data")));
            System.out.println("   node " + config.nodeId() + ": pid " + process.pid() + ", clients at "
                    + MemberAddress.format(config.clientAddress()));
        }
        Optional<GroupTable> table = ClusterProcesses.awaitEveryGroupLed(target, Duration.ofSeconds(60), true);
        if (table.isEmpty() || !table.get().leaderless().isEmpty()) {
            System.err.println("error: " + (table.isEmpty() ? "no server answered" : "no leader for data groups "
                    + CompactRanges.ids(table.get().leaderless())) + " within 60 s; logs are in " + RUN_DIR);
            return 1;
        }
        if (table.get().groups().size() == 1) {
            System.out.println("   leader elected: node " + table.get().groups().get(0).leaderId());
        } else {
            System.out.println("   every one of the " + table.get().groups().size() + " data groups has a leader: "
                    + leadersText(table.get().groupsByLeader()));
        }
        try (KvClient client = new KvClient(KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)))) {
            showBasics(client);
            if (table.get().groups().size() > 1) {
                showGroupsOfKeys(client);
            }
            LoadResult load = runLoad(client, target);
            printStatus(client, target);
            System.out.println();
            System.out.println("== latency report (" + clients + " clients, 50% put / 50% linearizable get, 100-byte values)");
            load.report().printSummary(System.out);
            System.out.println("   " + load.report().toJsonLine());
            return load.report().errors() == 0 ? 0 : 1;
        }
    }

    private static void showBasics(KvClient client) {
        System.out.println();
        System.out.println("== writes and reads");
        Map<String, String> cities = Map.of("city/paris", "France", "city/lima", "Peru", "city/oslo", "Norway");
        cities.forEach((k, v) -> {
            client.put(k, v);
            System.out.println("   put " + k + " = " + v);
        });
        for (String k : cities.keySet().stream().sorted().toList()) {
            System.out.println("   get " + k + " -> " + client.get(k).orElse("(not found)"));
        }
        long length = client.append(ByteString.copyFromUtf8("city/lima"), ByteString.copyFromUtf8(" (capital)"));
        System.out.println("   append city/lima ' (capital)' -> length " + length + ", value " + client.get("city/lima").orElse("?"));
        boolean swapped = client.compareAndSet(ByteString.copyFromUtf8("city/oslo"), Optional.of(ByteString.copyFromUtf8("Norway")),
                ByteString.copyFromUtf8("Norge"));
        System.out.println("   cas city/oslo Norway -> Norge: " + (swapped ? "swapped" : "not swapped"));
        System.out.print("   scan city/ ->");
        for (KeyValue kv : client.scan(ByteString.copyFromUtf8("city/"), 10, ByteString.EMPTY).getEntriesList()) {
            System.out.print(" " + kv.getKey().toStringUtf8() + "=" + kv.getValue().toStringUtf8());
        }
        System.out.println();
    }

    private record LoadResult(LatencyReport report) {
    }

    private LoadResult runLoad(KvClient client, ClusterTarget target) throws InterruptedException, IOException {
        System.out.println();
        System.out.println("== load: " + clients + " clients for " + seconds + " s; the leader"
                + (client.layout().groups().size() == 1 ? "" : " store (the one leading the most groups)") + " is killed (SIGKILL) at "
                + seconds / 2 + " s");
        Recorder recorder = new Recorder(3);
        AtomicLong operations = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        long startNanos = System.nanoTime();
        long endNanos = startNanos + Duration.ofSeconds(seconds).toNanos();
        byte[] value = new byte[100];
        List<Thread> workers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            workers.add(Thread.ofVirtual().name("demo-load-" + c).start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() < endNanos) {
                    ByteString key = ByteString.copyFromUtf8("load/" + random.nextInt(1000));
                    long t0 = System.nanoTime();
                    try {
                        if (random.nextBoolean()) {
                            client.put(key, ByteString.copyFrom(value));
                        } else {
                            client.get(key);
                        }
                        recorder.recordValue(Math.max(1, System.nanoTime() - t0));
                        operations.incrementAndGet();
                    } catch (KvClientException e) {
                        if (errors.incrementAndGet() <= 3) {
                            System.out.println("   error: " + e.getMessage());
                        }
                    }
                }
            }));
        }
        Thread.sleep(Duration.ofSeconds(seconds / 2));
        killLeaderAndWatch(client, target);
        for (Thread worker : workers) {
            worker.join();
        }
        long elapsed = System.nanoTime() - startNanos;
        Histogram histogram = recorder.getIntervalHistogram();
        return new LoadResult(new LatencyReport("demo load", histogram, operations.get(), errors.get(), elapsed));
    }

    /** Which group each of the basic keys landed in: the client sent each to its own group's leader. */
    private static void showGroupsOfKeys(KvClient client) {
        SlotLayout layout = client.layout();
        StringBuilder line = new StringBuilder("   each key lives in its slot's group:");
        for (String key : List.of("city/lima", "city/oslo", "city/paris")) {
            int slot = Slots.slotOf(ByteString.copyFromUtf8(key));
            line.append(' ').append(key).append(" -> slot ").append(slot).append(", group ").append(layout.groupOf(slot)).append(';');
        }
        System.out.println(line.substring(0, line.length() - 1));
        System.out.println("   (the scan above asked every group and merged their pages in key order)");
    }

    private static String leadersText(Map<Long, List<Long>> groupsByLeader) {
        StringBuilder text = new StringBuilder();
        groupsByLeader.forEach((store, groups) -> text.append(text.isEmpty() ? "" : "; ").append("store ").append(store)
                .append(" leads ").append(groups.size() == 1 ? "group " : "groups ").append(CompactRanges.ids(groups)));
        return text.toString();
    }

    /**
     * Kills the store that leads the most groups (with one group: the leader), then times how long
     * until every group has a leader again and a write to every group succeeds, and restarts it.
     */
    private static void killLeaderAndWatch(KvClient client, ClusterTarget target) throws IOException {
        Optional<GroupTable> before = ClusterProcesses.awaitEveryGroupLed(target, Duration.ofSeconds(10), false);
        if (before.isEmpty() || before.get().busiestLeader().isEmpty()) {
            System.out.println("   no leader to kill right now");
            return;
        }
        long victim = before.get().busiestLeader().getAsLong();
        List<Long> led = before.get().groupsByLeader().get(victim);
        int groupCount = before.get().groups().size();
        Optional<ProcessHandle> process = ClusterProcesses.running(RUN_DIR, victim);
        if (process.isEmpty()) {
            System.out.println("   leader node " + victim + " has no process of ours");
            return;
        }
        long killedAt = System.nanoTime();
        process.get().destroyForcibly();
        process.get().onExit().join();
        System.out.println(groupCount == 1 ? "   killed leader node " + victim + " (pid " + process.get().pid() + ") with SIGKILL"
                : "   killed store " + victim + " (pid " + process.get().pid() + "), leader of " + led.size() + " of " + groupCount
                        + " groups (" + CompactRanges.ids(led) + "), with SIGKILL");
        Optional<GroupTable> after = ClusterProcesses.awaitEveryGroupLed(target, Duration.ofSeconds(30), false);
        long ledMillis = (System.nanoTime() - killedAt) / 1_000_000;
        if (after.isEmpty() || !after.get().leaderless().isEmpty()) {
            System.out.println("   groups still without a leader 30 s after the kill: "
                    + after.map(t -> CompactRanges.ids(t.leaderless())).orElse("all (no store answered)"));
        }
        // Time until a write succeeds again in every group: election plus the client finding the new leaders.
        try {
            client.multiPut(oneKeyPerGroup(client.layout()));
        } catch (KvClientException e) {
            System.out.println("   a write after the kill failed: " + e.getMessage());
            return;
        }
        long writtenMillis = (System.nanoTime() - killedAt) / 1_000_000;
        if (groupCount == 1) {
            System.out.println("   new leader: node " + after.map(t -> t.groups().get(0).leaderId()).orElse(0L) + " within " + ledMillis
                    + " ms of the kill; writes succeed again " + writtenMillis + " ms after the kill");
        } else {
            Map<Long, List<Long>> movedTo = new TreeMap<>();
            after.ifPresent(t -> led.forEach(g -> movedTo.computeIfAbsent(t.group(g).leaderId(), s -> new ArrayList<>()).add(g)));
            System.out.println("   every group has a leader again within " + ledMillis + " ms of the kill; the groups of store "
                    + victim + " are now led by: " + leadersText(movedTo));
            System.out.println("   a write to each of the " + groupCount + " groups succeeded " + writtenMillis + " ms after the kill");
        }
        int index = -1;
        for (int i = 0; i < target.configs().size(); i++) {
            if (target.configs().get(i).nodeId() == victim) {
                index = i;
            }
        }
        ClusterProcesses.start(RUN_DIR, target.configs().get(index), target.configFiles().get(index),
                List.of("--data-dir=" + RUN_DIR.resolve("node" + victim + "-data")));
        System.out.println("   restarted " + (groupCount == 1 ? "node " : "store ") + victim
                + "; it recovers from its WAL and catches up from the " + (groupCount == 1 ? "leader" : "leaders")
                + (groupCount == 1 ? "" : "; the balancer hands its preferred groups back to it once it has caught up"));
    }

    /** A key in every group of {@code layout}, found by trying {@code demo/recovery/0, 1, ...}. */
    private static Map<ByteString, ByteString> oneKeyPerGroup(SlotLayout layout) {
        Map<Long, ByteString> keys = new TreeMap<>();
        for (int i = 0; keys.size() < layout.groups().size() && i < 1_000_000; i++) {
            ByteString key = ByteString.copyFromUtf8("demo/recovery/" + i);
            keys.putIfAbsent(layout.groupOf(Slots.slotOf(key)), key);
        }
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        keys.values().forEach(k -> entries.put(k, ByteString.copyFromUtf8("after-kill")));
        return entries;
    }

    /** Waits until every store answers and has applied each group it hosts as far as any replica of it, then prints the state. */
    private static void printStatus(KvClient client, ClusterTarget target) {
        System.out.println();
        System.out.println("== cluster status after the load");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        boolean caughtUp = false;
        while (!caughtUp && System.nanoTime() < deadline) {
            caughtUp = everyReplicaCaughtUp(client, target);
            if (!caughtUp) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        Optional<GroupTable> table = GroupTable.gather(client, target.clientAddresses());
        if (table.isPresent() && table.get().groups().size() > 1) {
            GroupListing.print(GroupListing.lines(client, table.get()), table.get(), false, System.out);
            System.out.println(caughtUp ? "   every store has applied every group's log as far as its leader"
                    : "   not every store caught up within 30 s");
            return;
        }
        System.out.printf("   %-4s %-10s %-6s %-8s %-8s %-7s%n", "ID", "ROLE", "TERM", "COMMIT", "APPLIED", "LEADER");
        for (var address : target.clientAddresses()) {
            try {
                NodeStatusReply s = client.status(address);
                System.out.printf("   %-4d %-10s %-6d %-8d %-8d %-7d%n", s.getNodeId(), s.getRole(), s.getTerm(),
                        s.getCommitIndex(), s.getAppliedIndex(), s.getLeaderId());
            } catch (RuntimeException e) {
                System.out.println("   " + MemberAddress.format(address) + " unreachable: " + e.getMessage());
            }
        }
    }

    /** Every store answers, and every replica of a group has applied as far as the furthest one. */
    private static boolean everyReplicaCaughtUp(KvClient client, ClusterTarget target) {
        Map<Long, Long> furthest = new HashMap<>();
        List<GroupView> views = new ArrayList<>();
        for (var address : target.clientAddresses()) {
            try {
                views.addAll(client.layoutOf(address).getGroupsList());
            } catch (RuntimeException e) {
                return false;
            }
        }
        views.removeIf(v -> "NONE".equals(v.getRole()));
        views.forEach(v -> furthest.merge(v.getGroupId(), v.getAppliedIndex(), Math::max));
        return views.stream().allMatch(v -> v.getAppliedIndex() == furthest.get(v.getGroupId()));
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
