package io.loomkv.tools;

import io.loomkv.tools.chaos.ChaosOptions;
import io.loomkv.tools.chaos.ChaosReport;
import io.loomkv.tools.chaos.ChaosRunner;
import io.loomkv.tools.chaos.DurationText;
import io.loomkv.tools.chaos.FaultKind;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv chaos}: real server processes behind fault-injecting proxies, concurrent clients,
 * a seeded schedule of faults, then a linearizability check of the whole history and a search for
 * lost acknowledged writes. See {@link ChaosRunner}.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = {"Fault injection against real server processes: SIGKILL, SIGSTOP, partitions, delays and drops "
                + "on peer links, a leader that wakes from a pause cut off, a membership change, a leadership transfer and a torn WAL tail, under concurrent load; "
                + "then the history is checked for linearizability and for lost acknowledged writes.",
                "Exit code 0: clean; 1: a violation or a lost write; 2: the run could not start; 3: the checker could not decide."})
public final class ChaosCommand implements Callable<Integer> {
    @Option(names = "--duration", paramLabel = "TIME", description = "how long faults are injected under load: 90s, 10m, 2h (default ${DEFAULT-VALUE})",
            defaultValue = "90s")
    String duration;

    @Option(names = "--seed", description = "seed of the fault schedule and the clients (default: random, printed)")
    Long seed;

    @Option(names = "--clients", description = "concurrent clients (default ${DEFAULT-VALUE})", defaultValue = "8")
    int clients;

    @Option(names = "--keys", description = "keys in use, half registers and half append logs (default ${DEFAULT-VALUE})",
            defaultValue = "8")
    int keys;

    @Option(names = "--nodes", description = "servers: 3 or 5 (default ${DEFAULT-VALUE})", defaultValue = "3")
    int nodes;

    @Option(names = "--groups", paramLabel = "N", description = "data groups (data-groups), each on every server; faults hit "
            + "servers, so all groups of a killed or paused server at once, and faults aimed at \"the leader\" take the server "
            + "leading the most groups (default ${DEFAULT-VALUE})", defaultValue = "1")
    int groups;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "configs, data and logs (default ${DEFAULT-VALUE}); cleared at the start",
            defaultValue = "run/chaos")
    Path runDirectory;

    @Option(names = "--keep", description = "keep the data directories after a clean run (always kept after a failure)")
    boolean keep;

    @Option(names = "--lease-reads", description = "servers serve LEASE reads and clients ask for them (safe only while "
            + "clocks and pauses stay within the lease's assumptions: this mode shows what a pause does to them)")
    boolean leaseReads;

    @Option(names = "--faults", split = ",", paramLabel = "KIND", description = "only these faults, e.g. "
            + "--faults kill-leader,pause-leader-wake-isolated (default: all kinds)")
    List<String> faults;

    @Option(names = "--json", description = "end with one JSON line: {\"ops\":N,\"faults\":N,\"violations\":N,\"lost_acked_writes\":N,\"unavailable_ms_max\":N}")
    boolean json;

    @Override
    public Integer call() {
        CtlCommand.quietLogs();
        ChaosOptions options;
        try {
            Set<FaultKind> kinds = EnumSet.allOf(FaultKind.class);
            if (faults != null && !faults.isEmpty()) {
                kinds = EnumSet.noneOf(FaultKind.class);
                for (String fault : faults) {
                    kinds.add(FaultKind.parse(fault));
                }
            }
            options = new ChaosOptions(DurationText.parse(duration), seed == null ? new SecureRandom().nextLong() & Long.MAX_VALUE : seed,
                    clients, keys, nodes, runDirectory, keep, leaseReads, kinds, groups);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
        ChaosReport report;
        try {
            report = new ChaosRunner(options, System.out).run();
        } catch (Exception e) {
            System.err.println("chaos: the run failed before it could be checked: " + e.getMessage());
            System.err.println("(logs under " + options.runDirectory() + ")");
            return 2;
        }
        printSummary(report, options);
        if (json) {
            System.out.println(report.json());
        }
        return report.exitCode();
    }

    private static void printSummary(ChaosReport report, ChaosOptions options) {
        System.out.println();
        System.out.printf("chaos summary (seed %d)%n", options.seed());
        System.out.printf("  operations          %d%n", report.operations());
        System.out.printf("  faults              %d (%d kinds)%n", report.faults(), report.faultKinds());
        System.out.printf("  linearizability     %s%n", report.verdict());
        System.out.printf("  violations          %d%n", report.violations());
        System.out.printf("  lost acked writes   %d%n", report.lostAckedWrites());
        System.out.printf("  unavailable max     %d ms%n", report.unavailableMillisMax());
        for (String finding : report.findings()) {
            System.out.println("  ! " + finding);
        }
        if (report.exitCode() != 0) {
            System.out.println("  logs and data kept under " + options.runDirectory() + "; replay with --seed " + options.seed());
        }
    }
}
