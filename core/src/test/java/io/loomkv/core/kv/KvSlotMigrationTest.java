package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.ExportSlotResult;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.SlotPhase;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.SlotRange;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import io.loomkv.core.shard.proto.Layout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A slot moves from group 1 to group 2 through the migration commands (docs/shard-controller.md,
 * "Slot migration"): frozen on the old owner, pulled in chunks through the new owner's log,
 * served there with its exactly-once state, then deleted from the old owner.
 */
class KvSlotMigrationTest {

    private static final int SLOT = Slots.slotOf(bytes("{m}"));
    /** Group 2 owns the half of the slots that does not hold SLOT; group 1 the rest. */
    private static final SlotSet OWNED_BY_2 = SLOT < Slots.SLOT_COUNT / 2
            ? SlotSet.of(new SlotRange(Slots.SLOT_COUNT / 2, Slots.SLOT_COUNT - 1))
            : SlotSet.of(new SlotRange(0, Slots.SLOT_COUNT / 2 - 1));
    private static final SlotSet OWNED_BY_1 = complement(OWNED_BY_2);
    private static final Layout CONFIG_1 = MigrationCommands.config(1, OWNED_BY_1, 1, 2);
    /** Configuration 2 moves SLOT to group 2. */
    private static final Layout CONFIG_2 = MigrationCommands.config(2, without(OWNED_BY_1, SLOT), 1, 2);

