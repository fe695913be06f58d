package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.kv.proto.DeleteSlot;
import io.loomkv.core.kv.proto.ExportSlot;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.ExportedSession;
import io.loomkv.core.kv.proto.InstallSlotChunk;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationResult;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.Slots;
import java.util.Optional;

/**
 * The slot-migration commands of a data group's state machine (docs/shard-controller.md, "Slot
 * migration"): {@code Reconfigure} moves the group to the next configuration, {@code InstallSlotChunk}
 * writes a pulled chunk of a gained slot, {@code DeleteSlot} removes a handed-off slot's keys once
 * the new owner has them; and the two reads the other side makes, {@code ExportSlot} (a chunk of a
 * frozen slot) and {@code progress} (the configuration number and the moving slots).
 *
 * <p>Every write checks the state it expects (the configuration number, the slot's phase, the key
 * a chunk resumes after) and otherwise changes nothing, so a command proposed twice, or late after
 * a leader change, is harmless. All of it runs on the apply thread, as part of the machine.
 */
final class SlotMigration {
    /** A chunk's byte budget when the reader asks for none or for more. */
    static final int MAX_CHUNK_BYTES = 1 << 20;
    /** Keys one DeleteSlot removes at most, so one log entry stays small. */
    static final int MAX_DELETE_KEYS = 10_000;
    private static final int EXPORT_PAGE_KEYS = 256;

    private final KvStateMachine machine;

    SlotMigration(KvStateMachine machine) {
        this.machine = machine;
    }

    KvReply write(MigrationWrite write) {
        if (machine.groupId() == GroupIds.CONTROLLER_GROUP_ID) {
            return KvReplies.invalidArgument("group 0, the shard controller, owns no slots to migrate");
        }
        return switch (write.getOpCase()) {
            case RECONFIGURE -> reconfigure(write.getReconfigure());
            case INSTALL -> install(write.getInstall());
            case DELETE_SLOT -> deleteSlot(write.getDeleteSlot());
            case OP_NOT_SET -> KvReplies.invalidArgument("migration write has no operation");
        };
    }

    KvReply read(MigrationRead read) {
        if (machine.groupId() == GroupIds.CONTROLLER_GROUP_ID) {
            return KvReplies.invalidArgument("group 0, the shard controller, owns no slots to migrate");
        }
        return switch (read.getOpCase()) {
            case EXPORT -> export(read.getExport());
            case PROGRESS -> progress();
            case OP_NOT_SET -> KvReplies.invalidArgument("migration read has no operation");
        };
    }

    private KvReply reconfigure(Reconfigure reconfigure) {
        if (!reconfigure.hasConfig()) {
            return KvReplies.invalidArgument("reconfigure carries no configuration");
        }
        Optional<String> refused = machine.ownership().reconfigure(machine.groupId(), reconfigure.getConfig(),
                reconfigure.hasPrevious() ? reconfigure.getPrevious() : null);
        return refused.isPresent() ? KvReplies.invalidArgument(refused.get()) : progress();
    }

    private KvReply install(InstallSlotChunk chunk) {
        int slot = chunk.getSlot();
        if (slot >= Slots.SLOT_COUNT) {
            return KvReplies.invalidArgument("slot " + slot + " is outside 0.." + (Slots.SLOT_COUNT - 1));
        }
        SlotOwnership ownership = machine.ownership();
        Optional<String> refused = ownership.checkChunk(chunk.getConfigNumber(), slot, chunk.getAfterKey());
        if (refused.isEmpty()) {
            refused = checkEntries(chunk);
        }
        if (refused.isPresent()) {
            return KvReplies.invalidArgument(refused.get());
        }
        ByteString lastKey = chunk.getAfterKey();
        for (KeyValue entry : chunk.getEntriesList()) {
            machine.store(SlotKeys.inSlot(slot, entry.getKey()), entry.getValue().toByteArray());
            lastKey = entry.getKey();
        }
        if (chunk.getLast()) {
            for (ExportedSession session : chunk.getSessionsList()) {
                machine.sessions().importSession(session, machine.clockMillis());
            }
        }
        ownership.chunkInstalled(slot, lastKey, chunk.getLast());
        return progress();
    }

