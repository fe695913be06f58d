package io.loomkv.tools.chaos;

import io.loomkv.bench.kv.RandomSlotMove;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.AddStore;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.ForgetStore;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The chaos faults that change the shard configuration under load: a slot range moves to another
 * group, a store is killed while slots move, a group joins and leaves again, a replica moves to a
 * spare store and back. Each waits until the
 * stores have settled (every group's leader at the newest configuration, no slot moving); not
 * settling within the timeout is a problem of the run. The workload's own checks (linearizable
 * history, every append exactly once) then cover the data across the moves.
 */
final class MigrationFaults {
    static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
    /** Slots per move: enough to carry keys of the workload, few enough to move in a second or two. */
    private static final int SLOTS_PER_MOVE = 512;
    /** Ids for joined groups, far above the cluster's own. */
    private static final long FIRST_JOINED_GROUP = 1_000;

    private final ChaosCluster cluster;
    private final KvClient admin;
    private final Consumer<String> log;
    private final List<String> problems;
    private long nextGroup = FIRST_JOINED_GROUP;

    MigrationFaults(ChaosCluster cluster, KvClient admin, Consumer<String> log, List<String> problems) {
        this.cluster = cluster;
        this.admin = admin;
        this.log = log;
        this.problems = problems;
    }

    /** Moves a random range of slots to another group; empty with fewer than two groups. */
    Optional<String> slotMove(Random random, long holdMillis) {
        Optional<String> moved = moveRandomRange(random);
        if (moved.isEmpty()) {
            return Optional.empty();
        }
        long settledMillis = awaitSettled();
        Sleep.millis(holdMillis);
        return Optional.of(moved.get() + settledText(settledMillis));
    }

    /** Moves a range and SIGKILLs a random member while it moves; the caller heals (restarts) after. */
    Optional<String> killDuringMove(Random random, long holdMillis, Consumer<ChaosNode> kill) {
        Optional<String> moved = moveRandomRange(random);
        if (moved.isEmpty()) {
            return Optional.empty();
        }
        List<ChaosNode> running = cluster.members().stream().filter(ChaosNode::isRunning).toList();
        ChaosNode victim = running.get(random.nextInt(running.size()));
        kill.accept(victim);
        Sleep.millis(holdMillis);
        return Optional.of(moved.get() + ", SIGKILL " + victim + " while the slots move");
    }

    /** After a heal: the stores settle at the newest configuration (a problem if they do not). */
    String settleAfterHeal() {
        return settledText(awaitSettled());
    }

