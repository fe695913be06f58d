package io.loomkv.tools;

import com.google.protobuf.ByteString;
import io.loomkv.bench.LatencyReport;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.proto.NodeStatusReply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv demo}: starts the conf/local-3node cluster as three server processes (data and
 * logs in run/demo/, wiped first), writes and reads some keys, runs a closed-loop load, kills the
 * leader (SIGKILL) in the middle of it and shows the cluster recover, prints the latency report,
 * and stops everything it started.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start conf/local-3node, show reads and writes, run a load, kill the leader, show recovery, stop.")
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
                    + io.loomkv.net.node.MemberAddress.format(config.clientAddress()));
        }
        Optional<NodeStatusReply> leader = ClusterProcesses.awaitLeader(target, Duration.ofSeconds(60));
        if (leader.isEmpty()) {
            System.err.println("error: no leader within 60 s; logs are in " + RUN_DIR);
            return 1;
        }
        System.out.println("   leader elected: node " + leader.get().getNodeId() + " (term " + leader.get().getTerm() + ")");
        try (KvClient client = new KvClient(KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)))) {
            showBasics(client);
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
        System.out.println("== load: " + clients + " clients for " + seconds + " s; the leader is killed (SIGKILL) at " + seconds / 2 + " s");
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

    private static void killLeaderAndWatch(KvClient client, ClusterTarget target) throws IOException {
        Optional<NodeStatusReply> leader = ClusterProcesses.awaitLeader(target, Duration.ofSeconds(10));
        if (leader.isEmpty()) {
            System.out.println("   no leader to kill right now");
            return;
        }
        long leaderId = leader.get().getNodeId();
        Optional<ProcessHandle> process = ClusterProcesses.running(RUN_DIR, leaderId);
        if (process.isEmpty()) {
            System.out.println("   leader node " + leaderId + " has no process of ours");
            return;
        }
        long killedAt = System.nanoTime();
        process.get().destroyForcibly();
        process.get().onExit().join();
        System.out.println("   killed leader node " + leaderId + " (pid " + process.get().pid() + ") with SIGKILL");
        // Time until a write succeeds again: election plus the client finding the new leader.
        try {
            client.put("demo/recovery", "after-kill");
        } catch (KvClientException e) {
            System.out.println("   a write after the kill failed: " + e.getMessage());
            return;
        }
        long recoveredMillis = (System.nanoTime() - killedAt) / 1_000_000;
        Optional<NodeStatusReply> next = ClusterProcesses.awaitLeader(target, Duration.ofSeconds(30));
        System.out.println("   new leader: node " + next.map(NodeStatusReply::getNodeId).orElse(0L) + " (term "
                + next.map(NodeStatusReply::getTerm).orElse(0L) + "); writes succeed again " + recoveredMillis + " ms after the kill");
        int index = -1;
        for (int i = 0; i < target.configs().size(); i++) {
            if (target.configs().get(i).nodeId() == leaderId) {
                index = i;
            }
        }
        ClusterProcesses.start(RUN_DIR, target.configs().get(index), target.configFiles().get(index),
                List.of("--data-dir=" + RUN_DIR.resolve("node" + leaderId + "-data")));
        System.out.println("   restarted node " + leaderId + "; it recovers from its WAL and catches up from the leader");
    }

    private static void printStatus(KvClient client, ClusterTarget target) {
        System.out.println();
        System.out.println("== cluster status after the load");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<NodeStatusReply> statuses = List.of();
        while (System.nanoTime() < deadline) {
            statuses = new ArrayList<>();
            for (var address : target.clientAddresses()) {
                try {
                    statuses.add(client.status(address));
                } catch (RuntimeException e) {
                    // Still starting.
                }
            }
            long maxApplied = statuses.stream().mapToLong(NodeStatusReply::getAppliedIndex).max().orElse(0);
            if (statuses.size() == target.clientAddresses().size()
                    && statuses.stream().allMatch(s -> s.getAppliedIndex() == maxApplied)) {
                break;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        System.out.printf("   %-4s %-10s %-6s %-8s %-8s %-7s%n", "ID", "ROLE", "TERM", "COMMIT", "APPLIED", "LEADER");
        for (NodeStatusReply s : statuses) {
            System.out.printf("   %-4d %-10s %-6d %-8d %-8d %-7d%n", s.getNodeId(), s.getRole(), s.getTerm(),
                    s.getCommitIndex(), s.getAppliedIndex(), s.getLeaderId());
        }
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
