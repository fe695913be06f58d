package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.ExportSlotsResult;
import io.loomkv.core.kv.proto.ExportedSession;
import io.loomkv.core.kv.proto.InstallSlotChunk;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationResult;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.SlotCursor;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.Slots;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The slot-migration commands of a data group's state machine (docs/shard-controller.md, "Slot
 * migration"): {@code Reconfigure} moves the group to the next configuration, {@code InstallSlotChunks}
 * writes pulled chunks of gained slots, {@code DeleteSlots} removes handed-off slots' keys once the
 * new owners have them; and the two reads the other side makes, {@code ExportSlots} (chunks of
 * frozen slots) and {@code progress} (the configuration number and the moving slots). Many slots
 * go in one request and one log entry: a join moves thousands of mostly small slots.
 *
 * <p>Every write checks the state it expects (the configuration number, the slot's phase, the key
 * a chunk resumes after) and otherwise changes nothing, so a command proposed twice, or late after
 * a leader change, is harmless. All of it runs on the apply thread, as part of the machine.
 */
final class SlotMigration {
    /** A chunk's byte budget when the reader asks for none or for more. */
    static final int MAX_CHUNK_BYTES = 1 << 20;
    /** Keys one DeleteSlots removes at most, so one entry's apply stays short. */
    static final int MAX_DELETE_KEYS = 10_000;
    /** Slots one export or install names at most. */
    static final int MAX_SLOTS_PER_REQUEST = 4_096;
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
            case DELETE_SLOTS -> deleteSlots(write.getDeleteSlots());
            case EXPIRE_KEYS -> throw new IllegalStateException("expire_keys is active expiry's, not a migration write");
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
            case FIND_EXPIRED -> throw new IllegalStateException("find_expired is active expiry's, not a migration read");
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

    /**
     * Installs each chunk that resumes where its slot's pull stands; the others (duplicates, late
     * copies, bad ones) are skipped, changing nothing. INVALID_ARGUMENT naming the first skipped
     * one when none was installed.
     */
    private KvReply install(InstallSlotChunks chunks) {
        if (chunks.getChunksCount() > MAX_SLOTS_PER_REQUEST) {
            return KvReplies.invalidArgument(chunks.getChunksCount() + " chunks in one entry, over " + MAX_SLOTS_PER_REQUEST);
        }
        String firstRefusal = null;
        int installed = 0;
        for (InstallSlotChunk chunk : chunks.getChunksList()) {
            Optional<String> refused = installOne(chunk);
            if (refused.isPresent() && firstRefusal == null) {
                firstRefusal = refused.get();
            } else if (refused.isEmpty()) {
                installed++;
            }
        }
        return installed == 0 && firstRefusal != null ? KvReplies.invalidArgument(firstRefusal) : progress();
    }

