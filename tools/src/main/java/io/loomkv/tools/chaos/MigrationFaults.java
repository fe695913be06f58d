package io.loomkv.tools.chaos;

import io.loomkv.bench.kv.RandomSlotMove;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The chaos faults that change the shard configuration under load: a slot range moves to another
 * group, a store is killed while slots move, a group joins and leaves again. Each waits until the
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
        Map<Long, GroupView> leaders = new HashMap<>();
        for (ChaosNode node : cluster.members()) {
            if (!node.isRunning()) {
                continue;
            }
            try {
                LayoutReply reply = admin.layoutOf(node.clientAddress);
                for (GroupView view : reply.getGroupsList()) {
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
