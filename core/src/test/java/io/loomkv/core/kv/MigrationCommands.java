package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.InstallSlotChunk;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.SlotCursor;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.proto.GroupReplicas;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.core.shard.proto.SlotRangeAssignment;
import java.util.ArrayList;
import java.util.List;

/** Builds the slot-migration commands and reads the stores send, for state-machine tests. */
final class MigrationCommands {

    private MigrationCommands() {}

    /**
     * Configuration {@code number}: {@code slots} belong to {@code group}, every other slot to
     * {@code otherGroup}; each group hosted on store 1.
     */
    static Layout config(long number, SlotSet slots, long group, long otherGroup) {
        Layout.Builder layout = Layout.newBuilder().setVersion(number);
        List<SlotRange> mine = slots.ranges();
        int next = 0;
        List<SlotRangeAssignment> ranges = new ArrayList<>();
        for (SlotRange range : mine) {
            if (range.first() > next) {
                ranges.add(range(next, range.first() - 1, otherGroup));
            }
            ranges.add(range(range.first(), range.last(), group));
            next = range.last() + 1;
        }
        if (next < Slots.SLOT_COUNT) {
            ranges.add(range(next, Slots.SLOT_COUNT - 1, otherGroup));
        }
        layout.addAllRanges(ranges);
        layout.addGroups(GroupReplicas.newBuilder().setGroupId(group).addStoreIds(1));
        layout.addGroups(GroupReplicas.newBuilder().setGroupId(otherGroup).addStoreIds(1));
        return layout.build();
    }

    private static SlotRangeAssignment range(int first, int last, long group) {
        return SlotRangeAssignment.newBuilder().setFirst(first).setLast(last).setGroupId(group).build();
    }

    static Command reconfigure(long nowMillis, Layout config, Layout previous) {
        Reconfigure.Builder reconfigure = Reconfigure.newBuilder().setConfig(config);
        if (previous != null) {
            reconfigure.setPrevious(previous);
        }
        return write(nowMillis, MigrationWrite.newBuilder().setReconfigure(reconfigure).build());
    }

    /** The chunk a new owner installs from an export reply. */
    static Command install(long nowMillis, long config, int slot, ByteString afterKey, ExportSlotResult exported) {
        return write(nowMillis, MigrationWrite.newBuilder().setInstall(InstallSlotChunks.newBuilder()
                .addChunks(InstallSlotChunk.newBuilder()
                        .setConfigNumber(config).setSlot(slot).setAfterKey(afterKey)
                        .addAllEntries(exported.getEntriesList()).setLast(exported.getLast())
                        .addAllSessions(exported.getSessionsList()))).build());
    }

    static Command deleteSlot(long nowMillis, long config, int slot, int maxKeys) {
        return write(nowMillis, MigrationWrite.newBuilder().setDeleteSlots(DeleteSlots.newBuilder()
                .setConfigNumber(config).addSlots(slot).setMaxKeys(maxKeys)).build());
    }

    static KvRequest export(long group, long config, int slot, ByteString afterKey, int maxBytes) {
        return KvRequest.newBuilder().setGroupId(group).setMigrationRead(MigrationRead.newBuilder()
                .setExport(ExportSlots.newBuilder().setConfigNumber(config)
                        .addSlots(SlotCursor.newBuilder().setSlot(slot).setAfterKey(afterKey))
                        .setMaxBytes(maxBytes))).build();
    }

    static KvRequest progress(long group) {
        return KvRequest.newBuilder().setGroupId(group)
                .setMigrationRead(MigrationRead.newBuilder().setProgress(true)).build();
    }

    private static Command write(long nowMillis, MigrationWrite write) {
        return Command.newBuilder().setTimestampMillis(nowMillis).setMigrationWrite(write).build();
    }
}