    private final KvFixture a = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 1, OWNED_BY_1);
    private final KvFixture b = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 2, OWNED_BY_2);

    @Test
    void aSlotMovesWithItsDataAndItsRepliesAndIsDeletedFromTheOldOwner() throws IOException {
        KvFixture.Client client = a.client();
        for (int i = 0; i < 40; i++) {
            assertEquals(Status.OK, client.put("{m}" + i, "value-" + i).getStatus());
        }
        // A write whose reply the client never got: in flight when the slot moves.
        Command unanswered = client.next().setAppend(Append.newBuilder().setKey(bytes("{m}0")).setValue(bytes("+")))
                .build();
        assertEquals(Status.OK, a.apply(unanswered).getStatus());
        String otherKey = keyOutside(SLOT, OWNED_BY_1);
        assertEquals(Status.OK, a.client().put(otherKey, "stays").getStatus());

        assertEquals(List.of(), a.machine.straySlots(64), "every key is in a served slot");
        assertOk(a.apply(MigrationCommands.reconfigure(a.nowMillis, CONFIG_2, CONFIG_1)));
        assertOk(b.apply(MigrationCommands.reconfigure(b.nowMillis, CONFIG_2, CONFIG_1)));
        assertEquals(List.of(SLOT), a.machine.straySlots(64), "the slot handed off still holds its keys");
        assertEquals(List.of(), a.machine.straySlots(0), "at most max listed");
        assertEquals(2, a.machine.configNumber());
        assertEquals(SlotPhase.HANDING_OFF, moving(a).getPhase());
        assertEquals(SlotPhase.PULLING, moving(b).getPhase());

        // Frozen on the old owner: refused, not cached (the retry must reach the new owner).
        KvReply frozen = a.apply(unanswered.toBuilder().setSequence(client.nextSequence).build());
        assertEquals(Status.WRONG_GROUP, frozen.getStatus(), frozen.getMessage());
        assertEquals(2, frozen.getLayoutVersion());
        assertEquals(Status.WRONG_GROUP, a.get("{m}1").getStatus());
        assertEquals("stays", a.value(otherKey), "slots not involved are served throughout");
        // Not served by the new owner before the pull ends: the client waits.
        assertEquals(Status.UNAVAILABLE, b.get("{m}1").getStatus());

        pull(64);

        assertTrue(b.machine.ownedSlots().contains(SLOT));
        for (int i = 1; i < 40; i++) {
            assertEquals("value-" + i, b.value("{m}" + i));
        }
        assertEquals("value-0+", b.value("{m}0"));
        // The client retries the unanswered append at the new owner with the same session and
        // sequence: the imported reply, not a second append.
        KvReply retried = b.apply(unanswered);
        assertEquals(Status.OK, retried.getStatus(), retried.getMessage());
        assertEquals("value-0+", b.value("{m}0"));
        assertEquals(List.of(SLOT), retried.getWrittenSlotsList());
        // The session goes on at the new owner.
        KvReply next = b.apply(client.next().setAppend(Append.newBuilder().setKey(bytes("{m}0")).setValue(bytes("!")))
                .build());
        assertEquals(Status.OK, next.getStatus(), next.getMessage());
        assertEquals("value-0+!", b.value("{m}0"));

        // The old owner deletes the slot in bounded steps; then it may move on.
        KvReply refusedEarly = a.apply(MigrationCommands.reconfigure(a.nowMillis,
                MigrationCommands.config(3, without(OWNED_BY_1, SLOT), 1, 2), CONFIG_2));
        assertEquals(Status.INVALID_ARGUMENT, refusedEarly.getStatus());
        assertTrue(refusedEarly.getMessage().contains("still moves"), refusedEarly.getMessage());
        int steps = 0;
        while (!progress(a).getMovingList().isEmpty()) {
            assertOk(a.apply(MigrationCommands.deleteSlot(a.nowMillis, 2, SLOT, 7)));
            steps++;
        }
        assertEquals(6, steps, "40 keys, 7 per step: 6 steps");
        assertTrue(userKeysInSlot(a, SLOT).isEmpty(), "the moved slot's keys are gone from the old owner");
        assertEquals(List.of(), a.machine.straySlots(64), "nothing left behind");
        assertEquals(List.of(), b.machine.straySlots(64));
        assertEquals("stays", a.value(otherKey));
        KvReply again = a.apply(MigrationCommands.deleteSlot(a.nowMillis, 2, SLOT, 7));
        assertEquals(Status.INVALID_ARGUMENT, again.getStatus(), "a late DeleteSlot changes nothing");
        assertOk(a.apply(MigrationCommands.reconfigure(a.nowMillis,
                MigrationCommands.config(3, without(OWNED_BY_1, SLOT), 1, 2), CONFIG_2)));
    }

    @Test
    void aChunkProposedTwiceIsInstalledOnceAndASnapshotResumesThePull() throws IOException {
        KvFixture.Client client = a.client();
        for (int i = 0; i < 30; i++) {
            client.put("{m}" + i, "v" + i);
        }
        assertOk(a.apply(MigrationCommands.reconfigure(a.nowMillis, CONFIG_2, CONFIG_1)));
        assertOk(b.apply(MigrationCommands.reconfigure(b.nowMillis, CONFIG_2, CONFIG_1)));
        ExportSlotResult first = export(ByteString.EMPTY, 40);
        assertFalse(first.getLast());
        Command install = MigrationCommands.install(b.nowMillis, 2, SLOT, ByteString.EMPTY, first);
        assertOk(b.apply(install));
        KvReply duplicate = b.apply(install);
        assertEquals(Status.INVALID_ARGUMENT, duplicate.getStatus(), "a second copy resumes after the wrong key");
        ByteString resume = moving(b).getResumeKey();
        assertEquals(first.getEntries(first.getEntriesCount() - 1).getKey(), resume);

        // A replica restored from a snapshot taken mid-pull is exactly where its group is.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        b.machine.writeSnapshot(out);
        KvFixture restored = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 2, OWNED_BY_2);
        restored.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        restored.index = restored.machine.lastAppliedIndex();
        assertEquals(progress(b), progress(restored));

        ByteString after = resume;
        while (true) {
            ExportSlotResult chunk = export(after, 40);
            assertOk(b.apply(MigrationCommands.install(b.nowMillis, 2, SLOT, after, chunk)));
            assertOk(restored.apply(MigrationCommands.install(restored.nowMillis, 2, SLOT, after, chunk)));
            if (chunk.getLast()) {
                break;
            }
            after = chunk.getEntries(chunk.getEntriesCount() - 1).getKey();
        }
        assertEquals(b.userContents(), restored.userContents());
        assertEquals(30, userKeysInSlot(b, SLOT).size());
        assertEquals(progress(b), progress(restored));
    }

    @Test
    void badChunksAndExportsAreRefusedAndChangeNothing() {
        a.client().put("{m}1", "v");
        // Not frozen yet: the old owner does not export the slot.
        KvReply early = a.machine.read(MigrationCommands.export(1, 2, SLOT, ByteString.EMPTY, 0));
        assertEquals(Status.UNAVAILABLE, early.getStatus(), early.getMessage());
        assertOk(a.apply(MigrationCommands.reconfigure(a.nowMillis, CONFIG_2, CONFIG_1)));
        assertOk(b.apply(MigrationCommands.reconfigure(b.nowMillis, CONFIG_2, CONFIG_1)));
        // A key of another slot in the chunk.
        ExportSlotResult wrongSlot = ExportSlotResult.newBuilder().addEntries(io.loomkv.core.kv.proto.KeyValue.newBuilder()
                .setKey(bytes(keyOutside(SLOT, OWNED_BY_1))).setValue(bytes("x"))).setLast(true).build();
        assertEquals(Status.INVALID_ARGUMENT, b.apply(MigrationCommands.install(b.nowMillis, 2, SLOT, ByteString.EMPTY,
                wrongSlot)).getStatus());
        // The wrong configuration.
        assertEquals(Status.INVALID_ARGUMENT, b.apply(MigrationCommands.install(b.nowMillis, 3, SLOT, ByteString.EMPTY,
                export(ByteString.EMPTY, 0))).getStatus());
        // Skipping a configuration.
        assertEquals(Status.INVALID_ARGUMENT, b.apply(MigrationCommands.reconfigure(b.nowMillis,
                MigrationCommands.config(4, OWNED_BY_2, 2, 1), CONFIG_2)).getStatus());
        assertEquals(SlotPhase.PULLING, moving(b).getPhase());
        assertTrue(userKeysInSlot(b, SLOT).isEmpty());
        assertEquals(Status.INVALID_ARGUMENT, a.machine.read(MigrationCommands.export(1, 2, Slots.SLOT_COUNT,
                ByteString.EMPTY, 0)).getStatus());
    }

    @Test
    void aGroupAddedLaterWalksFromConfigurationZeroAndPullsItsSlots() {
        a.client().put("{m}1", "v");
        KvFixture c = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), 3, SlotSet.empty());
        assertEquals(0, c.machine.configNumber());
        // Configuration 1 does not name group 3: it gains nothing there.
        assertOk(c.apply(MigrationCommands.reconfigure(c.nowMillis, CONFIG_1, null)));
        Layout joined = MigrationCommands.config(2, SlotSet.ofSlots(SLOT), 3, 1);
        assertOk(c.apply(MigrationCommands.reconfigure(c.nowMillis, joined, CONFIG_1)));
        MovingSlot pulling = moving(c);
        assertEquals(SlotPhase.PULLING, pulling.getPhase());
        assertEquals(1, pulling.getOtherGroup());
    }

    @Test
    void aForgottenImportedSessionIsNotRunTwice() {
        SessionPolicy tiny = new SessionPolicy(SessionPolicy.DEFAULT_SESSION_TIMEOUT_MILLIS, 2,
                SessionPolicy.DEFAULT_MAX_UNACKNOWLEDGED_REPLIES);
        KvFixture small = new KvFixture(KvLimits.defaults(), tiny, 2, SlotSet.all());
        long foreign = io.loomkv.core.shard.GroupIds.firstClientId(1);
        Command write = small.stamped().setClientId(foreign).setSequence(1).setAcknowledgedBelow(1)
                .setPut(Put.newBuilder().setKey(bytes("k")).setValue(bytes("v"))).build();
        assertOk(small.apply(write));
        // Two sessions of group 2's own push the adopted one out.
        small.openSession();
        small.openSession();
        KvReply retried = small.apply(write);
        assertEquals(Status.SESSION_EXPIRED, retried.getStatus(), "its outcome is forgotten, so it must not run again");
        // A later session of group 1 (never seen here) is adopted.
        KvReply newer = small.apply(write.toBuilder().setClientId(foreign + 1).build());
        assertEquals(Status.OK, newer.getStatus(), newer.getMessage());
    }

    /** Pulls SLOT from group 1 into group 2 as the stores would: export, install, until the last chunk. */
    private void pull(int maxBytes) {
        ByteString after = ByteString.EMPTY;
        int chunks = 0;
        while (true) {
            ExportSlotResult chunk = export(after, maxBytes);
            assertOk(b.apply(MigrationCommands.install(b.nowMillis, 2, SLOT, after, chunk)));
            chunks++;
            if (chunk.getLast()) {
                break;
            }
            after = chunk.getEntries(chunk.getEntriesCount() - 1).getKey();
        }
        assertTrue(chunks > 3, "a small byte budget cuts the slot into several chunks, got " + chunks);
    }

    private ExportSlotResult export(ByteString after, int maxBytes) {
        KvReply reply = a.machine.read(MigrationCommands.export(1, 2, SLOT, after, maxBytes));
        assertOk(reply);
        assertEquals(1, reply.getMigration().getExport().getSlotsCount());
        return reply.getMigration().getExport().getSlots(0);
    }

    private static SlotOwnershipState progress(KvFixture kv) {
        KvReply reply = kv.machine.read(MigrationCommands.progress(kv.machine.groupId()));
        assertOk(reply);
        return reply.getMigration().getProgress();
    }

    private static MovingSlot moving(KvFixture kv) {
        List<MovingSlot> moving = progress(kv).getMovingList();
        assertEquals(1, moving.size(), moving.toString());
        assertEquals(SLOT, moving.get(0).getSlot());
        return moving.get(0);
    }

    private static List<ByteString> userKeysInSlot(KvFixture kv, int slot) {
        List<ByteString> keys = new ArrayList<>();
        TreeMap<ByteString, ByteString> contents = kv.userContents();
        for (ByteString key : contents.keySet()) {
            if (Slots.slotOf(key) == slot) {
                keys.add(key);
            }
        }
        return keys;
    }

    private static void assertOk(KvReply reply) {
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
    }

    private static String keyOutside(int slot, SlotSet within) {
        for (int n = 0; ; n++) {
            String key = "other" + n;
            int s = Slots.slotOf(bytes(key));
            if (s != slot && within.contains(s)) {
                return key;
            }
        }
    }

    private static SlotSet complement(SlotSet set) {
        List<SlotRange> ranges = new ArrayList<>();
        int next = 0;
        for (SlotRange range : set.ranges()) {
            if (range.first() > next) {
                ranges.add(new SlotRange(next, range.first() - 1));
            }
            next = range.last() + 1;
        }
        if (next < Slots.SLOT_COUNT) {
            ranges.add(new SlotRange(next, Slots.SLOT_COUNT - 1));
        }
        return SlotSet.of(ranges);
    }

    private static SlotSet without(SlotSet set, int slot) {
        return complement(SlotSet.of(union(complement(set), slot)));
    }

    private static List<SlotRange> union(SlotSet set, int slot) {
        List<SlotRange> ranges = new ArrayList<>(set.ranges());
        ranges.add(new SlotRange(slot, slot));
        return ranges;
    }
}
