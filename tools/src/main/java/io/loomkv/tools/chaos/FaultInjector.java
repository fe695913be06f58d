package io.loomkv.tools.chaos;

import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberInfo;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.tools.GroupTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Carries out one {@link FaultStep} against the {@link ChaosCluster}: inject, hold, heal. Faults
 * run one at a time; {@link #healAll} brings every member back (links healed, paused processes
 * continued, stopped ones restarted) and reports any server that exited on its own.
 */
final class FaultInjector {
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(10);

    private final ChaosCluster cluster;
    private final KvClient admin;
    private final Consumer<String> log;
    private final List<String> problems;
    private final Set<Long> stoppedOnPurpose = new HashSet<>();
    private long nextNodeId;
    private final MigrationFaults migrations;

    FaultInjector(ChaosCluster cluster, KvClient admin, Consumer<String> log, List<String> problems, long nextNodeId) {
        this.cluster = cluster;
        this.admin = admin;
        this.log = log;
        this.problems = problems;
        this.nextNodeId = nextNodeId;
        this.migrations = new MigrationFaults(cluster, admin, log, problems);
    }

    /**
     * Runs one step: injects the fault, holds it, heals it. Returns what was injected, or empty
     * when it could not be (no leader to kill, a membership change refused, ...).
     */
    Optional<String> run(FaultStep step) throws IOException {
        Random random = new Random(step.targetSeed());
        List<ChaosNode> members = cluster.members().stream().filter(ChaosNode::isRunning).toList();
        // Right after a heal an election may still be running: give it time rather than skip the step.
        Optional<ChaosNode> leader = cluster.awaitLeader(LEADER_TIMEOUT);
        String asLeader = leader.map(this::leaderNote).orElse("");
        ChaosNode any = members.get(random.nextInt(members.size()));
        LinkTable links = cluster.links();
        String what;
        switch (step.kind()) {
            case KILL_LEADER -> {
                if (leader.isEmpty()) {
                    return Optional.empty();
                }
                what = kill(leader.get()) + asLeader;
                Sleep.millis(step.holdMillis());
            }
            case KILL_RANDOM -> {
                what = kill(any);
                Sleep.millis(step.holdMillis());
            }
            case PAUSE -> {
                ChaosNode target = leader.isPresent() && random.nextBoolean() ? leader.get() : any;
                cluster.pause(target);
                what = "SIGSTOP " + target + (leader.equals(Optional.of(target)) ? asLeader : "");
                Sleep.millis(step.holdMillis());
            }
            case PAUSE_LEADER_WAKE_ISOLATED -> {
                if (leader.isEmpty()) {
                    return Optional.empty();
                }
                ChaosNode old = leader.get();
                List<ChaosNode> others = members.stream().filter(n -> n != old).toList();
                // Cut at once: nothing the others send while it sleeps (votes, the new leader's
                // appends) may wait in its socket buffers to wake it up to the new term.
                cluster.pause(old);
                cut(links, List.of(old), others);
                String successor = awaitOtherLeader(old, LEADER_TIMEOUT);
                Sleep.millis(500); // Writes commit under the new leader meanwhile.
                cluster.resume(old);
                what = "SIGSTOP " + old + asLeader + " until " + successor + ", then SIGCONT it cut off from " + ids(others);
                Sleep.millis(step.holdMillis());
            }
            case PARTITION_MAJORITY_MINORITY -> {
                List<ChaosNode> shuffled = shuffled(members, random);
                List<ChaosNode> minority = shuffled.subList(0, (shuffled.size() - 1) / 2);
                List<ChaosNode> majority = shuffled.subList(minority.size(), shuffled.size());
                cut(links, minority, majority);
                what = "partition " + ids(minority) + " | " + ids(majority);
                Sleep.millis(step.holdMillis());
            }
            case PARTITION_LEADER_ISOLATED -> {
                if (leader.isEmpty()) {
                    return Optional.empty();
                }
                List<ChaosNode> others = members.stream().filter(n -> n != leader.get()).toList();
                cut(links, List.of(leader.get()), others);
                what = "partition " + ids(List.of(leader.get())) + asLeader + " | " + ids(others);
                Sleep.millis(step.holdMillis());
            }
            case PARTITION_BRIDGE -> {
                List<ChaosNode> shuffled = shuffled(members, random);
                ChaosNode bridge = shuffled.get(0);
                List<ChaosNode> rest = shuffled.subList(1, shuffled.size());
                List<ChaosNode> left = rest.subList(0, rest.size() / 2);
                List<ChaosNode> right = rest.subList(rest.size() / 2, rest.size());
                cut(links, left, right);
                what = "bridge partition " + ids(left) + " | " + ids(right) + ", " + bridge + " reaches both";
                Sleep.millis(step.holdMillis());
            }
            case PARTITION_ONE_WAY -> {
                ChaosNode from = leader.orElse(any);
                for (ChaosNode to : members) {
                    if (to != from) {
                        links.set(from.id, to.id, LinkFaults.BLOCKED);
                    }
                }
                what = "one-way partition: nothing from " + from + asLeader
                        + " arrives; it still hears the others";
                Sleep.millis(step.holdMillis());
            }
            case DELAY -> {
                int delayMaxMillis = 20 + random.nextInt(131);
                everyLink(links, members, new LinkFaults(false, 0, delayMaxMillis));
                what = "every peer frame delayed 0.." + delayMaxMillis + " ms";
                Sleep.millis(step.holdMillis());
            }
            case DROP -> {
                double dropProbability = 0.1 + random.nextInt(26) / 100.0;
                everyLink(links, members, new LinkFaults(false, dropProbability, 0));
                what = String.format("%.0f%% of peer frames dropped", dropProbability * 100);
                Sleep.millis(step.holdMillis());
            }
            case MEMBER_CHANGE -> {
                return memberChange(step, random);
            }
            case TRANSFER_LEADER -> {
                if (leader.isEmpty() || members.size() < 2) {
                    return Optional.empty();
                }
                List<ChaosNode> followers = members.stream().filter(n -> n != leader.get()).toList();
                ChaosNode target = followers.get(random.nextInt(followers.size()));
                long group = groupLedBy(leader.get(), random);
                if (group == 0) {
                    return Optional.empty();
                }
                AdminReply reply = admin.transferLeader(group, target.id);
                if (!reply.getOk()) {
                    log.accept("  transfer to " + target + " refused: " + reply.getMessage());
                    return Optional.empty();
                }
                long transferStart = System.nanoTime();
                boolean moved = awaitLeaderOf(group, target, LEADER_TIMEOUT);
                long movedMillis = (System.nanoTime() - transferStart) / 1_000_000;
                Sleep.millis(step.holdMillis());
                // With several groups the store's balancer may hand the group back to its preferred store during the hold.
                what = "leadership" + groupNote(group) + " " + leader.get() + " -> " + target
                        + (moved ? " (moved in " + movedMillis + " ms)" : " (not moved within " + LEADER_TIMEOUT.toSeconds() + " s)")
                        + "; after the hold led by " + cluster.leaderOf(group).map(ChaosNode::toString).orElse("nobody");
            }
            case TORN_WAL_RESTART -> {
                return tornWalRestart(leader, members, random);
            }
            case SLOT_MOVE -> {
                return migrations.slotMove(random, step.holdMillis());
            }
            case KILL_DURING_MOVE -> {
                Optional<String> killed = migrations.killDuringMove(random, step.holdMillis(), node -> {
                    cluster.kill(node);
                    stoppedOnPurpose.add(node.id);
                });
                if (killed.isEmpty()) {
                    return killed;
                }
                healAll();
                return Optional.of(killed.get() + "; restarted" + migrations.settleAfterHeal());
            }
            case GROUP_JOIN_LEAVE -> {
                return migrations.groupJoinLeave(step.holdMillis());
            }
            case REPLICA_MOVE -> {
                return migrations.replicaMoveAwayAndBack(random, step.holdMillis(), nextNodeId++);
            }
            default -> throw new IllegalStateException("unhandled fault " + step.kind());
        }
        healAll();
        return Optional.of(what);
    }

