package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.SlotPhase;
import io.loomkv.core.kv.proto.SlotSpan;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.proto.Layout;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A data group's slots as it walks the shard controller's configurations: the number of the
 * configuration it has applied, the slots it serves, and the slots that move (docs/shard-controller.md,
 * "Slot migration"). A slot the group serves under configuration n and loses in n + 1 becomes
 * {@code HANDING_OFF} (frozen: neither read nor written here, its data kept until the new owner
 * has it); a slot gained becomes {@code PULLING} from its previous owner, or is served at once when
 * it had none (configuration 1).
 *
 * <p>One configuration at a time: {@link #reconfigure} is refused while any slot moves, so a group
 * never has slots of two migrations in flight, and every replica switches at the same log index
 * because the change is a log entry.
 *
 * <p>Changed only on the apply thread. The set of served slots is also published as an immutable
 * {@link SlotSet} ({@link #serving()}) for single-key reads on other threads.
 */
final class SlotOwnership {

    /** Volatile with {@link #movingCount}: status views read both from other threads. */
    private volatile long configNumber;
    private volatile int movingCount;
    private final BitSet serving = new BitSet(Slots.SLOT_COUNT);
    /** By slot; each value immutable (replaced on change). */
    private final TreeMap<Integer, MovingSlot> moving = new TreeMap<>();
    private volatile SlotSet servingView;
    /** Counts changes, so a persistent engine rewrites the ownership only after one. */
    private long changes;

    private SlotOwnership(long configNumber) {
        this.configNumber = configNumber;
    }

    /**
     * A group created with {@code owned}: configuration 1 (the layout the cluster was created with)
     * when it owns slots there, else configuration 0 (a group added later walks from the start).
     */
    static SlotOwnership initial(SlotSet owned) {
        SlotOwnership ownership = new SlotOwnership(owned.isEmpty() ? 0 : 1);
        for (SlotRange range : owned.ranges()) {
            ownership.serving.set(range.first(), range.last() + 1);
        }
        ownership.publish();
        return ownership;
    }

    /** Rebuilds the ownership a snapshot or a persistent engine stored; throws IllegalArgumentException when inconsistent. */
    static SlotOwnership fromProto(SlotOwnershipState state) {
        SlotOwnership ownership = new SlotOwnership(state.getConfigNumber());
        for (SlotSpan span : state.getServingList()) {
            checkSlot(span.getFirst());
            checkSlot(span.getLast());
            if (span.getFirst() > span.getLast()) {
                throw new IllegalArgumentException("served slot span " + span.getFirst() + ".." + span.getLast() + " is empty");
            }
            ownership.serving.set(span.getFirst(), span.getLast() + 1);
        }
        for (MovingSlot slot : state.getMovingList()) {
            checkSlot(slot.getSlot());
            if (slot.getPhase() != SlotPhase.PULLING && slot.getPhase() != SlotPhase.HANDING_OFF) {
                throw new IllegalArgumentException("moving slot " + slot.getSlot() + " has phase " + slot.getPhase());
            }
            if (ownership.serving.get(slot.getSlot()) || ownership.moving.put(slot.getSlot(), slot) != null) {
                throw new IllegalArgumentException("slot " + slot.getSlot() + " is listed twice");
            }
        }
        ownership.publish();
        return ownership;
    }

    SlotOwnershipState toProto() {
        SlotOwnershipState.Builder state = SlotOwnershipState.newBuilder().setConfigNumber(configNumber);
        for (SlotRange range : servingView.ranges()) {
            state.addServing(SlotSpan.newBuilder().setFirst(range.first()).setLast(range.last()));
        }
        state.addAllMoving(moving.values());
        return state.build();
    }

    long configNumber() {
        return configNumber;
    }

    /** How many times this ownership changed since it was built. */
    long changes() {
        return changes;
    }

    /** The slots served now (immutable; any thread). */
    SlotSet serving() {
        return servingView;
    }

    boolean isServing(int slot) {
        return servingView.contains(slot);
    }

    /** The slot's move, or null when it does not move. */
    MovingSlot moving(int slot) {
        return moving.get(slot);
    }

    Collection<MovingSlot> movingSlots() {
        return Collections.unmodifiableCollection(moving.values());
    }

    /**
     * Moves group {@code groupId} from its configuration to {@code config}, whose number must be
     * the next one; {@code previous} is the configuration it leaves (null only for configuration
     * 1) and must give this group exactly the slots it serves. Returns why it is refused (nothing
     * changed), or empty.
     */
    Optional<String> reconfigure(long groupId, Layout config, Layout previous) {
        if (config.getVersion() != configNumber + 1) {
            return Optional.of("group " + groupId + " is at configuration " + configNumber
                    + "; it can move to " + (configNumber + 1) + " only, not to " + config.getVersion());
        }
        if (!moving.isEmpty()) {
            return Optional.of("group " + groupId + " still moves " + moving.size() + " slots of configuration "
                    + configNumber + " (slot " + moving.firstKey() + " first)");
        }
        SlotLayout next;
        SlotLayout before = null;
        try {
            next = SlotLayout.fromProto(config);
            if (configNumber > 0) {
                if (previous == null || previous.getVersion() != configNumber) {
                    return Optional.of("configuration " + config.getVersion() + " needs configuration " + configNumber
                            + " beside it, to name the previous owners");
                }
                before = SlotLayout.fromProto(previous);
            }
        } catch (IllegalArgumentException e) {
            return Optional.of("configuration does not parse: " + e.getMessage());
        }
        SlotSet had = before == null || !before.hasGroup(groupId) ? SlotSet.empty() : before.slotsOf(groupId);
        if (!had.equals(servingView)) {
            return Optional.of("group " + groupId + " serves " + servingView + " but configuration " + configNumber
                    + " gives it " + had);
        }
        for (int slot = 0; slot < Slots.SLOT_COUNT; slot++) {
            long owner = next.groupOf(slot);
            if (serving.get(slot) && owner != groupId) {
                serving.clear(slot);
                moving.put(slot, MovingSlot.newBuilder().setSlot(slot).setPhase(SlotPhase.HANDING_OFF)
                        .setOtherGroup(owner).build());
            } else if (!serving.get(slot) && owner == groupId) {
                long from = before == null ? 0 : before.groupOf(slot);
                if (from == 0) {
                    serving.set(slot);
                } else {
                    moving.put(slot, MovingSlot.newBuilder().setSlot(slot).setPhase(SlotPhase.PULLING)
                            .setOtherGroup(from).build());
                }
            }
        }
        configNumber = config.getVersion();
        changes++;
        publish();
        return Optional.empty();
    }

    /**
     * Checks that a chunk of {@code slot} at configuration {@code config} resumes where the last
     * one ended; returns why not, or empty.
     */
    Optional<String> checkChunk(long config, int slot, ByteString afterKey) {
        MovingSlot move = moving.get(slot);
        if (config != configNumber || move == null || move.getPhase() != SlotPhase.PULLING) {
            return Optional.of("slot " + slot + " is not being pulled at configuration " + config
                    + " (the group is at " + configNumber + ")");
        }
        if (!move.getResumeKey().equals(afterKey)) {
            return Optional.of("chunk of slot " + slot + " resumes after a different key than the last installed one"
                    + " (a duplicate or out-of-order chunk)");
        }
        return Optional.empty();
    }

    /** After a chunk passed {@link #checkChunk}: the pull resumes after {@code lastKey}, or the slot is served. */
    void chunkInstalled(int slot, ByteString lastKey, boolean last) {
        changes++;
        if (last) {
            moving.remove(slot);
            serving.set(slot);
            publish();
        } else {
            moving.put(slot, moving.get(slot).toBuilder().setResumeKey(lastKey).build());
        }
        movingCount = moving.size();
    }

    /** Whether {@code slot} is handed off at {@code config} (frozen here, its data still kept). */
    boolean isHandingOff(long config, int slot) {
        MovingSlot move = moving.get(slot);
        return config == configNumber && move != null && move.getPhase() == SlotPhase.HANDING_OFF;
    }

    /** The handed-off slot's data is gone: it is no longer this group's business. */
    void handOffDone(int slot) {
        MovingSlot move = moving.remove(slot);
        if (move == null || move.getPhase() != SlotPhase.HANDING_OFF) {
            throw new IllegalStateException("slot " + slot + " was not handed off: " + move);
        }
        changes++;
        movingCount = moving.size();
    }

    /** How many slots move now (any thread). */
    int movingCount() {
        return movingCount;
    }

    private void publish() {
        movingCount = moving.size();
        List<SlotRange> ranges = new ArrayList<>();
        int first = serving.nextSetBit(0);
        while (first >= 0) {
            int end = serving.nextClearBit(first);
            ranges.add(new SlotRange(first, end - 1));
            first = serving.nextSetBit(end);
        }
        servingView = SlotSet.of(ranges);
    }

    private static void checkSlot(int slot) {
        if (slot < 0 || slot >= Slots.SLOT_COUNT) {
            throw new IllegalArgumentException("slot " + slot + " is outside 0.." + (Slots.SLOT_COUNT - 1));
        }
    }
}
