package io.loomkv.core.kv.sim;

import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.kv.MigrationPlanner;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.SimReplica;
import io.loomkv.core.raft.sim.SimStore;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.core.shard.proto.Layout;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One simulated store's migration driver: the server's {@code MigrationDriver} with its I/O
 * replaced by the simulator's. Every round (100 ms of simulated time) it steps each data group
 * whose replica here leads and that has work (slots moving, or a newer configuration at the
 * controller replica here): it reads the group's ownership locally and lets {@link MigrationPlanner}
 * decide; Reconfigure and DeleteSlots and InstallSlotChunks are proposed to the local replica, and
 * ExportSlots and progress reads go to a replica of the other group through {@link SimCalls}
 * (lost, delayed, partitioned like any message).
 *
 * <p>Differences from the server's loop, all on the side of more interleavings: a round sends at
 * most one export per source group and one progress read per new owner and proposes from their
 * answers whenever they arrive (the server loops up to 16 chunks and 16 deletes per round and
 * waits for each proposal's reply); the next round starts again from the group's published
 * ownership, so a chunk or delete proposed again before the last one applied is refused by the
 * state machine, as on a real leader change.
 */
final class SimMigrationDriver {

    static final long ROUND_TICKS = Simulator.ticksForMillis(100);
    /** A call with no answer after this long is given up and asked again (the server waits up to 5 s). */
    private static final long CALL_TIMEOUT_TICKS = Simulator.ticksForMillis(1_000);

    private final Simulator sim;
    private final SimCalls calls;
    private final ShardedFault fault;
    private final int storeId;
    private final List<Long> dataGroups;
    private long incarnation;
    private long nextRoundTick;
    /** Calls in flight by what they are for, with the tick each was sent at. */
    private final Map<String, Long> waiting = new TreeMap<>();
    /** The stores of every group seen in a configuration, kept after it leaves (the server's knownReplicas). */
    private final Map<Long, List<Long>> knownReplicas = new TreeMap<>();
    private int askOffset;
    private long proposals;

    SimMigrationDriver(Simulator sim, SimCalls calls, int storeId, List<Long> dataGroups, ShardedFault fault) {
        this.sim = sim;
        this.fault = fault;
        this.calls = calls;
        this.storeId = storeId;
        this.dataGroups = List.copyOf(dataGroups);
    }

    /** Migration commands this driver proposed (accepted by its replica as leader). */
    long proposals() {
        return proposals;
    }

    void tick() {
        SimStore store = sim.store(storeId);
        if (!store.running()) {
            return;
        }
        if (store.incarnation() != incarnation) {
            // A restarted store has forgotten its calls and what it knew of other groups.
            incarnation = store.incarnation();
            waiting.clear();
            knownReplicas.clear();
        }
        long now = sim.nowTick();
        if (now < nextRoundTick) {
            return;
        }
        nextRoundTick = now + ROUND_TICKS;
        waiting.values().removeIf(sent -> now - sent > CALL_TIMEOUT_TICKS);
        KvSimMachine controller = machine(storeId, GroupIds.CONTROLLER_GROUP_ID);
        SlotLayout latest = controller == null ? null : controller.machine().latestConfig();
        if (latest != null) {
            remember(latest);
        }
        long routing = latest == null ? 0 : latest.version();
        for (long group : dataGroups) {
            SimReplica replica = store.replica(simGroup(group));
            KvSimMachine machine = machine(storeId, group);
            boolean work = machine != null
                    && (machine.machine().movingSlotCount() > 0 || machine.machine().configNumber() < routing);
            if (work && replica.isLeader()) {
                step(group, machine);
            }
        }
    }

    private void step(long group, KvSimMachine machine) {
        SlotOwnershipState ours = progress(machine.machine().read(progressRequest(group)));
        if (ours == null) {
            return;
        }
        MigrationPlanner.Work work = MigrationPlanner.work(ours);
        if (work.reconfigures()) {
            reconfigure(group, ours);
            return;
        }
        for (Map.Entry<Long, List<MovingSlot>> from : work.pullFrom().entrySet()) {
            pull(group, work.configNumber(), from.getKey(), from.getValue());
        }
        for (Map.Entry<Long, List<MovingSlot>> to : work.handOffTo().entrySet()) {
            handOff(group, work.configNumber(), to.getKey(), to.getValue());
        }
    }

    private void reconfigure(long group, SlotOwnershipState ours) {
        long config = ours.getConfigNumber();
        Layout next = queryController(config + 1);
        if (next == null || next.getVersion() != config + 1) {
            return;
        }
        Layout previous = null;
        if (config > 0) {
            previous = queryController(config);
            if (previous == null || previous.getVersion() != config) {
                return;
            }
            remember(SlotLayout.fromProto(previous));
        }
        Optional<Reconfigure> reconfigure = MigrationPlanner.reconfigure(ours, next, previous);
        reconfigure.ifPresent(r -> propose(group, MigrationWrite.newBuilder().setReconfigure(r).build()));
    }

    private void pull(long group, long config, long from, List<MovingSlot> slots) {
        String purpose = "pull " + group + " from " + from;
        int source = waiting.containsKey(purpose) ? 0 : askStore(from, config);
        if (source == 0) {
            return;
        }
        ExportSlots export = MigrationPlanner.export(config, MigrationPlanner.cursors(slots));
        KvRequest request = KvRequest.newBuilder().setGroupId(from).setConsistency(ReadConsistency.SERIALIZABLE)
                .setMigrationRead(MigrationRead.newBuilder().setExport(export)).build();
        waiting.put(purpose, sim.nowTick());
        calls.call(storeId, source, at -> read(at, from, request), exported -> {
            waiting.remove(purpose);
            if (exported.getStatus() != Status.OK) {
                return;
            }
            InstallSlotChunks install = MigrationPlanner.install(export, exported.getMigration().getExport());
            if (install.getChunksCount() > 0) {
                propose(group, MigrationWrite.newBuilder().setInstall(install).build());
            }
        });
    }

    private void handOff(long group, long config, long to, List<MovingSlot> slots) {
        if (fault == ShardedFault.DELETE_BEFORE_INSTALLED) {
            List<Integer> all = slots.stream().map(MovingSlot::getSlot).toList();
            MigrationPlanner.delete(config, all).ifPresent(d -> propose(group, MigrationWrite.newBuilder().setDeleteSlots(d).build()));
            return;
        }
        String purpose = "hand off " + group + " to " + to;
        int target = waiting.containsKey(purpose) ? 0 : askStore(to, config);
        if (target == 0) {
            return;
        }
        waiting.put(purpose, sim.nowTick());
        calls.call(storeId, target, at -> read(at, to, progressRequest(to)), reply -> {
            waiting.remove(purpose);
            SlotOwnershipState theirs = progress(reply);
            if (theirs == null) {
                return;
            }
            Optional<DeleteSlots> delete = MigrationPlanner.delete(config,
                    MigrationPlanner.installedByNewOwner(config, slots, theirs));
            delete.ifPresent(d -> propose(group, MigrationWrite.newBuilder().setDeleteSlots(d).build()));
        });
    }

    /**
     * Serves a read at store {@code at}'s replica of {@code group}, as the server's MIGRATION method
     * does: a store that retired its replica (a replica move took the group away) answers
     * WRONG_GROUP at once, so the caller asks the next store; a store that is down does not answer.
     */
    private KvReply read(int at, long group, KvRequest request) {
        if (sim.store(at).replica(simGroup(group)).retired()) {
            return KvReply.newBuilder().setStatus(Status.WRONG_GROUP)
                    .setMessage("store " + at + " hosts no replica of group " + group).build();
        }
        KvSimMachine machine = machine(at, group);
        return machine == null ? null : machine.machine().read(request);
    }

    private void propose(long group, MigrationWrite write) {
        Command command = Command.newBuilder()
                .setTimestampMillis(SimSession.CLOCK_BASE_MILLIS + sim.nowTick() * Simulator.MILLIS_PER_TICK)
                .setMigrationWrite(write).build();
        if (sim.group(simGroup(group)).propose(storeId, CommandBatch.newBuilder().addCommands(command).build().toByteString())
                .isLeader()) {
            proposals++;
        }
    }

    /** Configuration {@code number} from this store's replica of the controller (any applied state will do). */
    private Layout queryController(long number) {
        KvSimMachine controller = machine(storeId, GroupIds.CONTROLLER_GROUP_ID);
        if (controller == null) {
            return null;
        }
        KvReply reply = controller.machine().read(KvRequest.newBuilder().setConsistency(ReadConsistency.SERIALIZABLE)
                .setController(ControllerCommand.newBuilder().setQuery(QueryConfig.newBuilder().setNumber(number)))
                .build());
        if (reply.getStatus() != Status.OK || !reply.getController().getError().isEmpty() || !reply.getController().hasConfig()) {
            return null;
        }
        return reply.getController().getConfig();
    }

    /** A store of {@code group} to ask, in turn (0 when none is known): as the server looks them up. */
    private int askStore(long group, long config) {
        for (long number = Math.max(1, config - 1); number <= config && !knownReplicas.containsKey(group); number++) {
            Layout layout = queryController(number);
            if (layout != null) {
                remember(SlotLayout.fromProto(layout));
            }
        }
        List<Long> stores = knownReplicas.get(group);
        if (stores == null || stores.isEmpty()) {
            return 0;
        }
        return (int) (long) stores.get(Math.floorMod(askOffset++, stores.size()));
    }

    private void remember(SlotLayout layout) {
        for (long group : layout.groups()) {
            knownReplicas.put(group, layout.replicas(group));
        }
    }

    private KvSimMachine machine(int store, long group) {
        return (KvSimMachine) sim.store(store).replica(simGroup(group)).machine();
    }

    static int simGroup(long kvGroup) {
        return (int) kvGroup + 1;
    }

    private static SlotOwnershipState progress(KvReply reply) {
        return reply != null && reply.getStatus() == Status.OK && reply.getMigration().hasProgress()
                ? reply.getMigration().getProgress() : null;
    }

    private static KvRequest progressRequest(long group) {
        return KvRequest.newBuilder().setGroupId(group).setConsistency(ReadConsistency.SERIALIZABLE)
                .setMigrationRead(MigrationRead.newBuilder().setProgress(true)).build();
    }
}
