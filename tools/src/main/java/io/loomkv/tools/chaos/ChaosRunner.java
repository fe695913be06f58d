package io.loomkv.tools.chaos;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvModel;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.LinearizabilityChecker;
import io.loomkv.core.lincheck.Operation;
import io.loomkv.core.lincheck.Verdict;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One chaos run: start the servers behind their proxies, run the clients, inject the scheduled
 * faults one after another until the duration is over, heal, wait for recovery, read every key
 * back, check the history for linearizability and the logs for lost or repeated appends, and
 * check that the replicas agree.
 */
public final class ChaosRunner {
    /** Marks a run directory as ours, so that a later run may clear it. */
    static final String MARKER = ".loomkv-chaos";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(60);
    /** How far past its duration a run may go to inject every kind of fault once. */
    private static final Duration FIRST_ROUND_OVERRUN = Duration.ofMinutes(2);
    private static final long FINAL_READER_ID = 0;

    private final ChaosOptions options;
    private final PrintStream out;
    private final List<String> problems = new ArrayList<>();
    private long startNanos;

    public ChaosRunner(ChaosOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** Runs everything and returns the report; throws when the cluster could not even start. */
    public ChaosReport run() throws IOException {
        prepareRunDirectory(options.runDirectory());
        List<FaultStep> schedule = FaultSchedule.generate(options.seed(), options.duration().toMillis(), options.faults());
        printHeader(schedule);
        LinkTable links = new LinkTable();
        ChaosHistory history = new ChaosHistory();
        KeySet keys = KeySet.of(options.keys());
        boolean clean = false;
        try (ChaosCluster cluster = new ChaosCluster(options.runDirectory(), "chaos-" + Long.toHexString(options.seed()),
                links, options.seed(), options.leaseReads(), options.groups())) {
            startCluster(cluster);
            ChaosWorkload workload = new ChaosWorkload(cluster.clientAddresses(), cluster.clusterId(), keys, history, options.seed(),
                    options.leaseReads() ? ReadConsistency.LEASE : ReadConsistency.LINEARIZABLE);
            List<String> injected = new ArrayList<>();
            Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
            Map<FaultKind, long[]> windows = new EnumMap<>(FaultKind.class);
            List<StepWindow> steps = new ArrayList<>();
            long loadStart;
            long loadEnd;
            try (KvClient admin = new KvClient(KvClientConfig.of(cluster.clientAddresses(), cluster.clusterId())
                    .withDeadline(Duration.ofSeconds(15), Duration.ofSeconds(1)))) {
                FaultInjector injector = new FaultInjector(cluster, admin, this::say, problems, options.nodes() + 1);
                startNanos = System.nanoTime();
                loadStart = startNanos;
                say("load starts at " + java.time.Instant.now() + " (node logs use this machine's local time)");
                workload.start(options.clients());
                long end = loadStart + options.duration().toNanos();
                Sleep.millis(1_000); // Some load before the first fault.
                for (FaultStep step : schedule) {
                    // Past the duration only to finish the first round: every kind of fault at least once,
                    // for at most the duration again or two minutes, whichever is longer (on a loaded
                    // machine one fault with a restart can take 15 s, and a short run ran out before its
                    // sixth kind).
                    boolean everyKind = kinds.size() == options.faults().size();
                    long overrunNanos = Math.max(options.duration().toNanos(), FIRST_ROUND_OVERRUN.toNanos());
                    if (System.nanoTime() >= end && (everyKind || System.nanoTime() >= end + overrunNanos)) {
                        break;
                    }
                    say(step.kind() + " (#" + step.number() + ")");
                    long stepStart = System.nanoTime();
                    Optional<String> what = injector.run(step);
                    if (what.isPresent()) {
                        injected.add(step.kind() + ": " + what.get());
                        kinds.add(step.kind());
                        windows.put(step.kind(), append(windows.get(step.kind()), stepStart, System.nanoTime()));
                        steps.add(new StepWindow(step, stepStart, System.nanoTime()));
                        say("  " + what.get() + "; healed");
                    } else {
                        say("  not injected (no target at this moment)");
                    }
                    Sleep.millis(Math.min(step.quietMillis(), Math.max(0, (end - System.nanoTime()) / 1_000_000)));
                }
                injector.healAll();
                long remainingMillis = (end - System.nanoTime()) / 1_000_000;
                Sleep.millis(remainingMillis);
                workload.stop();
                loadEnd = System.nanoTime();
                say("load stopped: " + history.answered() + " answered, " + history.unknown() + " unknown outcome, "
                        + history.failed() + " failed; proxies dropped " + cluster.framesDropped() + " of "
                        + (cluster.framesDropped() + cluster.framesForwarded()) + " peer frames");
                printUnavailability(history, windows, steps);
                recover(cluster, injector);
            }
            ChaosReport report = verify(cluster, history, injected.size(), kinds.size(),
                    history.longestSilenceMillis(loadStart, loadEnd));
            clean = report.exitCode() == 0;
            return report;
        } finally {
            if (clean && !options.keepData()) {
                deleteDataDirectories(options.runDirectory());
            }
        }
    }

    private static long[] append(long[] windows, long start, long end) {
        long[] grown = windows == null ? new long[2] : java.util.Arrays.copyOf(windows, windows.length + 2);
        grown[grown.length - 2] = start;
        grown[grown.length - 1] = end;
        return grown;
    }

    /** Per fault kind, the longest stretch without any answer while such a fault was injected, held and healed. */
    private record StepWindow(FaultStep step, long startNanos, long endNanos) {
    }

    private void printUnavailability(ChaosHistory history, Map<FaultKind, long[]> windows, List<StepWindow> steps) {
        StringBuilder line = new StringBuilder("longest stretch without an answer, by fault:");
        windows.forEach((kind, times) -> {
            long longest = 0;
            for (int i = 0; i < times.length; i += 2) {
                longest = Math.max(longest, history.longestSilenceMillis(times[i], times[i + 1]));
            }
            line.append(' ').append(kind).append(' ').append(longest).append(" ms,");
        });
        say(line.substring(0, line.length() - 1));
        List<String> worst = steps.stream()
                .sorted(Comparator.comparingLong((StepWindow w) -> -history.longestSilenceMillis(w.startNanos(), w.endNanos())))
                .limit(3)
                .map(w -> String.format("#%d %s at %.1f-%.1f s: %d ms", w.step().number(), w.step().kind(),
                        (w.startNanos() - startNanos) / 1e9, (w.endNanos() - startNanos) / 1e9,
                        history.longestSilenceMillis(w.startNanos(), w.endNanos())))
                .toList();
        say("longest stretches: " + String.join("; ", worst));
    }

    private void startCluster(ChaosCluster cluster) throws IOException {
        List<ChaosNode> initial = new ArrayList<>();
        for (long id = 1; id <= options.nodes(); id++) {
            initial.add(cluster.define(id, false, initial));
        }
        // Each config lists every initial member: define() above saw only the earlier ones, so rewrite.
        for (ChaosNode node : new ArrayList<>(initial)) {
            rewriteMembers(node, initial);
        }
        for (ChaosNode node : initial) {
            cluster.start(node);
        }
        Optional<ChaosNode> leader = cluster.awaitLeader(STARTUP_TIMEOUT);
        // A second single look could catch a group between two leaders (the stores start evening
        // out leadership at once): wait as the final check does.
        if (leader.isEmpty() || (options.groups() > 1 && !cluster.awaitLeaderless(Duration.ofSeconds(20)).isEmpty())) {
            StringBuilder logs = new StringBuilder();
            for (ChaosNode node : initial) {
                logs.append("\n--- ").append(node).append(node.isRunning() ? " (running)" : " (exited)").append(":\n")
                        .append(cluster.logTail(node, 15));
            }
            throw new IOException("no leader" + (options.groups() == 1 ? "" : " for every data group") + " within "
                    + STARTUP_TIMEOUT.toSeconds() + " s; logs under "
                    + options.runDirectory() + logs);
        }
        say("cluster up: " + initial.size() + " servers, " + (options.groups() == 1 ? leader.get() + " leads"
                : options.groups() + " data groups, each with a leader; " + leader.get() + " leads the most"));
    }

    private static void rewriteMembers(ChaosNode node, List<ChaosNode> members) throws IOException {
        String memberList = String.join(",", members.stream().map(m -> m.asMember().toString()).toList());
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(node.configFile)) {
            lines.add(line.startsWith("members=") ? "members=" + memberList : line);
        }
        Files.write(node.configFile, lines);
    }

