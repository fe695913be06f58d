package io.loomkv.tools.chaos;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfig;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.NodeConfigLoader;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.rpc.LoopbackPorts;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.tools.ClusterProcesses;
import io.loomkv.tools.GroupTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server processes of a chaos run, each behind its peer proxy, plus the controls the faults
 * use: SIGKILL, SIGSTOP/SIGCONT, restart, and status queries. Configs, data and logs live under
 * the run directory ({@code conf/nodeN.properties}, {@code nodeN/}, {@code nodeN.log}).
 */
final class ChaosCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosCluster.class);
    private static final Duration STATUS_TIMEOUT = Duration.ofMillis(800);
    /** Small enough that snapshots and log compaction happen during a short run. */
    private static final int SNAPSHOT_THRESHOLD_ENTRIES = 2_000;

    private final Path runDirectory;
    private final String clusterId;
    private final LinkTable links;
    private final long seed;
    private final List<String> launcher;
    private final Map<Long, ChaosNode> nodes = new ConcurrentSkipListMap<>(); // also read by the exit hook
    private final Map<Long, PeerProxy> proxies = new TreeMap<>();
    private final KvClient statusClient;
    /** Kills the servers if this JVM is stopped mid-run (Ctrl-C, a test timeout), so none is left behind. */
    private final Thread killOnExit = new Thread(this::killAll, "chaos-kill-servers");

    private final boolean leaseReads;
    private final int groups;

    ChaosCluster(Path runDirectory, String clusterId, LinkTable links, long seed, boolean leaseReads, int groups) {
        this.leaseReads = leaseReads;
        this.groups = groups;
        this.runDirectory = runDirectory;
        this.clusterId = clusterId;
        this.links = links;
        this.seed = seed;
        this.launcher = ServerLauncher.command();
        // status(address) asks the address it is given; the client's server list is never used for it.
        this.statusClient = new KvClient(KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", 1)), clusterId)
                .withDeadline(STATUS_TIMEOUT, STATUS_TIMEOUT));
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    String clusterId() {
        return clusterId;
    }

    Path runDirectory() {
        return runDirectory;
    }

    LinkTable links() {
        return links;
    }

    /** Allocates addresses and a proxy for node {@code id}, and writes its config (not started yet). */
    ChaosNode define(long id, boolean join, Collection<ChaosNode> initialMembers) throws IOException {
        if (nodes.containsKey(id)) {
            throw new IllegalArgumentException("node " + id + " is already defined");
        }
        InetSocketAddress proxyAddress = LoopbackPorts.next();
        ChaosNode node = new ChaosNode(id, LoopbackPorts.next(), LoopbackPorts.next(), proxyAddress,
                runDirectory.resolve("node" + id), runDirectory.resolve("conf").resolve("node" + id + ".properties"), join);
        proxies.put(id, PeerProxy.start(id, proxyAddress, node.peerAddress, links, seed ^ id));
        nodes.put(id, node);
        List<ChaosNode> members = new ArrayList<>(initialMembers);
        if (!join && members.stream().noneMatch(m -> m.id == id)) {
            members.add(node);
        }
        Files.createDirectories(node.configFile.getParent());
        String memberList = members.stream().map(m -> m.asMember().toString()).collect(Collectors.joining(","));
        Files.writeString(node.configFile, String.join("\n",
                "# written by ./loomkv chaos: peers are reached through the fault-injecting proxies",
                "node-id=" + id,
                "cluster-id=" + clusterId,
                "client-address=" + MemberAddress.format(node.clientAddress),
                "peer-address=" + MemberAddress.format(node.peerAddress),
                "data-dir=" + node.dataDirectory.toAbsolutePath(),
                "members=" + memberList,
                "join=" + join,
                "snapshot-threshold-entries=" + SNAPSHOT_THRESHOLD_ENTRIES,
                "lease-reads=" + leaseReads,
                "data-groups=" + groups,
                ""), StandardCharsets.UTF_8);
        return node;
    }

    /** Starts (or restarts) the node's server process. */
    void start(ChaosNode node) throws IOException {
        if (node.isRunning()) {
            throw new IllegalStateException(node + " is already running (pid " + node.process.pid() + ")");
        }
        NodeConfig config;
        try {
            config = NodeConfigLoader.load(node.configFile, Map.of());
        } catch (NodeConfigException e) {
            throw new IOException("chaos wrote a bad config: " + e.getMessage(), e);
        }
        node.process = ClusterProcesses.start(runDirectory, config, node.configFile, List.of(), launcher);
        node.paused = false;
    }

    /** SIGKILL (no shutdown hook runs, nothing is flushed), then waits for the process to be gone. */
    void kill(ChaosNode node) {
        if (node.process == null) {
            return;
        }
        node.process.destroyForcibly();
        try {
            node.process.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(node + " (pid " + node.process.pid() + ") survived SIGKILL for 10 s", e);
        }
        node.paused = false;
    }

    void pause(ChaosNode node) throws IOException {
        signal(node, "STOP");
        node.paused = true;
    }

    void resume(ChaosNode node) throws IOException {
        signal(node, "CONT");
        node.paused = false;
    }

    private static void signal(ChaosNode node, String signal) throws IOException {
        if (!node.isRunning()) {
            throw new IllegalStateException(node + " is not running; cannot send SIG" + signal);
        }
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.process.pid())).inheritIO().start();
        try {
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IOException("kill -" + signal + " " + node.process.pid() + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sending SIG" + signal, e);
        }
    }

    Optional<ChaosNode> node(long id) {
        return Optional.ofNullable(nodes.get(id));
    }

    /** Nodes that are members now (defined, not removed), in id order. */
    List<ChaosNode> members() {
        return nodes.values().stream().filter(n -> !n.removed).toList();
    }

    Collection<ChaosNode> all() {
        return nodes.values();
    }

    List<InetSocketAddress> clientAddresses() {
        return members().stream().map(n -> n.clientAddress).toList();
    }

    /** The node's own view, or empty when it does not answer quickly (down, paused, cut off). */
    Optional<NodeStatusReply> status(ChaosNode node) {
        return ask(node, statusClient::status);
    }

    /** The node's STATUS with each data group's stray slots (see {@code KvClient.auditSlots}), or empty when it does not answer quickly. */
    Optional<NodeStatusReply> auditSlots(ChaosNode node) {
        return ask(node, statusClient::auditSlots);
    }

    /** Data groups of the cluster (from {@code data-groups}). */
    int groupCount() {
        return groups;
    }

    /** The node's LAYOUT reply (its view of every group, from published state), or empty when it does not answer quickly. */
    Optional<LayoutReply> layout(ChaosNode node) {
        return ask(node, statusClient::layoutOf);
    }

    /** The node's STATUS of {@code groupId}, or empty when it does not answer quickly (or hosts no replica of it). */
    Optional<NodeStatusReply> status(ChaosNode node, long groupId) {
        return ask(node, address -> statusClient.status(address, groupId));
    }

    /** One call to a running, unpaused node's client port; empty when it is down or does not answer quickly. */
    private static <T> Optional<T> ask(ChaosNode node, java.util.function.Function<InetSocketAddress, T> call) {
        if (!node.isRunning() || node.paused) {
            return Optional.empty();
        }
        try {
            return Optional.of(call.apply(node.clientAddress));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** What the members that answer now say about the groups; empty when none answers. */
    Optional<GroupTable> groupTable() {
        List<LayoutReply> replies = new ArrayList<>();
        for (ChaosNode node : members()) {
            layout(node).ifPresent(replies::add);
        }
        return replies.isEmpty() ? Optional.empty() : Optional.of(GroupTable.of(replies));
    }

    /**
     * "The leader" of the faults that aim at one. With one group: the member that says it leads,
     * with the highest term among those that say so. With several: the member leading the most
     * groups ({@link GroupTable#busiestLeader()}), so that a fault on it hits the most groups at
     * once (a random group's leader would often hit one group of many, and leave the others to
     * the faults that pick random servers).
     */
    Optional<ChaosNode> leader() {
        if (groups > 1) {
            return groupTable().flatMap(t -> nodeOf(t.busiestLeader()));
        }
        ChaosNode best = null;
        long bestTerm = -1;
        for (ChaosNode node : members()) {
            Optional<NodeStatusReply> status = status(node);
            if (status.isPresent() && "LEADER".equals(status.get().getRole()) && status.get().getTerm() > bestTerm) {
                best = node;
                bestTerm = status.get().getTerm();
            }
        }
        return Optional.ofNullable(best);
    }

    /** The member leading {@code groupId}, or empty when no answering member does. */
    Optional<ChaosNode> leaderOf(long groupId) {
        if (groups == 1) {
            return leader();
        }
        return groupTable().flatMap(t -> {
            long leader = t.group(groupId).leaderId();
            return leader == 0 ? Optional.empty() : node(leader);
        });
    }

    private Optional<ChaosNode> nodeOf(OptionalLong id) {
        return id.isPresent() ? node(id.getAsLong()) : Optional.empty();
    }

    /** Groups without a leader among the answering members (all of them when none answers). */
    List<Long> leaderless() {
        Optional<GroupTable> table = groupTable();
        if (table.isEmpty()) {
            return LongStream.rangeClosed(1, groups).boxed().toList();
        }
        return table.get().leaderless();
    }

    /**
     * The groups without a leader once every group had one at a single look, or at {@code timeout}.
     * Leadership moves on its own after a heal (the stores even out who leads what), and a group
     * between two leaders has none for a moment: one look right after {@link #awaitLeader} could
     * catch such a moment, so the final check waits like this instead.
     */
    List<Long> awaitLeaderless(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Long> leaderless = leaderless();
            if (leaderless.isEmpty() || System.nanoTime() > deadline) {
                return leaderless;
            }
            Sleep.millis(100);
        }
    }

    /**
     * Waits until every group has a leader (one group: until some member leads), then returns
     * {@link #leader()}; after {@code timeout}, whatever {@link #leader()} says then.
     */
    Optional<ChaosNode> awaitLeader(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean everyGroupLed = groups == 1 ? leader().isPresent() : leaderless().isEmpty();
            if (everyGroupLed || System.nanoTime() > deadline) {
                return leader();
            }
            Sleep.millis(100);
        }
    }

    /** Log tail of a node, for error messages. */
    String logTail(ChaosNode node, int lines) {
        return ClusterProcesses.tail(ClusterProcesses.logFile(runDirectory, node.id), lines);
    }

    Path logFile(ChaosNode node) {
        return ClusterProcesses.logFile(runDirectory, node.id);
    }

    long framesDropped() {
        return proxies.values().stream().mapToLong(PeerProxy::framesDropped).sum();
    }

    long framesForwarded() {
        return proxies.values().stream().mapToLong(PeerProxy::framesForwarded).sum();
    }

    /** Resumes paused servers (a stopped process ignores SIGTERM), stops every server, closes the proxies. */
    @Override
    public void close() {
        for (ChaosNode node : nodes.values()) {
            if (node.isRunning()) {
                if (node.paused) {
                    try {
                        resume(node);
                    } catch (IOException | RuntimeException e) {
                        LOG.warn("resuming {} before stopping it: {}", node, e.toString());
                    }
                }
                ClusterProcesses.stop(node.process, Duration.ofSeconds(5));
            }
            try {
                Files.deleteIfExists(ClusterProcesses.pidFile(runDirectory, node.id));
            } catch (IOException ignored) {
                // Only a leftover pid file.
            }
        }
        proxies.values().forEach(PeerProxy::close);
        statusClient.close();
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyExiting) {
            // The hook is running or ran.
        }
    }

    private void killAll() {
        for (ChaosNode node : List.copyOf(nodes.values())) {
            if (node.process != null && node.process.isAlive()) {
                node.process.destroyForcibly(); // SIGKILL also ends a stopped process.
            }
        }
    }
}
