package io.loomkv.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.ExportSlotsResult;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.SlotPhase;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.proto.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The migration driver's decisions ({@link MigrationPlanner}), alone and driving two real state machines. */
class MigrationPlannerTest {

    private static MovingSlot moving(int slot, SlotPhase phase, long other, String resumeKey) {
        return MovingSlot.newBuilder().setSlot(slot).setPhase(phase).setOtherGroup(other)
                .setResumeKey(KvFixture.bytes(resumeKey)).build();
    }

    @Test
    void aGroupWithNothingMovingAsksForTheNextConfigurationAndOtherwiseSplitsItsMovesByPhaseAndGroup() {
        MigrationPlanner.Work idle = MigrationPlanner.work(SlotOwnershipState.newBuilder().setConfigNumber(4).build());
        assertTrue(idle.reconfigures());
        assertEquals(5, idle.reconfigureTo());

        MigrationPlanner.Work busy = MigrationPlanner.work(SlotOwnershipState.newBuilder().setConfigNumber(4)
                .addMoving(moving(1, SlotPhase.PULLING, 3, "")).addMoving(moving(2, SlotPhase.HANDING_OFF, 2, ""))
                .addMoving(moving(3, SlotPhase.PULLING, 2, "k")).addMoving(moving(4, SlotPhase.PULLING, 3, "")).build());
        assertFalse(busy.reconfigures());
        assertEquals(List.of(2L, 3L), List.copyOf(busy.pullFrom().keySet()));
        assertEquals(List.of(1, 4), busy.pullFrom().get(3L).stream().map(MovingSlot::getSlot).toList());
        assertEquals(List.of(2), busy.handOffTo().get(2L).stream().map(MovingSlot::getSlot).toList());
    }

    @Test
    void reconfigureNeedsTheNextConfigurationAndTheCurrentOneBesideIt() {
        Layout one = MigrationCommands.config(1, SlotSet.all(), 1, 2);
        Layout two = MigrationCommands.config(2, SlotSet.of(List.of(new SlotRange(0, 9))), 2, 1);
        SlotOwnershipState atZero = SlotOwnershipState.newBuilder().setConfigNumber(0).build();
        SlotOwnershipState atOne = SlotOwnershipState.newBuilder().setConfigNumber(1).build();

        assertEquals(Optional.of(Reconfigure.newBuilder().setConfig(one).build()), MigrationPlanner.reconfigure(atZero, one, null));
        assertEquals(Optional.empty(), MigrationPlanner.reconfigure(atZero, two, one), "not the next one");
        assertEquals(Optional.empty(), MigrationPlanner.reconfigure(atOne, two, null), "no previous");
        assertEquals(Optional.empty(), MigrationPlanner.reconfigure(atOne, two, two), "a wrong previous");
        assertEquals(Optional.of(Reconfigure.newBuilder().setConfig(two).setPrevious(one).build()),
                MigrationPlanner.reconfigure(atOne, two, one));
        SlotOwnershipState stillMoving = atOne.toBuilder().addMoving(moving(1, SlotPhase.PULLING, 3, "")).build();
        assertEquals(Optional.empty(), MigrationPlanner.reconfigure(stillMoving, two, one), "slots still move");
    }