    private Optional<String> installOne(InstallSlotChunk chunk) {
        int slot = chunk.getSlot();
        if (slot >= Slots.SLOT_COUNT) {
            return Optional.of("slot " + slot + " is outside 0.." + (Slots.SLOT_COUNT - 1));
        }
        SlotOwnership ownership = machine.ownership();
        Optional<String> refused = ownership.checkChunk(chunk.getConfigNumber(), slot, chunk.getAfterKey());
        if (refused.isEmpty()) {
            refused = checkEntries(chunk);
        }
        if (refused.isPresent()) {
            return refused;
        }
        ByteString lastKey = chunk.getAfterKey();
        for (KeyValue entry : chunk.getEntriesList()) {
            byte[] key = SlotKeys.inSlot(slot, entry.getKey());
            machine.store(key, entry.getValue().toByteArray());
            // The deadline travels as it was set: a move never resets a key's time to live.
            machine.installDeadline(key, entry.getExpiresAtMillis());
            lastKey = entry.getKey();
        }
        if (chunk.getLast()) {
            for (ExportedSession session : chunk.getSessionsList()) {
                machine.sessions().importSession(session, machine.clockMillis());
            }
        }
        // A copy: the chunk's keys share the log entry's bytes (KvStateMachine.applyEntry parses
        // with aliasing), and the resume key is kept until the move ends.
        ownership.chunkInstalled(slot, ByteString.copyFrom(lastKey.asReadOnlyByteBuffer()), chunk.getLast());
        return Optional.empty();
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
            if (entry.getExpiresAtMillis() < 0 || entry.getExpiresAtMillis() > Deadlines.MAX_DEADLINE_MILLIS) {
                return Optional.of("chunk entry " + i + " has deadline " + Long.toUnsignedString(entry.getExpiresAtMillis())
                        + ", over " + Deadlines.MAX_DEADLINE_MILLIS);
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

    /**
     * Deletes the keys of the named handed-off slots, slot after slot, up to the key budget; a slot
     * whose last key is gone is done. Slots not handed off at the configuration are skipped; when
     * none is, INVALID_ARGUMENT and nothing changes.
     */
    private KvReply deleteSlots(DeleteSlots delete) {
        SlotOwnership ownership = machine.ownership();
        if (delete.getSlotsCount() > MAX_SLOTS_PER_REQUEST) {
            return KvReplies.invalidArgument(delete.getSlotsCount() + " slots in one entry, over " + MAX_SLOTS_PER_REQUEST);
        }
        int budget = delete.getMaxKeys() == 0 ? MAX_DELETE_KEYS : Math.min(delete.getMaxKeys(), MAX_DELETE_KEYS);
        boolean any = false;
        for (int slot : delete.getSlotsList()) {
            if (slot >= Slots.SLOT_COUNT || !ownership.isHandingOff(delete.getConfigNumber(), slot)) {
                continue;
            }
            any = true;
            if (budget == 0) {
                break;
            }
            budget -= removeRange(SlotKeys.slotStart(slot), SlotKeys.slotEnd(slot), budget);
            if (budget > 0 && machine.deadlinesMayExist()) {
                budget -= removeRange(DeadlineKeys.slotStart(slot), DeadlineKeys.slotEnd(slot), budget);
            }
            if (budget > 0) {
                // The pages came back short of the budget: those were the slot's last keys.
                ownership.handOffDone(slot);
            }
        }
        if (!any) {
            return KvReplies.invalidArgument("none of the " + delete.getSlotsCount() + " slots is handed off at configuration "
                    + delete.getConfigNumber() + " (the group is at " + ownership.configNumber() + ")");
        }
        return progress();
    }

    /** Removes up to {@code budget} keys of {@code [start, end)}; returns how many. */
    private int removeRange(byte[] start, byte[] end, int budget) {
        ScanPage page = machine.engine().scan(ScanRequest.range(start, end, budget));
        for (io.loomkv.core.engine.KeyValue entry : page.entries()) {
            machine.remove(entry.key());
        }
        return page.entries().size();
    }

    /** Chunks of frozen slots for their new owner, slot after slot; a slot's last chunk carries its sessions. */
    private KvReply export(ExportSlots export) {
        SlotOwnership ownership = machine.ownership();
        if (export.getSlotsCount() > MAX_SLOTS_PER_REQUEST) {
            return KvReplies.invalidArgument(export.getSlotsCount() + " slots in one export, over " + MAX_SLOTS_PER_REQUEST);
        }
        for (SlotCursor cursor : export.getSlotsList()) {
            int slot = cursor.getSlot();
            if (slot >= Slots.SLOT_COUNT) {
                return KvReplies.invalidArgument("slot " + slot + " is outside 0.." + (Slots.SLOT_COUNT - 1));
            }
            if (!ownership.isHandingOff(export.getConfigNumber(), slot)) {
                Status status = ownership.configNumber() < export.getConfigNumber() ? Status.UNAVAILABLE : Status.INVALID_ARGUMENT;
                return KvReplies.error(status, "group " + machine.groupId() + " does not hand off slot " + slot
                        + " at configuration " + export.getConfigNumber() + " (it is at " + ownership.configNumber() + ")");
            }
        }
        long budget = export.getMaxBytes() == 0 ? MAX_CHUNK_BYTES : Math.min(export.getMaxBytes(), MAX_CHUNK_BYTES);
        List<ExportSlotResult.Builder> chunks = new ArrayList<>();
        java.util.Set<Integer> complete = new java.util.HashSet<>();
        long bytes = 0;
        for (SlotCursor cursor : export.getSlotsList()) {
            if (bytes >= budget) {
                break;
            }
            ExportSlotResult.Builder chunk = ExportSlotResult.newBuilder().setSlot(cursor.getSlot());
            bytes += exportSlot(cursor, budget - bytes, chunk);
            chunks.add(chunk);
            if (chunk.getLast()) {
                complete.add(cursor.getSlot());
            }
        }
        // One pass over the sessions for all the slots completed here.
        java.util.Map<Integer, List<ExportedSession>> sessions = machine.sessions().exportSlots(complete);
        ExportSlotsResult.Builder result = ExportSlotsResult.newBuilder();
        for (ExportSlotResult.Builder chunk : chunks) {
            result.addSlots(chunk.addAllSessions(sessions.getOrDefault(chunk.getSlot(), List.of())));
        }
        return KvReply.newBuilder().setStatus(Status.OK).setGroupId(machine.groupId())
                .setMigration(MigrationResult.newBuilder().setConfigNumber(ownership.configNumber()).setExport(result))
                .build();
    }

    /** Fills {@code chunk} with the slot's keys after the cursor, up to {@code budget} bytes; returns the bytes taken. */
    private long exportSlot(SlotCursor cursor, long budget, ExportSlotResult.Builder chunk) {
        int slot = cursor.getSlot();
        byte[] start = cursor.getAfterKey().isEmpty() ? SlotKeys.slotStart(slot)
                : SlotKeys.inSlot(slot, KvKeys.successor(cursor.getAfterKey()));
        long bytes = 0;
        boolean cut = false;
        ScanRequest request = ScanRequest.range(start, SlotKeys.slotEnd(slot), EXPORT_PAGE_KEYS);
        while (request != null && !cut) {
            ScanPage page = machine.engine().scan(request);
            boolean withDeadlines = machine.deadlinesMayExist();
            for (io.loomkv.core.engine.KeyValue entry : page.entries()) {
                KeyValue.Builder exported = KeyValue.newBuilder().setKey(SlotKeys.userKey(entry.key()))
                        .setValue(ByteString.copyFrom(entry.value()));
                if (withDeadlines) {
                    exported.setExpiresAtMillis(DeadlineKeys.decode(machine.engine().get(DeadlineKeys.of(entry.key()))));
                }
                chunk.addEntries(exported);
                bytes += entry.key().length + entry.value().length;
                if (bytes >= budget) {
                    // Cut at the budget: whether keys follow is told by the next export.
                    cut = true;
                    break;
                }
            }
            request = cut ? null : request.next(page);
        }
        if (!cut) {
            chunk.setLast(true);
        }
        return bytes;
    }

    private KvReply progress() {
        SlotOwnership ownership = machine.ownership();
        return KvReply.newBuilder().setStatus(Status.OK).setGroupId(machine.groupId())
                .setMigration(MigrationResult.newBuilder().setConfigNumber(ownership.configNumber())
                        .setProgress(ownership.toProto()))
                .build();
    }
}
