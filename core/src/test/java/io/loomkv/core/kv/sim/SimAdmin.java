package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.LeaveGroups;
import io.loomkv.core.shard.controller.proto.MoveSlots;
import io.loomkv.core.shard.proto.GroupReplicas;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The operator of the sharded simulation: at planned ticks it sends the shard controller one
 * command through its session at group 0, chosen from the newest configuration it can see: Leave
 * of one of two data groups, Join of a group not in the configuration, or Move of a random slot
 * range to a random group. A command refused (made from a configuration that changed since) is
 * fine; one applied makes a configuration the data groups must then walk to.
 */
final class SimAdmin {

    private final Simulator sim;
    private final Random random;
    private final List<Long> dataGroups;
    private final List<Long> stores;
    private final Supplier<SlotLayout> latest;
    private final SimSession session;
    private final ArrayDeque<Long> plannedTicks = new ArrayDeque<>();
    private final List<String> made = new ArrayList<>();
    private int refused;

    SimAdmin(Simulator sim, List<Long> dataGroups, List<Long> stores, Supplier<SlotLayout> latest, List<Long> plannedTicks) {
        this.sim = sim;
        this.random = sim.random();
        this.dataGroups = List.copyOf(dataGroups);
        this.stores = List.copyOf(stores);
        this.latest = latest;
        this.session = new SimSession(sim, "admin", GroupIds.CONTROLLER_GROUP_ID);
        this.plannedTicks.addAll(plannedTicks.stream().sorted().toList());
    }

    void tick() {
        session.tick();
        if (!session.idle() || plannedTicks.isEmpty() || sim.nowTick() < plannedTicks.peekFirst()) {
            return;
        }
        SlotLayout config = latest.get();
        if (config == null) {
            return;
        }
        plannedTicks.pollFirst();
        ControllerCommand command = choose(config);
        String what = describe(command);
        session.write(Command.newBuilder().setController(command), refusedBy -> GroupIds.CONTROLLER_GROUP_ID,
                reply -> outcome(what, reply));
    }

    private ControllerCommand choose(SlotLayout config) {
        List<Long> in = config.groups();
        List<Long> out = new ArrayList<>(dataGroups);
        out.removeAll(in);
        if (!out.isEmpty() && (in.size() == 1 || random.nextInt(3) == 0)) {
            long group = out.get(random.nextInt(out.size()));
            return ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                    .addGroups(GroupReplicas.newBuilder().setGroupId(group).addAllStoreIds(stores))).build();
        }
        if (in.size() > 1 && random.nextInt(4) == 0) {
            return ControllerCommand.newBuilder().setLeave(LeaveGroups.newBuilder()
                    .addGroupIds(in.get(random.nextInt(in.size())))).build();
        }
        int first = random.nextInt(Slots.SLOT_COUNT);
        int last = Math.min(Slots.SLOT_COUNT - 1, first + random.nextInt(4_096));
        // To a group other than the first slot's owner, so the move moves something.
        List<Long> targets = new ArrayList<>(in);
        if (targets.size() > 1) {
            targets.remove(config.groupOf(first));
        }
        return ControllerCommand.newBuilder().setMove(MoveSlots.newBuilder().setFirst(first).setLast(last)
                .setGroupId(targets.get(random.nextInt(targets.size())))).build();
    }

    private void outcome(String what, KvReply reply) {
        if (reply.getStatus() == Status.OK) {
            made.add(what + " -> configuration " + reply.getController().getConfig().getVersion());
            } else if (reply.getStatus() == Status.INVALID_ARGUMENT) {
            refused++;
        } else {
            throw sim.fail("admin: " + what + " ended " + reply.getStatus() + ": " + reply.getMessage());
        }
    }

    private static String describe(ControllerCommand command) {
        return switch (command.getOpCase()) {
            case JOIN -> "join " + command.getJoin().getGroups(0).getGroupId();
            case LEAVE -> "leave " + command.getLeave().getGroupIds(0);
            case MOVE -> "move " + command.getMove().getFirst() + ".." + command.getMove().getLast() + " to "
                    + command.getMove().getGroupId();
            default -> command.getOpCase().toString();
        };
    }

    /** Every planned command was sent and has its outcome. */
    boolean done() {
        return plannedTicks.isEmpty() && (session.idle() || !session.open());
    }

    /** Gives up the commands not sent yet (the run is settling). */
    void stop() {
        plannedTicks.clear();
    }

    List<String> made() {
        return made;
    }

    int refused() {
        return refused;
    }
}
