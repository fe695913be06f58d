package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.ExportSlotsResult;
import io.loomkv.core.kv.proto.InstallSlotChunk;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.SlotCursor;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.SlotPhase;
import io.loomkv.core.shard.proto.Layout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The decisions of a data group's migration driver (docs/shard-controller.md, "Slot migration"),
 * without its I/O: from what the group's leader knows (its own published ownership, the
 * controller's configurations, the ownership and export replies of the other groups it asked),
 * which command to propose or which read to send next. The server's store-side driver
 * ({@code net/.../MigrationDriver}) and the simulator's driver both gather the inputs, call these
 * functions, and send what they return; so the simulator runs the server's decisions under seeds.
 *
 * <p>Every command returned names the state it expects (configuration number, resume key), and the
 * state machine ({@link SlotMigration}) refuses one made from stale knowledge; so a decision taken
 * on an old reply is at worst refused, never harmful. Pure and stateless; the per-source cursors
 * of a pull in progress are the caller's {@link SortedMap} (slot to resume key).
 */
public final class MigrationPlanner {
    /** A pulled chunk's byte budget: one chunk on each side is all a move holds in memory. */
    public static final int CHUNK_BYTES = 512 << 10;
    /** Keys one DeleteSlots asks to remove, so one entry's apply stays short. */
    public static final int DELETE_KEYS_PER_STEP = 4_096;
    /** Slots named in one export or one entry (the state machine takes up to 4,096). */
    public static final int SLOTS_PER_REQUEST = 2_048;

    private MigrationPlanner() {
    }

    /**
     * What a group's leader has to do next, from its published ownership: move to configuration
     * {@link #reconfigureTo} when nothing moves (0 otherwise), else pull the slots in
     * {@link #pullFrom} (by source group) and delete the slots in {@link #handOffTo} (by new owner)
     * once the new owner has them.
     */
    public record Work(long configNumber, long reconfigureTo, SortedMap<Long, List<MovingSlot>> pullFrom,
            SortedMap<Long, List<MovingSlot>> handOffTo) {
        public boolean reconfigures() {
            return reconfigureTo > 0;
        }
    }

    /** The work the group's ownership {@code ours} calls for. */
    public static Work work(SlotOwnershipState ours) {
        long config = ours.getConfigNumber();
        if (ours.getMovingCount() == 0) {
            return new Work(config, config + 1, Collections.emptySortedMap(), Collections.emptySortedMap());
        }
        SortedMap<Long, List<MovingSlot>> pulling = new TreeMap<>();
        SortedMap<Long, List<MovingSlot>> handingOff = new TreeMap<>();
        for (MovingSlot slot : ours.getMovingList()) {
            if (slot.getPhase() != SlotPhase.PULLING && slot.getPhase() != SlotPhase.HANDING_OFF) {
                throw new IllegalArgumentException("moving slot " + slot.getSlot() + " has phase " + slot.getPhase());
            }
            (slot.getPhase() == SlotPhase.PULLING ? pulling : handingOff)
                    .computeIfAbsent(slot.getOtherGroup(), g -> new ArrayList<>()).add(slot);
        }
        return new Work(config, 0, pulling, handingOff);
    }

    /**
     * The Reconfigure that moves a group at {@code ours} to {@code next}, or empty when the
     * configurations at hand are not the ones it needs: {@code next} must be the following one, and
     * {@code previous} (ignored and may be null when {@code next} is configuration 1) the group's current one.
     */
    public static Optional<Reconfigure> reconfigure(SlotOwnershipState ours, Layout next, Layout previous) {
        long config = ours.getConfigNumber();
        if (ours.getMovingCount() > 0 || next == null || next.getVersion() != config + 1) {
            return Optional.empty();
        }
        Reconfigure.Builder reconfigure = Reconfigure.newBuilder().setConfig(next);
        if (config > 0) {
            if (previous == null || previous.getVersion() != config) {
                return Optional.empty();
            }
            reconfigure.setPrevious(previous);
        }
        return Optional.of(reconfigure.build());
    }

    /** The cursors of a pull from one source: slot to the key it resumes after (empty: from the start). */
    public static SortedMap<Integer, ByteString> cursors(List<MovingSlot> pulling) {
        SortedMap<Integer, ByteString> cursors = new TreeMap<>();
        for (MovingSlot slot : pulling) {
            if (slot.getPhase() != SlotPhase.PULLING) {
                throw new IllegalArgumentException("slot " + slot.getSlot() + " is " + slot.getPhase() + ", not PULLING");
            }
            cursors.put(slot.getSlot(), slot.getResumeKey());
        }
        return cursors;
    }

