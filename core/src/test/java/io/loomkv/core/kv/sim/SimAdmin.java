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
import io.loomkv.core.shard.controller.proto.ReplaceReplica;
import io.loomkv.core.shard.proto.GroupReplicas;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * The operator of the sharded simulation: at planned ticks it sends the shard controller one
 * command through its session at group 0, chosen from the newest configuration it can see: Leave
 * of one of two data groups, Join of a group not in the configuration, Move of a random slot
 * range to a random group, or (when stores to move to are given) ReplaceReplica of one of a
 * group's stores by a store that does not host it. A command refused (made from a configuration that changed since) is
 * fine; one applied makes a configuration the data groups must then walk to.
 */
final class SimAdmin {

    private final Simulator sim;
    private final Random random;
    private final List<Long> dataGroups;
    private final List<Long> stores;
    /** Stores a replica may move to (every store of the run); empty: no ReplaceReplica. */
    private final List<Long> moveTargets;
    private final Supplier<SlotLayout> latest;
    private final SimSession session;
    private final ArrayDeque<Long> plannedTicks = new ArrayDeque<>();
    private final List<String> made = new ArrayList<>();
    private int refused;

    SimAdmin(Simulator sim, List<Long> dataGroups, List<Long> stores, List<Long> moveTargets, Supplier<SlotLayout> latest,
            List<Long> plannedTicks) {
        this.sim = sim;
        this.random = sim.random();
        this.dataGroups = List.copyOf(dataGroups);
        this.stores = List.copyOf(stores);
        this.moveTargets = List.copyOf(moveTargets);
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
        if (!moveTargets.isEmpty() && random.nextInt(2) == 0) {
            return replaceReplica(config, in.get(random.nextInt(in.size())));
        }
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

    /** One of {@code group}'s stores replaced by a store that does not host it (there is one: a group has 3 of 4 or 5). */
    private ControllerCommand replaceReplica(SlotLayout config, long group) {
        List<Long> hosts = config.replicas(group);
        List<Long> others = new ArrayList<>(moveTargets);
        others.removeAll(hosts);
        return ControllerCommand.newBuilder().setReplaceReplica(ReplaceReplica.newBuilder().setGroupId(group)
                .setFromStore(hosts.get(random.nextInt(hosts.size()))).setToStore(others.get(random.nextInt(others.size()))))
                .build();
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
            case REPLACE_REPLICA -> "move group " + command.getReplaceReplica().getGroupId() + "'s replica from store "
                    + command.getReplaceReplica().getFromStore() + " to " + command.getReplaceReplica().getToStore();
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
