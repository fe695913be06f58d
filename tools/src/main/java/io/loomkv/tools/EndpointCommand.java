package io.loomkv.tools;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.NodeConfigException;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code loomkv ctl endpoint health|status}: etcdctl's endpoint commands, one line per store of
 * {@code --cluster}. Both ask each store over the client protocol (so they work without a
 * {@code metrics-address}); {@code health} reads the store's group views (which do not wake quiet
 * groups), {@code status} its STATUS.
 */
@Command(name = "endpoint", mixinStandardHelpOptions = true,
        description = "Per-store health and status, like etcdctl endpoint: endpoint health | endpoint status.",
        subcommands = {EndpointCommand.Health.class, EndpointCommand.Status.class})
final class EndpointCommand implements Callable<Integer> {
    @ParentCommand
    CtlCommand ctl;

    @Override
    public Integer call() {
        System.err.println("usage: ./loomkv ctl [--cluster X] endpoint health|status [--json]");
        return 2;
    }

    /** What a subcommand does with a client and the stores' client addresses. */
    @FunctionalInterface
    private interface Action {
        int run(KvClient client, List<InetSocketAddress> stores, PrintStream out);
    }

    private int withStores(Action action) {
        CtlCommand.quietLogs();
        ClusterTarget target;
        io.loomkv.net.tls.TlsContext tlsContext;
        try {
            target = ClusterTarget.resolve(ctl.cluster);
            tlsContext = ctl.tls.given() ? ctl.tls.context() : target.localTls();
        } catch (NodeConfigException | IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        // One attempt per store, bounded: an unreachable store is reported, not waited on for the whole deadline.
        Duration attempt = Duration.ofMillis(Math.clamp(ctl.timeoutMillis, 100, 5_000));
        try (KvClient client = new KvClient(KvClientConfig.of(target.clientAddresses(), target.clusterId())
                .withDeadline(attempt, attempt).withTls(tlsContext))) {
            return action.run(client, target.clientAddresses(), System.out);
        }
    }

    @Command(name = "health", mixinStandardHelpOptions = true,
            description = {"Whether each store answers and knows a leader for every group it hosts (exit code 1 when one does not).",
                    "A store is healthy when it answers within --timeout-ms and none of its replicas lacks a leader or has failed."})
    static final class Health implements Callable<Integer> {
        @ParentCommand
        EndpointCommand endpoint;


        @Override
        public Integer call() {
            boolean asJson = endpoint.ctl.json || endpoint.ctl.writeOut == CtlCommand.OutputFormat.json;
            return endpoint.withStores((client, stores, out) -> {
                int unhealthy = 0;
                for (InetSocketAddress store : stores) {
                    long start = System.nanoTime();
                    String problem;
                    try {
                        problem = problem(client.layoutOf(store));
                    } catch (RuntimeException e) {
                        problem = "unreachable: " + e.getMessage();
                    }
                    double tookMillis = (System.nanoTime() - start) / 1e6;
                    unhealthy += problem == null ? 0 : 1;
                    print(out, asJson, MemberAddress.format(store), problem, tookMillis);
                }
                return unhealthy == 0 ? 0 : 1;
            });
        }

        /** Null when every hosted replica knows a leader and none failed, else what is wrong. */
        static String problem(LayoutReply layout) {
            List<Long> leaderless = new ArrayList<>();
            List<Long> failed = new ArrayList<>();
            int hosted = 0;
            for (GroupView view : layout.getGroupsList()) {
                switch (view.getRole()) {
                    case "NONE", "REMOVED" -> {
                        continue;
                    }
                    case "FAILED" -> failed.add(view.getGroupId());
                    default -> {
                        if (view.getLeaderId() == 0) {
                            leaderless.add(view.getGroupId());
                        }
                    }
                }
                hosted++;
            }
            if (!failed.isEmpty()) {
                return "replicas of groups " + failed + " failed";
            }
            if (!leaderless.isEmpty()) {
                return leaderless.size() + " of " + hosted + " groups without a leader " + leaderless;
            }
            return null;
        }

        private static void print(PrintStream out, boolean json, String where, String problem, double tookMillis) {
            String took = String.format(Locale.ROOT, "%.3fms", tookMillis);
            if (json) {
                out.println("{\"endpoint\":" + Json.quote(where) + ",\"health\":" + (problem == null) + ",\"took\":"
                        + Json.quote(took) + ",\"error\":" + Json.quote(problem == null ? "" : problem) + "}");
            } else if (problem == null) {
                out.println(where + " is healthy: every group it hosts has a leader: took = " + took);
            } else {
                out.println(where + " is unhealthy: " + problem + ": took = " + took);
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"One line per store: its id, the groups it hosts, leads and that lack a leader, the Raft term, "
                    + "commit and applied index of its first group, its layout version and WAL fsyncs so far.",
                    "Exit code 1 when a store does not answer."})
    static final class Status implements Callable<Integer> {
        private static final String TABLE = "%-22s %-5s %-6s %-7s %-9s %-6s %-6s %-10s %-10s %-7s %-10s %s%n";

        @ParentCommand
        EndpointCommand endpoint;


        @Override
        public Integer call() {
            boolean asJson = endpoint.ctl.json || endpoint.ctl.writeOut == CtlCommand.OutputFormat.json;
            return endpoint.withStores((client, stores, out) -> {
                if (!asJson) {
                    out.printf(TABLE, "ENDPOINT", "ID", "GROUPS", "LEADING", "NO LEADER", "GROUP", "TERM", "COMMIT",
                            "APPLIED", "LAYOUT", "WAL FSYNCS", "ERRORS");
                }
                int failures = 0;
                for (InetSocketAddress store : stores) {
                    String where = MemberAddress.format(store);
                    try {
                        print(out, asJson, where, client.status(store));
                    } catch (RuntimeException e) {
                        failures++;
                        if (asJson) {
                            out.println("{\"endpoint\":" + Json.quote(where) + ",\"error\":" + Json.quote(String.valueOf(e.getMessage())) + "}");
                        } else {
                            out.printf(TABLE, where, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", e.getMessage());
                        }
                    }
                }
                return failures == 0 ? 0 : 1;
            });
        }

        private static void print(PrintStream out, boolean json, String where, NodeStatusReply status) {
            int groups = 0;
            int leading = 0;
            int leaderless = 0;
            long firstGroup = 0;
            for (GroupView view : status.getGroupsList()) {
                groups++;
                leading += "LEADER".equals(view.getRole()) ? 1 : 0;
                leaderless += view.getLeaderId() == 0 ? 1 : 0;
                firstGroup = firstGroup == 0 ? view.getGroupId() : firstGroup;
            }
            if (json) {
                out.println("{\"endpoint\":" + Json.quote(where) + ",\"id\":" + status.getNodeId() + ",\"groups\":" + groups
                        + ",\"leading\":" + leading + ",\"without_leader\":" + leaderless + ",\"group\":" + firstGroup
                        + ",\"role\":" + Json.quote(status.getRole()) + ",\"leader\":" + status.getLeaderId()
                        + ",\"term\":" + status.getTerm() + ",\"commit\":" + status.getCommitIndex() + ",\"applied\":"
                        + status.getAppliedIndex() + ",\"layout_version\":" + status.getLayoutVersion()
                        + ",\"wal_fsyncs\":" + status.getWalForceCount() + ",\"error\":\"\"}");
            } else {
                out.printf(TABLE, where, status.getNodeId(), groups, leading, leaderless, firstGroup, status.getTerm(),
                        status.getCommitIndex(), status.getAppliedIndex(), status.getLayoutVersion(), status.getWalForceCount(), "");
            }
        }
    }
}