    /** The export to ask of the source for the first {@link #SLOTS_PER_REQUEST} cursors, at the group's configuration. */
    public static ExportSlots export(long config, SortedMap<Integer, ByteString> cursors) {
        if (cursors.isEmpty()) {
            throw new IllegalArgumentException("an export needs at least one slot cursor");
        }
        ExportSlots.Builder export = ExportSlots.newBuilder().setConfigNumber(config).setMaxBytes(CHUNK_BYTES);
        for (Map.Entry<Integer, ByteString> cursor : cursors.entrySet()) {
            if (export.getSlotsCount() == SLOTS_PER_REQUEST) {
                break;
            }
            export.addSlots(SlotCursor.newBuilder().setSlot(cursor.getKey()).setAfterKey(cursor.getValue()));
        }
        return export.build();
    }

    /**
     * The chunks to propose from the source's answer to {@code export}: each resumes after the
     * cursor the export asked with, so the machine installs it only where the pull still stands.
     * Empty (no chunk) when the answer holds none. A slot the export did not ask for is an error.
     */
    public static InstallSlotChunks install(ExportSlots export, ExportSlotsResult result) {
        Map<Integer, ByteString> asked = new HashMap<>();
        for (SlotCursor cursor : export.getSlotsList()) {
            asked.put(cursor.getSlot(), cursor.getAfterKey());
        }
        InstallSlotChunks.Builder install = InstallSlotChunks.newBuilder();
        for (ExportSlotResult chunk : result.getSlotsList()) {
            ByteString afterKey = asked.get(chunk.getSlot());
            if (afterKey == null) {
                throw new IllegalArgumentException("the export answered slot " + chunk.getSlot() + ", which it was not asked for");
            }
            install.addChunks(InstallSlotChunk.newBuilder().setConfigNumber(export.getConfigNumber())
                    .setSlot(chunk.getSlot()).setAfterKey(afterKey).addAllEntries(chunk.getEntriesList())
                    .setLast(chunk.getLast()).addAllSessions(chunk.getSessionsList()));
        }
        return install.build();
    }

    /** After {@code installed} was accepted: a completed slot leaves the cursors, the others resume after their last key. */
    public static void advance(SortedMap<Integer, ByteString> cursors, InstallSlotChunks installed) {
        for (InstallSlotChunk chunk : installed.getChunksList()) {
            if (chunk.getLast()) {
                cursors.remove(chunk.getSlot());
            } else if (chunk.getEntriesCount() > 0) {
                cursors.put(chunk.getSlot(), chunk.getEntries(chunk.getEntriesCount() - 1).getKey());
            }
        }
    }

    /**
     * Which of the slots {@code handingOff} (handed off by a group at configuration {@code config})
     * the new owner, whose ownership a replica of it showed as {@code theirs}, has installed: it is
     * past the configuration (so no longer pulling anything of it), or at it and not pulling the slot.
     */
    public static List<Integer> installedByNewOwner(long config, List<MovingSlot> handingOff, SlotOwnershipState theirs) {
        Set<Integer> theyPull = new HashSet<>();
        for (MovingSlot moving : theirs.getMovingList()) {
            if (moving.getPhase() == SlotPhase.PULLING) {
                theyPull.add(moving.getSlot());
            }
        }
        List<Integer> done = new ArrayList<>();
        for (MovingSlot slot : handingOff) {
            if (slot.getPhase() != SlotPhase.HANDING_OFF) {
                throw new IllegalArgumentException("slot " + slot.getSlot() + " is " + slot.getPhase() + ", not HANDING_OFF");
            }
            boolean installed = theirs.getConfigNumber() > config
                    || theirs.getConfigNumber() == config && !theyPull.contains(slot.getSlot());
            if (installed) {
                done.add(slot.getSlot());
            }
        }
        return done;
    }

    /** The DeleteSlots to propose for the first {@link #SLOTS_PER_REQUEST} of {@code installed}, or empty when none. */
    public static Optional<DeleteSlots> delete(long config, List<Integer> installed) {
        if (installed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(DeleteSlots.newBuilder().setConfigNumber(config).setMaxKeys(DELETE_KEYS_PER_STEP)
                .addAllSlots(installed.subList(0, Math.min(installed.size(), SLOTS_PER_REQUEST))).build());
    }

    /** After a DeleteSlots: the slots of {@code installed} that {@code ours} (its reply) still shows moving. */
    public static List<Integer> stillToDelete(List<Integer> installed, SlotOwnershipState ours) {
        Set<Integer> stillMoving = new HashSet<>();
        for (MovingSlot moving : ours.getMovingList()) {
            stillMoving.add(moving.getSlot());
        }
        List<Integer> remaining = new ArrayList<>(installed);
        remaining.removeIf(slot -> !stillMoving.contains(slot));
        return remaining;
    }
}