    @Test
    void anExportNamesAtMostSlotsPerRequestCursorsAndItsChunksInstallAfterThoseCursors() {
        SortedMap<Integer, ByteString> cursors = new TreeMap<>();
        for (int slot = 0; slot < MigrationPlanner.SLOTS_PER_REQUEST + 5; slot++) {
            cursors.put(slot, slot == 3 ? KvFixture.bytes("after") : ByteString.EMPTY);
        }
        ExportSlots export = MigrationPlanner.export(7, cursors);
        assertEquals(MigrationPlanner.SLOTS_PER_REQUEST, export.getSlotsCount());
        assertEquals(7, export.getConfigNumber());
        assertEquals(MigrationPlanner.CHUNK_BYTES, export.getMaxBytes());

        KeyValue entry = KeyValue.newBuilder().setKey(KvFixture.bytes("z")).setValue(KvFixture.bytes("v")).build();
        ExportSlotsResult result = ExportSlotsResult.newBuilder()
                .addSlots(ExportSlotResult.newBuilder().setSlot(2).setLast(true))
                .addSlots(ExportSlotResult.newBuilder().setSlot(3).addEntries(entry)).build();
        InstallSlotChunks install = MigrationPlanner.install(export, result);
        assertEquals(2, install.getChunksCount());
        assertEquals(ByteString.EMPTY, install.getChunks(0).getAfterKey());
        assertEquals(KvFixture.bytes("after"), install.getChunks(1).getAfterKey());
        assertEquals(7, install.getChunks(1).getConfigNumber());

        MigrationPlanner.advance(cursors, install);
        assertFalse(cursors.containsKey(2), "a completed slot leaves the cursors");
        assertEquals(KvFixture.bytes("z"), cursors.get(3), "the pull resumes after the chunk's last key");

        ExportSlotsResult unasked = ExportSlotsResult.newBuilder()
                .addSlots(ExportSlotResult.newBuilder().setSlot(MigrationPlanner.SLOTS_PER_REQUEST + 1)).build();
        assertThrows(IllegalArgumentException.class, () -> MigrationPlanner.install(export, unasked));
        assertThrows(IllegalArgumentException.class, () -> MigrationPlanner.export(7, new TreeMap<>()));
    }

    @Test
    void aHandedOffSlotIsDeletedOnlyOnceTheNewOwnerIsPastItsPull() {
        List<MovingSlot> handingOff = List.of(moving(5, SlotPhase.HANDING_OFF, 2, ""), moving(6, SlotPhase.HANDING_OFF, 2, ""));
        SlotOwnershipState behind = SlotOwnershipState.newBuilder().setConfigNumber(2).build();
        SlotOwnershipState pullingSix = SlotOwnershipState.newBuilder().setConfigNumber(3)
                .addMoving(moving(6, SlotPhase.PULLING, 1, "")).build();
        SlotOwnershipState ahead = SlotOwnershipState.newBuilder().setConfigNumber(4)
                .addMoving(moving(6, SlotPhase.PULLING, 1, "")).build();

        assertEquals(List.of(), MigrationPlanner.installedByNewOwner(3, handingOff, behind));
        assertEquals(List.of(5), MigrationPlanner.installedByNewOwner(3, handingOff, pullingSix));
        assertEquals(List.of(5, 6), MigrationPlanner.installedByNewOwner(3, handingOff, ahead));

        assertEquals(Optional.empty(), MigrationPlanner.delete(3, List.of()));
        DeleteSlots delete = MigrationPlanner.delete(3, List.of(5, 6)).orElseThrow();
        assertEquals(List.of(5, 6), delete.getSlotsList());
        assertEquals(MigrationPlanner.DELETE_KEYS_PER_STEP, delete.getMaxKeys());
        SlotOwnershipState sixLeft = SlotOwnershipState.newBuilder().setConfigNumber(3)
                .addMoving(moving(6, SlotPhase.HANDING_OFF, 2, "")).build();
        assertEquals(List.of(6), MigrationPlanner.stillToDelete(List.of(5, 6), sixLeft));
    }

