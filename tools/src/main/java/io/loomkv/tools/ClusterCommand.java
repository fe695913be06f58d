package io.loomkv.tools;

import io.loomkv.bench.ClientTlsOptions;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code loomkv cluster up [DIR] | down [DIR] | status [DIR]}: a local cluster of server processes. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Start, stop and inspect a local cluster: one server process per config file in DIR.")
public final class ClusterCommand implements Callable<Integer> {
    static final String DEFAULT_FOLDER = "conf/local-3node";
    /** Elections of every group: a few election timeouts, plus JVM start-up on a loaded machine. */
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(60);

    @Override
    public Integer call() {
        System.err.println("usage: ./loomkv cluster up [DIR] | down [DIR] | status [DIR]   (DIR defaults to " + DEFAULT_FOLDER + ")");
        return 2;
    }

    @Command(name = "up", description = "Start one server per config in DIR (default conf/local-3node), wait until every data group and the shard controller have a leader, print the groups.")
    int up(@Parameters(paramLabel = "DIR", arity = "0..1") String dir) throws IOException {
        CtlCommand.quietLogs();
        Path folder = Path.of(dir == null ? DEFAULT_FOLDER : dir);
        ClusterTarget target;
        try {
            target = ClusterTarget.fromFolder(folder);
        } catch (NodeConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Path runDir = ClusterProcesses.runDirectory(folder);
        Optional<Path> recorded = LocalClusters.recordedFolder(runDir);
        if (recorded.isPresent() && !recorded.get().equals(folder.toAbsolutePath().normalize())
                && LocalClusters.running(ClusterProcesses.RUN).stream().anyMatch(r -> r.runDirectory().equals(runDir))) {
            // Both folders have the same name, so they would share the run folder's pid files and logs.
            System.err.println("error: " + runDir + " holds the running cluster of " + recorded.get() + "; stop it first ("
                    + "./loomkv cluster down " + LocalClusters.display(recorded.get()) + "); nothing was started");
            return 1;
        }
        Optional<String> portsInUse = ClusterProcesses.portsInUse(runDir, target.configs());
        if (portsInUse.isPresent()) {
            System.err.println("error: " + portsInUse.get() + "; nothing was started");
            return 1;
        }
        LocalClusters.record(runDir, folder);
        for (int i = 0; i < target.configs().size(); i++) {
            NodeConfig config = target.configs().get(i);
            boolean already = ClusterProcesses.running(runDir, config.nodeId()).isPresent();
            ProcessHandle process = ClusterProcesses.start(runDir, config, target.configFiles().get(i));
            System.out.printf("node %d: %s pid %d, clients %s, log %s%n", config.nodeId(), already ? "already running," : "started,",
                    process.pid(), MemberAddress.format(config.clientAddress()), ClusterProcesses.logFile(runDir, config.nodeId()));
        }
        Optional<GroupTable> table = ClusterProcesses.awaitEveryGroupLed(target, LEADER_TIMEOUT, true);
        Optional<String> notUp = table.isEmpty() ? Optional.of("no server answered") : notUp(table.get());
        if (notUp.isPresent()) {
            System.err.println("error: " + notUp.get() + " within " + LEADER_TIMEOUT.toSeconds() + " s; see the logs under " + runDir);
            for (NodeConfig config : target.configs()) {
                if (ClusterProcesses.running(runDir, config.nodeId()).isEmpty()) {
                    System.err.println("node " + config.nodeId() + " is not running; its log ends with:\n"
                            + ClusterProcesses.tail(ClusterProcesses.logFile(runDir, config.nodeId()), 15));
                }
            }
            return 1;
        }
        for (NodeConfig config : target.configs()) {
            if (ClusterProcesses.running(runDir, config.nodeId()).isEmpty()) {
                System.err.println("error: node " + config.nodeId() + " exited; its log ends with:\n"
                        + ClusterProcesses.tail(ClusterProcesses.logFile(runDir, config.nodeId()), 15));
                return 1;
            }
        }
        printLayout(target, table.get());
        String clusterFlag = folder.equals(Path.of(DEFAULT_FOLDER)) ? "" : " --cluster " + folder;
        System.out.println("try:   ./loomkv ctl" + clusterFlag + " put hello world && ./loomkv ctl" + clusterFlag
                + " get hello && ./loomkv ctl" + clusterFlag + " status");
        if (table.get().groups().size() > 1) {
            System.out.println("       ./loomkv ctl" + clusterFlag + " groups && ./loomkv ctl" + clusterFlag + " slot hello");
        }
        target.configs().stream().filter(c -> c.respAddress() != null).findFirst().ifPresent(c ->
                System.out.println("redis: redis-cli -c -p " + c.respAddress().getPort() + "   (every store is a Redis Cluster node)"));
        System.out.println("stop:  ./loomkv cluster down" + (clusterFlag.isEmpty() ? "" : " " + folder));
        return 0;
    }

    /** What is still missing for the cluster to be up: a leader for every group and the controller, an answer from every store. */
    private static Optional<String> notUp(GroupTable table) {
        if (!table.leaderless().isEmpty()) {
            return Optional.of("no leader for data groups " + CompactRanges.ids(table.leaderless()) + " of " + table.groups().size());
        }
        List<Long> silent = table.storeAddresses().keySet().stream().filter(id -> !table.answeredStores().contains(id)).toList();
        if (!silent.isEmpty()) {
            return Optional.of("no answer from stores " + CompactRanges.ids(silent));
        }
        return table.controllerLeaderless() ? Optional.of("no leader for the shard controller (group 0)") : Optional.empty();
    }

    /** The groups, their slots and leaders, as {@code ctl groups} prints them. */
    private static void printLayout(ClusterTarget target, GroupTable table) {
        try (KvClient client = new KvClient(target.clientConfig().withDeadline(Duration.ofSeconds(3), Duration.ofSeconds(1)))) {
            System.out.println("every data group and the shard controller have a leader:");
            GroupListing.print(GroupListing.lines(client, table), table, false, System.out);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
        }
    }

    @Command(name = "down", description = {"Stop the servers started by 'cluster up' (SIGTERM, then SIGKILL after 10 s).",
            "Without DIR: the only cluster running; when several run, they are listed and nothing is stopped."})
    int down(@Parameters(paramLabel = "DIR", arity = "0..1",
            description = "the config folder it was started from (default: the only cluster running)") String dir) throws IOException {
        Optional<Path> chosen = folderOrOnlyRunning(dir, "down");
        if (chosen.isEmpty()) {
            return LocalClusters.running(ClusterProcesses.RUN).isEmpty() ? 0 : 2;
        }
        Path folder = chosen.get();
        Path runDir = ClusterProcesses.runDirectory(folder);
        int stopped = ClusterProcesses.stopAll(runDir, Duration.ofSeconds(10));
        LocalClusters.forget(runDir);
        String name = dir != null ? dir : LocalClusters.display(folder);
        System.out.println(stopped == 0 ? "no servers of " + name + " were running" : "stopped " + stopped + " servers of " + name);
        return 0;
    }

    @Command(name = "status", description = {"Which servers run, and each node's role, term and indexes.",
            "Without DIR: the only cluster running; when several run, they are listed."})
    int status(@Parameters(paramLabel = "DIR", arity = "0..1",
            description = "the config folder it was started from (default: the only cluster running)") String dir) throws IOException {
        CtlCommand.quietLogs();
        Optional<Path> chosen = folderOrOnlyRunning(dir, "status");
        if (chosen.isEmpty()) {
            return LocalClusters.running(ClusterProcesses.RUN).isEmpty() ? 1 : 2;
        }
        Path folder = chosen.get();
        System.out.println("cluster " + (dir != null ? dir : LocalClusters.display(folder)) + ":");
        ClusterTarget target;
        try {
            target = ClusterTarget.fromFolder(folder);
        } catch (NodeConfigException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        Path runDir = ClusterProcesses.runDirectory(folder);
        int up = 0;
        for (NodeConfig config : target.configs()) {
            Optional<ProcessHandle> process = ClusterProcesses.running(runDir, config.nodeId());
            up += process.isPresent() ? 1 : 0;
            System.out.printf("node %d: %s, clients %s, log %s%n", config.nodeId(),
                    process.map(p -> "running (pid " + p.pid() + ")").orElse("not running"),
                    MemberAddress.format(config.clientAddress()), ClusterProcesses.logFile(runDir, config.nodeId()));
        }
        if (up == 0) {
            return 1;
        }
        CtlCommand ctl = new CtlCommand();
        ctl.cluster = folder.toString();
        ctl.timeoutMillis = 3000;
        // Not parsed by picocli, so its mixin is not injected: plain TCP, as the local configs use.
        ctl.tls = new ClientTlsOptions();
        return ctl.status();
    }

    /**
     * The folder named, else the only running cluster's; empty (after printing why: none, or the
     * list of those running) when there is no single one.
     */
    private static Optional<Path> folderOrOnlyRunning(String dir, String verb) throws IOException {
        if (dir != null) {
            return Optional.of(Path.of(dir));
        }
        LocalClusters.Choice choice = LocalClusters.choose(LocalClusters.running(ClusterProcesses.RUN), verb);
        if (choice.folder().isEmpty()) {
            System.err.println((choice.ambiguous() ? "error: " : "") + choice.message());
        }
        return choice.folder();
    }
}