    /** Heals everything, then waits for a leader and for every member to apply what it committed. */
    private void recover(ChaosCluster cluster, FaultInjector injector) throws IOException {
        long start = System.nanoTime();
        injector.healAll();
        Optional<ChaosNode> leader = cluster.awaitLeader(RECOVERY_TIMEOUT);
        if (leader.isEmpty()) {
            problems.add("no leader within " + RECOVERY_TIMEOUT.toSeconds() + " s after healing everything");
            return;
        }
        Duration left = RECOVERY_TIMEOUT.minusNanos(System.nanoTime() - start);
        List<Long> leaderless = options.groups() == 1 ? List.of()
                : cluster.awaitLeaderless(left.isNegative() ? Duration.ZERO : left);
        if (!leaderless.isEmpty()) {
            problems.add("groups " + leaderless + " had no leader within " + RECOVERY_TIMEOUT.toSeconds() + " s after healing everything");
        }
        for (ChaosNode node : cluster.members()) {
            if (!injector.awaitCaughtUp(node, RECOVERY_TIMEOUT)) {
                problems.add(node + " did not catch up within " + RECOVERY_TIMEOUT.toSeconds() + " s after healing");
            }
        }
        say(String.format("recovered in %.1f s: %s leads", (System.nanoTime() - start) / 1e9,
                cluster.leader().map(ChaosNode::toString).orElse("nobody")));
    }