    /** Keys in the chunk's slot, ascending, after the resume key, within the key and value limits. */
    private Optional<String> checkEntries(InstallSlotChunk chunk) {
        ByteString previous = chunk.getAfterKey();
        boolean first = previous.isEmpty();
        KvLimits limits = machine.limits();
        for (int i = 0; i < chunk.getEntriesCount(); i++) {
            KeyValue entry = chunk.getEntries(i);
            if (entry.getKey().isEmpty() || entry.getKey().size() > limits.maxKeyBytes()
                    || entry.getValue().size() > limits.maxValueBytes()) {
                return Optional.of("chunk entry " + i + " has an empty or oversized key or value");
            }
            if (Slots.slotOf(entry.getKey()) != chunk.getSlot()) {
                return Optional.of("chunk entry " + i + " is in slot " + Slots.slotOf(entry.getKey()) + ", not "
                        + chunk.getSlot());
            }
            if (!first && KvKeys.compare(entry.getKey(), previous) <= 0) {
                return Optional.of("chunk entry " + i + " is not after the key before it");
            }
            previous = entry.getKey();
            first = false;
        }
        if (!chunk.getLast() && chunk.getSessionsCount() > 0) {
            return Optional.of("sessions come with the last chunk of a slot only");
        }
        return Optional.empty();
    }

    private KvReply deleteSlot(DeleteSlot delete) {
        int slot = delete.getSlot();
        SlotOwnership ownership = machine.ownership();
        if (slot >= Slots.SLOT_COUNT || !ownership.isHandingOff(delete.getConfigNumber(), slot)) {
            return KvReplies.invalidArgument("slot " + slot + " is not handed off at configuration "
                    + delete.getConfigNumber() + " (the group is at " + ownership.configNumber() + ")");
        }
        int maxKeys = delete.getMaxKeys() == 0 ? MAX_DELETE_KEYS : Math.min(delete.getMaxKeys(), MAX_DELETE_KEYS);
        ScanPage page = machine.engine().scan(ScanRequest.range(SlotKeys.slotStart(slot), SlotKeys.slotEnd(slot), maxKeys));
        for (io.loomkv.core.engine.KeyValue entry : page.entries()) {
            machine.remove(entry.key());
        }
        if (page.entries().size() < maxKeys) {
            ownership.handOffDone(slot);
        }
        return progress();
    }

    /** A chunk of a frozen slot for its new owner; the last one carries the slot's sessions. */
    private KvReply export(ExportSlot export) {
        int slot = export.getSlot();
        SlotOwnership ownership = machine.ownership();
        if (slot >= Slots.SLOT_COUNT) {
            return KvReplies.invalidArgument("slot " + slot + " is outside 0.." + (Slots.SLOT_COUNT - 1));
        }
        if (!ownership.isHandingOff(export.getConfigNumber(), slot)) {
            Status status = ownership.configNumber() < export.getConfigNumber() ? Status.UNAVAILABLE : Status.INVALID_ARGUMENT;
            return KvReplies.error(status, "group " + machine.groupId() + " does not hand off slot " + slot
                    + " at configuration " + export.getConfigNumber() + " (it is at " + ownership.configNumber() + ")");
        }
        int budget = export.getMaxBytes() == 0 ? MAX_CHUNK_BYTES : Math.min(export.getMaxBytes(), MAX_CHUNK_BYTES);
        byte[] start = export.getAfterKey().isEmpty() ? SlotKeys.slotStart(slot)
                : SlotKeys.inSlot(slot, KvKeys.successor(export.getAfterKey()));
        ExportSlotResult.Builder result = ExportSlotResult.newBuilder();
        long bytes = 0;
        boolean more = true;
        ScanRequest request = ScanRequest.range(start, SlotKeys.slotEnd(slot), EXPORT_PAGE_KEYS);
        while (more && bytes < budget) {
            ScanPage page = machine.engine().scan(request);
            for (io.loomkv.core.engine.KeyValue entry : page.entries()) {
                result.addEntries(KeyValue.newBuilder().setKey(SlotKeys.userKey(entry.key()))
                        .setValue(ByteString.copyFrom(entry.value())));
                bytes += entry.key().length + entry.value().length;
                if (bytes >= budget) {
                    break;
                }
            }
            request = request.next(page);
            more = request != null;
        }
        if (bytes >= budget) {
            // Cut at the budget: whether keys follow is told by the next export.
            more = true;
        }
        if (!more) {
            result.setLast(true).addAllSessions(machine.sessions().exportSlot(slot));
        }
        return KvReply.newBuilder().setStatus(Status.OK).setGroupId(machine.groupId())
                .setMigration(MigrationResult.newBuilder().setConfigNumber(ownership.configNumber()).setExport(result))
                .build();
    }

    private KvReply progress() {
        SlotOwnership ownership = machine.ownership();
        return KvReply.newBuilder().setStatus(Status.OK).setGroupId(machine.groupId())
                .setMigration(MigrationResult.newBuilder().setConfigNumber(ownership.configNumber())
                        .setProgress(ownership.toProto()))
                .build();
    }
}