    /**
     * Group 1 owns every slot and holds keys; configuration 2 gives slots 0..8191 to group 2. Two
     * real state machines, driven by nothing but the planner's decisions, end with group 2 serving
     * the slots with their keys, and group 1 serving the rest with the moved keys deleted.
     */
    @Test
    void thePlannersDecisionsAloneCarryAMoveBetweenTwoStateMachinesToTheEnd() {
        KvFixture one = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 1, SlotSet.all());
        KvFixture two = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 2, SlotSet.empty());
        SlotSet moved = SlotSet.of(List.of(new SlotRange(0, Slots.SLOT_COUNT / 2 - 1)));
        Map<Long, Layout> configs = Map.of(1L, MigrationCommands.config(1, SlotSet.all(), 1, 2),
                2L, MigrationCommands.config(2, moved, 2, 1));
        KvFixture.Client writer = one.client();
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < 300; i++) {
            String key = "key-" + i;
            keys.add(key);
            assertEquals(Status.OK, writer.put(key, "v" + i).getStatus());
        }
        Map<Long, KvFixture> groups = Map.of(1L, one, 2L, two);
        int rounds = 0;
        while (!settled(one, 2) || !settled(two, 2)) {
            if (++rounds > 200) {
                throw new AssertionError("no end after 200 rounds: group 1 " + progress(one) + ", group 2 " + progress(two));
            }
            for (long group : List.of(1L, 2L)) {
                round(groups.get(group), groups, configs);
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            boolean movedKey = moved.contains(Slots.slotOf(KvFixture.bytes(key)));
            assertEquals("v" + i, (movedKey ? two : one).value(key), key);
            assertEquals(Status.WRONG_GROUP, (movedKey ? one : two).get(key).getStatus(), key);
        }
        assertEquals(moved, two.machine.ownedSlots());
        assertTrue(one.userContents().keySet().stream().noneMatch(key -> moved.contains(Slots.slotOf(key))),
                "group 1 deleted the moved slots' keys");
    }

    private static boolean settled(KvFixture fixture, long config) {
        SlotOwnershipState state = progress(fixture);
        return state.getConfigNumber() == config && state.getMovingCount() == 0;
    }

    /** One round of a driver that knows configurations 1 and 2 only. */
    private static void round(KvFixture group, Map<Long, KvFixture> groups, Map<Long, Layout> configs) {
        SlotOwnershipState ours = progress(group);
        MigrationPlanner.Work work = MigrationPlanner.work(ours);
        if (work.reconfigures()) {
            Optional<Reconfigure> reconfigure = MigrationPlanner.reconfigure(ours, configs.get(work.reconfigureTo()),
                    configs.get(ours.getConfigNumber()));
            reconfigure.ifPresent(r -> propose(group, MigrationWrite.newBuilder().setReconfigure(r).build()));
            return;
        }
        for (Map.Entry<Long, List<MovingSlot>> from : work.pullFrom().entrySet()) {
            ExportSlots export = MigrationPlanner.export(work.configNumber(), MigrationPlanner.cursors(from.getValue()));
            KvReply exported = groups.get(from.getKey()).machine.read(KvRequest.newBuilder()
                    .setMigrationRead(MigrationRead.newBuilder().setExport(export)).build());
            if (exported.getStatus() == Status.OK) {
                propose(group, MigrationWrite.newBuilder()
                        .setInstall(MigrationPlanner.install(export, exported.getMigration().getExport())).build());
            }
        }
        for (Map.Entry<Long, List<MovingSlot>> to : work.handOffTo().entrySet()) {
            List<Integer> installed = MigrationPlanner.installedByNewOwner(work.configNumber(), to.getValue(),
                    progress(groups.get(to.getKey())));
            MigrationPlanner.delete(work.configNumber(), installed)
                    .ifPresent(delete -> propose(group, MigrationWrite.newBuilder().setDeleteSlots(delete).build()));
        }
    }

    private static void propose(KvFixture group, MigrationWrite write) {
        KvReply reply = group.apply(Command.newBuilder().setTimestampMillis(group.nowMillis).setMigrationWrite(write).build());
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
    }

    private static SlotOwnershipState progress(KvFixture fixture) {
        KvReply reply = fixture.machine.read(KvRequest.newBuilder()
                .setMigrationRead(MigrationRead.newBuilder().setProgress(true)).build());
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
        return reply.getMigration().getProgress();
    }
}