    private ChaosReport verify(ChaosCluster cluster, ChaosHistory history, int faults, int faultKinds,
            long unavailableMillisMax) {
        problems.addAll(serverErrors(cluster));
        List<String> findings = new ArrayList<>(problems);
        long operations = history.answered() + history.unknown() + history.failed();
        List<Operation<KvInput, KvOutput>> checked = new ArrayList<>(history.operations());
        List<String> used = history.keys();
        Map<String, String> finalValues = readBack(cluster, used, checked, findings);
        long violations = problems.size();
        if (finalValues.size() < used.size()) {
            violations++;
        }
        violations += replicasDisagree(cluster, used, finalValues, findings);
        violations += slotsLeftBehind(cluster, findings);
        long checkStart = System.nanoTime();
        CheckResult check = LinearizabilityChecker.withDefaults().check(new KvModel(), checked);
        say(String.format("linearizability: %s (%d operations, %d partitions, %d steps, %.1f s)", check.verdict(),
                checked.size(), check.partitions(), check.steps(), (System.nanoTime() - checkStart) / 1e9));
        if (check.verdict() == Verdict.ILLEGAL) {
            violations++;
            findings.add("not linearizable: " + check.explanation());
        } else if (check.verdict() == Verdict.UNKNOWN) {
            findings.add("the checker could not decide: " + check.explanation());
        }
        AppendAudit.Result audit = AppendAudit.audit(checked, finalValues, used);
        say("appends: " + audit.acknowledged() + " acknowledged, " + audit.lost() + " lost, " + audit.duplicated()
                + " applied twice, " + audit.unknownTokens() + " never sent");
        violations += audit.duplicated() + audit.unknownTokens();
        findings.addAll(audit.findings());
        return new ChaosReport(operations, faults, faultKinds, violations, audit.lost(), unavailableMillisMax,
                check.verdict(), findings);
    }

    /**
     * Every ERROR a server logged (with the line after it, usually the exception): a server that
     * hit one may have stopped serving while its process stayed up, which the fault loop cannot see.
     */
    private static List<String> serverErrors(ChaosCluster cluster) {
        List<String> errors = new ArrayList<>();
        for (ChaosNode node : cluster.all()) {
            try {
                List<String> lines = Files.readAllLines(cluster.logFile(node));
                for (int i = 0; i < lines.size(); i++) {
                    if (lines.get(i).contains(" ERROR ")) {
                        errors.add(node + " logged: " + lines.get(i) + (i + 1 < lines.size() ? " / " + lines.get(i + 1).trim() : ""));
                    }
                }
            } catch (IOException e) {
                errors.add(node + ": its log could not be read: " + e.getMessage());
            }
        }
        return errors;
    }