    /** A new group on every initial member takes its share of the slots, then leaves again. */
    Optional<String> groupJoinLeave(long holdMillis) {
        List<Long> stores = cluster.members().stream().filter(node -> !node.removed).map(node -> node.id).sorted()
                .limit(3).toList();
        long group = nextGroup++;
        ControllerReply joined = admin.controller(ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(group).addAllStoreIds(stores))).build());
        if (!joined.getError().isEmpty()) {
            log.accept("  join of group " + group + " refused: " + joined.getError());
            return Optional.empty();
        }
        long joinMillis = awaitSettled();
        Sleep.millis(holdMillis);
        ControllerReply left = admin.controller(ControllerCommand.newBuilder()
                .setLeave(LeaveGroups.newBuilder().addGroupIds(group)).build());
        if (!left.getError().isEmpty()) {
            problems.add("group " + group + " could not leave again: " + left.getError());
            return Optional.of("group " + group + " joined on stores " + stores + settledText(joinMillis) + "; leave refused");
        }
        long leaveMillis = awaitSettled();
        return Optional.of("group " + group + " joined on stores " + stores + settledText(joinMillis) + ", then left"
                + settledText(leaveMillis));
    }

    /**
     * A replica moved to a spare store and back, under load; every other time the shard
     * controller's own replica of a random store goes to the spare and back too, while the group's
     * replica is there (the controller then serves every other command of the run from a moved
     * membership, and the stores route by its new list). Why a group of its own: a moved group's
     * stores belong to the controller for good (its leader undoes {@code ctl member} changes), which
     * would end the member-change fault for the cluster's own groups; this one leaves at the end.
     * Why a spare store started for the fault: every server of the default shape hosts every
     * group, so no store could take a replica. The spare is forgotten at the end and must stop by
     * itself (docs/shard-controller.md, "Forgetting a store").
     */
    Optional<String> replicaMoveAwayAndBack(Random random, long holdMillis, long spareId) throws IOException {
        ChaosNode spare = cluster.define(spareId, true, cluster.members());
        cluster.start(spare);
        ControllerReply added = admin.controller(ControllerCommand.newBuilder().setAddStore(AddStore.newBuilder()
                .setStore(StoreEndpoint.newBuilder().setStoreId(spareId).setClientAddress(MemberAddress.format(spare.clientAddress))
                        .setPeerAddress(MemberAddress.format(spare.proxyAddress)))).build());
        if (!added.getError().isEmpty()) {
            log.accept("  adding spare " + spare + " refused: " + added.getError());
            retire(spare);
            return Optional.empty();
        }
        List<Long> stores = cluster.members().stream().filter(node -> !node.joined).map(node -> node.id).sorted().limit(3).toList();
        long group = nextGroup++;
        ControllerReply joined = admin.controller(ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(group).addAllStoreIds(stores))).build());
        if (!joined.getError().isEmpty()) {
            problems.add("group " + group + " could not join for a replica move: " + joined.getError());
            return Optional.of("spare " + spare + " added; group " + group + " refused");
        }
        long joinMillis = awaitSettled();
        long from = stores.get(random.nextInt(stores.size()));
        List<Long> moved = stores.stream().map(store -> store == from ? spareId : store).toList();
        long awayMillis = moveReplica(group, from, spareId, moved);
        String controllerMove = random.nextBoolean() ? controllerAwayAndBack(random, spareId) : "";
        Sleep.millis(holdMillis);
        long backMillis = moveReplica(group, spareId, from, stores);
        ControllerReply left = admin.controller(ControllerCommand.newBuilder()
                .setLeave(LeaveGroups.newBuilder().addGroupIds(group)).build());
        if (!left.getError().isEmpty()) {
            problems.add("group " + group + " could not leave after its replica moves: " + left.getError());
        }
        long leaveMillis = awaitSettled();
        String forgotten = forget(spare);
        return Optional.of("group " + group + " on " + stores + settledText(joinMillis) + ": replica " + from + " -> spare "
                + spare + settledText(awayMillis) + controllerMove + ", replica back" + settledText(backMillis) + ", group left"
                + settledText(leaveMillis) + ", spare " + forgotten);
    }

    /** The controller's replica on one of its stores moves to the spare and back; what happened, for the fault's line. */
    private String controllerAwayAndBack(Random random, long spareId) {
        ControllerReply latest = admin.config(-1);
        if (!latest.getError().isEmpty()) {
            return "; controller not moved (" + latest.getError() + ")";
        }
        List<Long> stores = SlotLayout.fromProto(latest.getConfig()).controllerStores();
        if (stores.isEmpty()) {
            return "; controller not moved (its stores are not listed)";
        }
        long from = stores.get(random.nextInt(stores.size()));
        List<Long> moved = stores.stream().map(store -> store == from ? spareId : store).toList();
        long awayMillis = moveReplica(GroupIds.CONTROLLER_GROUP_ID, from, spareId, moved);
        long backMillis = moveReplica(GroupIds.CONTROLLER_GROUP_ID, spareId, from, stores);
        return ", controller replica " + from + " -> spare" + settledText(awayMillis) + " and back" + settledText(backMillis);
    }

    /** Sends one ReplaceReplica and waits until the group's voters are {@code expected} and no other store holds it. */
    private long moveReplica(long group, long from, long to, List<Long> expected) {
        ControllerReply reply = admin.controller(ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder()
                .setGroupId(group).setFromStore(from).setToStore(to)).build());
        if (!reply.getError().isEmpty()) {
            problems.add("group " + group + ": replica move " + from + " -> " + to + " refused: " + reply.getError());
            return -1;
        }
        long start = System.nanoTime();
        long deadline = start + SETTLE_TIMEOUT.toNanos();
        Set<Long> want = new TreeSet<>(expected);
        String last = "";
        while (System.nanoTime() < deadline) {
            Map<Long, Set<Long>> hosts = new HashMap<>();
            GroupView view = leaderViews(hosts).get(group);
            if (view != null && view.getLearnersCount() == 0 && want.equals(new TreeSet<>(view.getVotersList()))
                    && want.containsAll(hosts.getOrDefault(group, Set.of()))) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            last = view == null ? "no leader known" : "voters " + view.getVotersList() + ", learners " + view.getLearnersList()
                    + ", held by " + hosts.get(group);
            Sleep.millis(200);
        }
        problems.add("group " + group + ": replica move " + from + " -> " + to + " not done within " + SETTLE_TIMEOUT.toSeconds()
                + " s: " + last);
        return -1;
    }

    /** ForgetStore of the spare, which must then stop by itself (exit code 1, saying why). */
    private String forget(ChaosNode spare) {
        ControllerReply reply = admin.controller(ControllerCommand.newBuilder()
                .setForgetStore(ForgetStore.newBuilder().setStoreId(spare.id)).build());
        if (!reply.getError().isEmpty()) {
            problems.add(spare + " could not be forgotten: " + reply.getError());
            retire(spare);
            return "not forgotten";
        }
        spare.removed = true; // no longer a member: its stop is not a crash, and the final checks leave it out
        try {
            spare.process.onExit().get(SETTLE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            problems.add(spare + " was forgotten but did not stop within " + SETTLE_TIMEOUT.toSeconds() + " s");
            retire(spare);
            return "forgotten, still running";
        }
        String tail = cluster.logTail(spare, 50);
        if (!tail.contains("was forgotten by the shard controller")) {
            problems.add(spare + " stopped after it was forgotten without saying why; its log ends with:\n" + tail);
        }
        return "forgotten (configuration " + reply.getConfig().getVersion() + ") and stopped by itself";
    }

    private void retire(ChaosNode node) {
        cluster.kill(node);
        node.removed = true;
    }

    private Optional<String> moveRandomRange(Random random) {
        ControllerReply latest = admin.config(-1);
        if (!latest.getError().isEmpty()) {
            return Optional.empty();
        }
        SlotLayout layout = SlotLayout.fromProto(latest.getConfig());
        MoveSlots move = RandomSlotMove.pick(layout, random, SLOTS_PER_MOVE);
        if (move == null) {
            return Optional.empty();
        }
        ControllerReply moved = admin.controller(ControllerCommand.newBuilder().setMove(move).build());
        if (!moved.getError().isEmpty()) {
            log.accept("  move refused: " + moved.getError());
            return Optional.empty();
        }
        return Optional.of("slots " + move.getFirst() + "-" + move.getLast() + " group " + layout.groupOf(move.getFirst())
                + " -> " + move.getGroupId() + " (configuration " + moved.getConfig().getVersion() + ")");
    }

    /** Milliseconds until every group's leader is at the newest configuration with no slot moving; -1 at the timeout. */
    private long awaitSettled() {
        long start = System.nanoTime();
        long deadline = start + SETTLE_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                ControllerReply latest = admin.config(-1);
                if (latest.getError().isEmpty()) {
                    SlotLayout layout = SlotLayout.fromProto(latest.getConfig());
                    Map<Long, GroupView> leaders = leaderViews();
                    last = "configuration " + layout.version();
                    boolean settled = true;
                    for (long group : layout.groups()) {
                        GroupView view = leaders.get(group);
                        if (view == null || view.getConfigNumber() != layout.version() || view.getMovingSlots() != 0) {
                            settled = false;
                            last += ", group " + group + (view == null ? " without a known leader"
                                    : " at " + view.getConfigNumber() + " moving " + view.getMovingSlots());
                            break;
                        }
                    }
                    if (settled) {
                        return (System.nanoTime() - start) / 1_000_000;
                    }
                }
            } catch (RuntimeException e) {
                last = e.getMessage();
            }
            Sleep.millis(200);
        }
        problems.add("the stores did not settle within " + SETTLE_TIMEOUT.toSeconds() + " s: " + last);
        return -1;
    }

    private Map<Long, GroupView> leaderViews() {
        return leaderViews(new HashMap<>());
    }

    /** Each group's view from the store leading it; in {@code hosts}, the running stores holding a replica of each group. */
    private Map<Long, GroupView> leaderViews(Map<Long, Set<Long>> hosts) {
        Map<Long, GroupView> leaders = new HashMap<>();
        for (ChaosNode node : cluster.members()) {
            if (!node.isRunning()) {
                continue;
            }
            try {
                LayoutReply reply = admin.layoutOf(node.clientAddress);
                for (GroupView view : reply.getGroupsList()) {
                    if (!"NONE".equals(view.getRole())) {
                        hosts.computeIfAbsent(view.getGroupId(), g -> new TreeSet<>()).add(node.id);
                    }
                    if ("LEADER".equals(view.getRole())) {
                        leaders.put(view.getGroupId(), view);
                    }
                }
            } catch (RuntimeException e) {
                // A store that does not answer now: the others' views decide.
            }
        }
        return leaders;
    }

    private static String settledText(long millis) {
        return millis < 0 ? " (not settled)" : " (settled in " + millis + " ms)";
    }
}