    /**
     * Waits until a member other than the paused {@code old} leads (with several groups: until
     * every group has a leader, none of them {@code old}, which does not answer); says who.
     */
    private String awaitOtherLeader(ChaosNode old, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cluster.groupCount() == 1) {
                Optional<ChaosNode> leader = cluster.leader();
                if (leader.isPresent() && leader.get() != old) {
                    return leader.get() + " led";
                }
            } else {
                Optional<GroupTable> table = cluster.groupTable();
                if (table.isPresent() && table.get().leaderless().isEmpty()
                        && !table.get().groupsByLeader().containsKey(old.id)) {
                    return "every group had a new leader (" + leadersText(table.get()) + ")";
                }
            }
            Sleep.millis(50);
        }
        return cluster.groupCount() == 1 ? "nobody led" : "some group still had no new leader after " + timeout.toSeconds() + " s";
    }

    /** Waits until {@code node} leads {@code group}. */
    private boolean awaitLeaderOf(long group, ChaosNode node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cluster.leaderOf(group).filter(n -> n == node).isPresent()) {
                return true;
            }
            Sleep.millis(20);
        }
        return false;
    }

    /** " (the leader)", or with several groups " (the leader of k of N groups)". */
    private String leaderNote(ChaosNode node) {
        if (cluster.groupCount() == 1) {
            return " (the leader)";
        }
        int led = cluster.groupTable().map(t -> t.groupsByLeader().getOrDefault(node.id, List.of()).size()).orElse(0);
        return " (the leader of " + led + " of " + cluster.groupCount() + " groups)";
    }

    /** " of group G" with several groups, nothing with one. */
    private String groupNote(long group) {
        return cluster.groupCount() == 1 ? "" : " of group " + group;
    }

    private static String leadersText(GroupTable table) {
        List<String> parts = new ArrayList<>();
        table.groupsByLeader().forEach((store, groups) -> parts.add("node " + store + " leads " + groups.size()));
        return String.join(", ", parts);
    }

    /** A random group that {@code node} leads (the only group with one), or 0 when it leads none now. */
    private long groupLedBy(ChaosNode node, Random random) {
        Optional<GroupTable> table = cluster.groupTable();
        if (table.isEmpty()) {
            return 0;
        }
        if (cluster.groupCount() == 1) {
            return table.get().groups().get(0).id();
        }
        List<Long> led = table.get().groupsByLeader().getOrDefault(node.id, List.of());
        return led.isEmpty() ? 0 : led.get(random.nextInt(led.size()));
    }

    private String kill(ChaosNode node) {
        cluster.kill(node);
        stoppedOnPurpose.add(node.id);
        return "SIGKILL " + node;
    }

    /**
     * A new server joins, is added to one group (a random one with several: a store is a member
     * of each group on its own) as a learner, promoted, and removed again.
     */
    private Optional<String> memberChange(FaultStep step, Random random) throws IOException {
        Optional<GroupTable> table = cluster.groupTable();
        if (table.isEmpty()) {
            return Optional.empty();
        }
        List<Long> groups = table.get().layout().groups();
        long group = groups.size() == 1 ? groups.get(0) : groups.get(random.nextInt(groups.size()));
        long id = nextNodeId++;
        ChaosNode node = cluster.define(id, true, cluster.members());
        cluster.start(node);
        AdminReply added = admin.addMember(group, id, MemberAddress.format(node.clientAddress), MemberAddress.format(node.proxyAddress));
        if (!added.getOk()) {
            log.accept("  adding " + node + groupNote(group).replace(" of", " to") + " refused: " + added.getMessage());
            cluster.kill(node);
            node.removed = true;
            return Optional.empty();
        }
        boolean voter = awaitMembership(group, id, true, CATCH_UP_TIMEOUT);
        log.accept("  " + node + " added" + groupNote(group).replace(" of", " to")
                + (voter ? " and promoted to voter" : ", still a learner after " + CATCH_UP_TIMEOUT.toSeconds() + " s"));
        Sleep.millis(step.holdMillis());
        AdminReply removed = admin.removeMember(group, id);
        // A refusal is a problem only if the store stays a member: a retried request whose first
        // attempt went through but whose reply was lost is refused as "not a member".
        if (!awaitMembership(group, id, false, removed.getOk() ? CATCH_UP_TIMEOUT : Duration.ofSeconds(2))) {
            problems.add(node + " could not be removed again" + groupNote(group).replace(" of", " from") + ": " + removed.getMessage());
            healAll();
            return Optional.of("member add " + node + groupNote(group).replace(" of", " to") + " (remove failed)");
        }
        cluster.kill(node);
        node.removed = true;
        healAll();
        return Optional.of("member add " + node + groupNote(group).replace(" of", " to") + (voter ? " (voter)" : " (learner)")
                + ", then remove");
    }

    /** Waits until the group's leader lists {@code id} as a voter ({@code present}) or not at all ({@code !present}). */
    private boolean awaitMembership(long group, long id, boolean present, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<NodeStatusReply> status = cluster.leaderOf(group).flatMap(leader -> cluster.status(leader, group));
            if (status.isPresent()) {
                Optional<MemberInfo> member = status.get().getMembersList().stream().filter(m -> m.getId() == id).findFirst();
                if (present ? member.isPresent() && !member.get().getLearner() : member.isEmpty()) {
                    return true;
                }
            }
            Sleep.millis(200);
        }
        return false;
    }

    private Optional<String> tornWalRestart(Optional<ChaosNode> leader, List<ChaosNode> members, Random random) throws IOException {
        List<ChaosNode> followers = members.stream().filter(n -> leader.isEmpty() || n != leader.get()).toList();
        if (leader.isEmpty() || followers.isEmpty()) {
            return Optional.empty();
        }
        ChaosNode target = followers.get(random.nextInt(followers.size()));
        cluster.kill(target);
        stoppedOnPurpose.add(target.id);
        long logBytesBefore = Files.exists(cluster.logFile(target)) ? Files.size(cluster.logFile(target)) : 0;
        TornWalTail.Tear tear = TornWalTail.tear(target.dataDirectory.resolve("raft").resolve("wal"), random.nextLong());
        cluster.start(target);
        stoppedOnPurpose.remove(target.id);
        boolean caughtUp = awaitCaughtUp(target, CATCH_UP_TIMEOUT);
        String noticed = walReportedTear(target, logBytesBefore) ? "the WAL discarded the torn record" : "no torn-record line in its log";
        if (tear == null) {
            healAll();
            return Optional.of("SIGKILL " + target + ", no room for a torn record in its newest WAL segment, restarted");
        }
        if (!caughtUp) {
            problems.add(target + " did not catch up within " + CATCH_UP_TIMEOUT.toSeconds() + " s after a torn WAL tail ("
                    + tear + ")");
        }
        healAll();
        return Optional.of("SIGKILL " + target + ", torn tail " + tear + ", restarted: " + noticed
                + (caughtUp ? ", caught up" : ", NOT caught up"));
    }

    private boolean walReportedTear(ChaosNode node, long fromByte) throws IOException {
        Sleep.millis(200);
        byte[] log = Files.readAllBytes(cluster.logFile(node));
        String added = new String(log, (int) Math.min(fromByte, log.length), (int) Math.max(0, log.length - fromByte),
                StandardCharsets.UTF_8);
        return added.contains("torn record");
    }

    /**
     * Waits until {@code node} has applied, in every group it hosts, what that group's leader had
     * committed when the wait began.
     */
    boolean awaitCaughtUp(ChaosNode node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Long, Long> targets = null;
        while (System.nanoTime() < deadline) {
            if (targets == null) {
                targets = leaderCommitIndexes();
            } else if (hasApplied(node, targets)) {
                return true;
            }
            Sleep.millis(100);
        }
        return false;
    }

    /** Every group's commit index at its leader now, or null while some group has no leader that answers. */
    private Map<Long, Long> leaderCommitIndexes() {
        Optional<GroupTable> table = cluster.groupTable();
        if (table.isEmpty()) {
            return null;
        }
        Map<Long, Long> commits = new HashMap<>();
        for (GroupTable.Group group : table.get().groups()) {
            Optional<NodeStatusReply> status = cluster.leaderOf(group.id()).flatMap(leader -> cluster.status(leader, group.id()));
            if (status.isEmpty()) {
                return null;
            }
            commits.put(group.id(), status.get().getCommitIndex());
        }
        return commits;
    }

    private boolean hasApplied(ChaosNode node, Map<Long, Long> targets) {
        Optional<LayoutReply> layout = cluster.layout(node);
        if (layout.isEmpty()) {
            return false;
        }
        for (GroupView view : layout.get().getGroupsList()) {
            boolean hosted = !"NONE".equals(view.getRole());
            if (hosted && view.getAppliedIndex() < targets.getOrDefault(view.getGroupId(), 0L)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Ends every fault: links healed, paused members continued, stopped members restarted. A
     * member found down that no fault stopped exited on its own: that is reported as a problem.
     */
    void healAll() throws IOException {
        cluster.links().healAll();
        List<ChaosNode> restarted = new ArrayList<>();
        for (ChaosNode node : cluster.members()) {
            if (node.paused) {
                cluster.resume(node);
            }
            if (!node.isRunning()) {
                if (node.process != null && !stoppedOnPurpose.contains(node.id)) {
                    problems.add(node + " exited by itself; its log ends with:\n" + cluster.logTail(node, 20));
                }
                cluster.start(node);
                restarted.add(node);
            }
        }
        stoppedOnPurpose.clear();
        // A started JVM takes seconds to serve on a busy machine: the next fault must not find it still
        // starting, or two nodes would be down at once and the schedule would not be one fault at a time.
        for (ChaosNode node : restarted) {
            if (!awaitServing(node, CATCH_UP_TIMEOUT)) {
                problems.add(node + " did not answer within " + CATCH_UP_TIMEOUT.toSeconds() + " s of its restart; its log ends with:\n"
                        + cluster.logTail(node, 20));
            }
        }
    }

    private boolean awaitServing(ChaosNode node, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (cluster.status(node).isPresent()) {
                return true;
            }
            if (!node.isRunning()) {
                return false;
            }
            Sleep.millis(100);
        }
        return false;
    }

    private static void cut(LinkTable links, List<ChaosNode> a, List<ChaosNode> b) {
        for (ChaosNode x : a) {
            for (ChaosNode y : b) {
                links.set(x.id, y.id, LinkFaults.BLOCKED);
                links.set(y.id, x.id, LinkFaults.BLOCKED);
            }
        }
    }

    private static void everyLink(LinkTable links, List<ChaosNode> members, LinkFaults faults) {
        for (ChaosNode x : members) {
            for (ChaosNode y : members) {
                if (x != y) {
                    links.set(x.id, y.id, faults);
                }
            }
        }
    }

    private static List<ChaosNode> shuffled(List<ChaosNode> nodes, Random random) {
        List<ChaosNode> copy = new ArrayList<>(nodes);
        Collections.shuffle(copy, random);
        return copy;
    }

    private static List<Long> ids(List<ChaosNode> nodes) {
        return nodes.stream().map(n -> n.id).sorted().toList();
    }
}