    /** Linearizable reads of every key after recovery; they join the history, and their values are the final ones. */
    private Map<String, String> readBack(ChaosCluster cluster, List<String> keys, List<Operation<KvInput, KvOutput>> checked,
            List<String> findings) {
        Map<String, String> values = new TreeMap<>();
        try (KvClient reader = new KvClient(KvClientConfig.of(cluster.clientAddresses(), cluster.clusterId())
                .withDeadline(Duration.ofSeconds(30), Duration.ofSeconds(2)))) {
            for (String key : keys) {
                long invoked = System.nanoTime();
                try {
                    Optional<ByteString> value = reader.get(ChaosWorkload.bytes(key));
                    String text = value.map(ByteString::toStringUtf8).orElse(null);
                    checked.add(Operation.completed(FINAL_READER_ID, new KvInput.Get(key), invoked, new KvOutput.Value(text),
                            System.nanoTime()));
                    values.put(key, text == null ? "" : text);
                } catch (KvClientException e) {
                    findings.add("final read of " + key + " failed after recovery: " + e.getMessage());
                }
            }
        }
        return values;
    }

    /**
     * Every member's own view of every key of the groups it hosts must equal the final values. Read
     * straight from each member (a serializable GET it answers from its own replica): a
     * {@link KvClient} would send each read to its group's leader, which checks nothing.
     */
    private long replicasDisagree(ChaosCluster cluster, List<String> keys, Map<String, String> finalValues, List<String> findings) {
        long disagreements = 0;
        List<ChaosNode> members = cluster.members();
        try (PinnedReader reader = new PinnedReader(members.stream().map(n -> n.clientAddress).toList(), cluster.clusterId(),
                Duration.ofSeconds(2))) {
            for (int index = 0; index < members.size(); index++) {
                ChaosNode node = members.get(index);
                Optional<LayoutReply> layout = cluster.layout(node);
                if (layout.isEmpty()) {
                    disagreements++;
                    findings.add(node + " could not be read after recovery: it does not answer");
                    continue;
                }
                SlotLayout slots = SlotLayout.fromProto(layout.get().getLayout());
                Set<Long> hosted = layout.get().getGroupsList().stream().filter(v -> !"NONE".equals(v.getRole()))
                        .map(GroupView::getGroupId).collect(Collectors.toSet());
                for (String key : keys) {
                    if (!finalValues.containsKey(key) || !hosted.contains(slots.groupOf(Slots.slotOf(ChaosWorkload.bytes(key))))) {
                        continue;
                    }
                    Optional<String> mine = ownRead(reader, index, key);
                    if (mine == null) {
                        disagreements++;
                        findings.add(node + " did not answer a serializable read of " + key + " after recovery");
                    } else if (!Objects.equals(mine.orElse(""), finalValues.get(key))) {
                        disagreements++;
                        findings.add(node + " holds a different value of " + key + " after recovery (" + mine.orElse("").length()
                                + " bytes vs " + finalValues.get(key).length() + ")");
                    }
                }
            }
        }
        return disagreements;
    }

    /**
     * Every slot is owned by exactly one group and no move left data behind: every member's replica
     * of every data group has applied the newest configuration its store knows (so each serves
     * exactly the slots that configuration gives its group, and the configuration gives each slot
     * one group) with no slot moving, and holds keys only of slots it serves. Asked of every
     * running member until that holds, up to 30 s (a deletion of a handed-off slot, or a follower's
     * apply, may still be finishing just after the faults).
     */
    private long slotsLeftBehind(ChaosCluster cluster, List<String> findings) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> found = new ArrayList<>();
        int audited = 0;
        while (true) {
            found.clear();
            audited = 0;
            boolean moving = false;
            for (ChaosNode node : cluster.members()) {
                if (node.removed || !node.isRunning()) {
                    continue;
                }
                Optional<NodeStatusReply> status = cluster.auditSlots(node);
                if (status.isEmpty()) {
                    found.add(node + " did not answer the slot audit after recovery");
                    continue;
                }
                for (GroupView view : status.get().getGroupsList()) {
                    if (view.getGroupId() == 0 || "REMOVED".equals(view.getRole())) {
                        continue;
                    }
                    audited++;
                    moving |= view.getMovingSlots() > 0;
                    if (view.getConfigNumber() != status.get().getLayoutVersion()) {
                        found.add(node + " group " + view.getGroupId() + " is at configuration " + view.getConfigNumber()
                                + " after recovery, its store routes by " + status.get().getLayoutVersion());
                    }
                    if (view.getStraySlotsCount() > 0) {
                        found.add(node + " group " + view.getGroupId() + " holds keys of slots " + view.getStraySlotsList()
                                + " it does not serve after recovery" + (view.getMovingSlots() > 0 ? " (still moving "
                                + view.getMovingSlots() + ")" : ""));
                    }
                }
            }
            if ((found.isEmpty() && !moving) || System.nanoTime() > deadline) {
                break;
            }
            Sleep.millis(500);
        }
        say("slots: " + (found.isEmpty() ? "no replica holds keys of a slot its group does not serve (" + audited
                + " replicas audited)" : found.size() + " problems"));
        findings.addAll(found);
        return found.size();
    }

    /** Member {@code index}'s own value of {@code key}, a few tries (a busy machine may miss one); null when it never answers. */
    private static Optional<String> ownRead(PinnedReader reader, int index, String key) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<String> value = reader.get(index, key, ReadConsistency.SERIALIZABLE);
            if (value != null) {
                return value;
            }
            Sleep.millis(200);
        }
        return null;
    }

    private void printHeader(List<FaultStep> schedule) {
        out.printf("chaos: seed %d, %d nodes, %d data group%s, %d clients, %d keys, %d s of faults, %s reads; servers: %s%n",
                options.seed(), options.nodes(), options.groups(), options.groups() == 1 ? "" : "s", options.clients(), options.keys(),
                options.duration().toSeconds(), options.leaseReads() ? "lease" : "linearizable", ServerLauncher.describe());
        out.println("run directory: " + options.runDirectory().toAbsolutePath());
        long budgetMillis = options.duration().toMillis();
        long plannedMillis = 0;
        out.println("fault schedule (targets are chosen when a step runs; steps past the duration are not run):");
        for (FaultStep step : schedule) {
            if (plannedMillis > budgetMillis) {
                break;
            }
            out.println("  " + step);
            plannedMillis += step.holdMillis() + step.quietMillis();
        }
        out.println("replay with: ./loomkv chaos --seed " + options.seed() + " --duration " + options.duration().toSeconds()
                + "s --nodes " + options.nodes() + (options.groups() == 1 ? "" : " --groups " + options.groups())
                + " --clients " + options.clients() + " --keys " + options.keys()
                + (options.leaseReads() ? " --lease-reads" : "")
                + (options.faults().size() < FaultKind.values().length ? " --faults " + String.join(",",
                        options.faults().stream().map(k -> k.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')).toList()) : ""));
    }

    private void say(String line) {
        double seconds = startNanos == 0 ? 0 : (System.nanoTime() - startNanos) / 1e9;
        out.printf("[%6.1f s] %s%n", seconds, line);
    }

    /** Creates the run directory, or clears one a previous chaos run left (and nothing else). */
    static void prepareRunDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            try (Stream<Path> entries = Files.list(directory)) {
                if (entries.findAny().isPresent() && !Files.exists(directory.resolve(MARKER))) {
                    throw new IOException(directory + " exists and was not made by ./loomkv chaos; give an empty or new --run-dir");
                }
            }
            deleteRecursively(directory);
        }
        Files.createDirectories(directory);
        Files.writeString(directory.resolve(MARKER), "run directory of ./loomkv chaos; cleared by the next run\n");
    }

    private static void deleteDataDirectories(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path entry : entries.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("node\\d+")).toList()) {
                deleteRecursively(entry);
            }
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
