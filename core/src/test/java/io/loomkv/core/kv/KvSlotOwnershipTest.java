package io.loomkv.core.kv;

import static io.loomkv.core.kv.KvFixture.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.Slots;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A group serves only its own slots, decides the same way on every replica, and numbers its sessions apart. */
class KvSlotOwnershipTest {

    private static final long GROUP = 3;
    private static final SlotSet OWNED = SlotLayout.evenSplit(1, 4, List.of(1L, 2L, 3L), 3).slotsOf(GROUP);

    private final KvFixture kv = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), GROUP, OWNED);
    private final KvFixture.Client client = kv.client();

    /** The first key {@code prefix + n} whose slot is (or is not) owned by group 3. */
    private static String key(String prefix, boolean owned) {
        for (int n = 0; ; n++) {
            String key = prefix + n;
            if (OWNED.contains(Slots.slotOf(bytes(key))) == owned) {
                return key;
            }
        }
    }

    private static void assertWrongGroup(KvReply reply, String messagePart) {
        assertEquals(Status.WRONG_GROUP, reply.getStatus(), reply.getMessage());
        assertEquals(GROUP, reply.getGroupId(), "the reply names the group that answered");
        assertTrue(reply.getMessage().contains(messagePart), reply.getMessage());
    }

    @Test
    void everyWriteKindToAnUnownedSlotIsRefusedAndChangesNothing() {
        String mine = key("mine/", true);
        String theirs = key("theirs/", false);
        client.put(mine, "1");
        int writes = kv.engine.writeCalls();
        String slot = "slot " + Slots.slotOf(bytes(theirs));
        assertWrongGroup(client.put(theirs, "v"), "key is in " + slot + ", which group 3 does not serve");
        assertWrongGroup(client.append(theirs, "v"), slot);
        assertWrongGroup(client.delete(theirs), slot);
        assertWrongGroup(client.cas(theirs, null, "v"), slot);
        assertWrongGroup(client.multiPut(mine, "2", theirs, "v"), "entries[1].key is in " + slot);
        assertEquals(writes, kv.engine.writeCalls(), "nothing reached the engine");
        assertEquals("1", kv.value(mine), "a multi-put with one foreign key writes none of its keys");
        assertEquals(Status.OK, client.put(mine, "3").getStatus(), "the session goes on");
    }

    @Test
    void keysWithATagOfAnOwnedSlotAreServedWhateverTheRestOfTheKey() {
        String tag = key("t", true);
        KvReply reply = client.multiPut("{" + tag + "}.a", "1", "x{" + tag + "}.b", "2");
        assertEquals(Status.OK, reply.getStatus(), reply.getMessage());
        assertEquals("2", kv.value("x{" + tag + "}.b"));
    }

    @Test
    void aRefusedWriteIsRefusedAgainOnRetryAndIsStaleOnceAcknowledged() {
        String theirs = key("theirs/", false);
        Command write = client.next().setPut(Put.newBuilder().setKey(bytes(theirs)).setValue(bytes("v"))).build();
        KvReply first = kv.apply(write);
        assertWrongGroup(first, "slot");
        KvReply retried = kv.apply(write);
        // Not cached (a slot elsewhere is not the write's outcome: after a move here the retry
        // runs); decided again from the same replicated state, so every replica answers alike.
        assertEquals(first, retried);
        // The next write acknowledges it, so the session forgets it: a late copy is stale.
        assertEquals(Status.OK, client.put(key("mine/", true), "v").getStatus());
        assertEquals(Status.STALE_SEQUENCE, kv.apply(write).getStatus());
    }

    @Test
    void aRefusedCommandInABatchDoesNotStopTheOthers() {
        String mine = key("mine/", true);
        String theirs = key("theirs/", false);
        // A pipelining client: three writes in flight, none acknowledged yet.
        Command.Builder base = kv.stamped().setClientId(client.clientId).setAcknowledgedBelow(1);
        Command first = base.clone().setSequence(1)
                .setPut(Put.newBuilder().setKey(bytes(mine)).setValue(bytes("1"))).build();
        Command refused = base.clone().setSequence(2)
                .setPut(Put.newBuilder().setKey(bytes(theirs)).setValue(bytes("x"))).build();
        String alsoMine = key("other/", true);
        Command third = base.clone().setSequence(3)
                .setPut(Put.newBuilder().setKey(bytes(alsoMine)).setValue(bytes("3"))).build();
        List<KvReply> replies = kv.machine.apply(++kv.index,
                CommandBatch.newBuilder().addCommands(first).addCommands(refused).addCommands(third).build());
        assertEquals(Status.OK, replies.get(0).getStatus());
        assertWrongGroup(replies.get(1), "slot");
        assertEquals(Status.OK, replies.get(2).getStatus());
        assertEquals("1", kv.value(mine));
        assertEquals("3", kv.value(alsoMine));
        assertEquals(replies.get(1), kv.apply(refused), "the refusal was cached like any outcome");
    }

    @Test
    void replicasApplyingTheSameLogAgreeOnEveryRefusal() {
        KvFixture other = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), GROUP, OWNED);
        KvFixture.Client otherClient = other.client();
        assertEquals(client.clientId, otherClient.clientId);
        for (int i = 0; i < 200; i++) {
            Command write = client.next().setPut(Put.newBuilder().setKey(bytes("k" + i)).setValue(bytes("v"))).build();
            KvReply reply = kv.apply(write);
            assertEquals(reply, other.apply(write));
            assertEquals(OWNED.contains(Slots.slotOf(bytes("k" + i))), reply.getStatus() == Status.OK);
        }
        assertEquals(kv.engine.contents(), other.engine.contents());
    }

    @Test
    void readsOfUnownedSlotsAreRefused() {
        String mine = key("mine/", true);
        String theirs = key("theirs/", false);
        client.put(mine, "1");
        assertWrongGroup(kv.get(theirs), "key is in slot " + Slots.slotOf(bytes(theirs)));
        assertWrongGroup(kv.multiGet(mine, theirs), "keys[1] is in slot");
        KvRequest get = KvRequest.newBuilder().setGet(Get.newBuilder().setKey(bytes(theirs))).build();
        assertWrongGroup(kv.machine.getConcurrently(get, kv.nowMillis), "slot");
        assertEquals("1", kv.machine.getConcurrently(KvRequest.newBuilder()
                .setGet(Get.newBuilder().setKey(bytes(mine))).build(), kv.nowMillis).getGet().getValue().toStringUtf8());
    }

    @Test
    void aScanPinnedToAnUnownedSlotByItsHashTagIsRefused() {
        String tag = key("tag", false);
        KvReply prefix = kv.scanPrefix("{" + tag + "}.", 10, ByteString.EMPTY);
        assertWrongGroup(prefix, "every key the scan selects is in slot " + Slots.slotOf(bytes(tag)));
        assertWrongGroup(kv.scanRange(bytes("{" + tag + "}.a"), bytes("{" + tag + "}.z"), 10, ByteString.EMPTY), "slot");
        String ownedTag = key("tag", true);
        assertEquals(Status.OK, kv.scanPrefix("{" + ownedTag + "}.", 10, ByteString.EMPTY).getStatus());
    }

    @Test
    void aReadAddressedToAnotherGroupIsRefusedAndOneToThisGroupServed() {
        String mine = key("mine/", true);
        client.put(mine, "1");
        KvRequest.Builder scan = KvRequest.newBuilder().setScan(Scan.newBuilder().setPrefix(bytes("mine/")));
        assertWrongGroup(kv.machine.read(scan.clone().setGroupId(2).build()), "addressed to group 2; this is group 3");
        assertEquals(1, kv.machine.read(scan.clone().setGroupId(GROUP).build()).getScan().getEntriesCount());
        assertEquals(1, kv.machine.read(scan.clone().build()).getScan().getEntriesCount(), "0 means this group");
        KvRequest get = KvRequest.newBuilder().setGroupId(1).setGet(Get.newBuilder().setKey(bytes(mine))).build();
        assertWrongGroup(kv.machine.read(get), "addressed to group 1");
        assertWrongGroup(kv.machine.getConcurrently(get, kv.nowMillis), "addressed to group 1");
    }

    @Test
    void sessionIdsCarryTheGroup() {
        assertEquals((GROUP << 40) + 1, client.clientId);
        assertEquals((GROUP << 40) + 2, kv.openSession());
        assertEquals(GROUP, GroupIds.groupOfClientId(client.clientId));
        KvFixture groupOne = new KvFixture();
        long first = groupOne.openSession();
        assertEquals((1L << 40) + 1, first);
        assertNotEquals(first, client.clientId);
        // A session of group 1 writing a slot of group 3 (the slot moved, the client kept its
        // session) is adopted there: the write runs once, and its retry gets the same reply.
        Command write = kv.stamped().setClientId(first).setSequence(1).setAcknowledgedBelow(1)
                .setPut(Put.newBuilder().setKey(bytes(key("mine/", true))).setValue(bytes("v"))).build();
        KvReply foreign = kv.apply(write);
        assertEquals(Status.OK, foreign.getStatus(), foreign.getMessage());
        assertEquals(foreign, kv.apply(write));
        // An id of group 0 (the controller) is no client session of a data group.
        KvReply controllerId = kv.apply(write.toBuilder().setClientId(5).build());
        assertEquals(Status.SESSION_EXPIRED, controllerId.getStatus());
    }

    @Test
    void aGroupThatHandedOutEverySessionIdRefusesToOpenMore() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        KvSnapshotCodec.write(out, KvLimits.defaults(), 7, 1_000, GroupIds.lastClientId(GROUP), List.of(), List.of(),
                null, null, java.util.Collections.emptyIterator());
        KvFixture full = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), GROUP, OWNED);
        full.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        full.index = 7;
        assertEquals(GroupIds.lastClientId(GROUP), full.openSession(), "the last id is still handed out");
        KvReply refused = full.apply(full.stamped().setOpenSession(
                io.loomkv.core.kv.proto.OpenSession.getDefaultInstance()).build());
        assertEquals(Status.RESOURCE_EXHAUSTED, refused.getStatus());
        assertTrue(refused.getMessage().contains("session ids"), refused.getMessage());
        assertEquals(1, full.machine.sessionCount());
    }

    @Test
    void constructorRefusesGroupsOutsideTheDataGroupRange() {
        InMemoryKvEngine engine = new InMemoryKvEngine();
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> new KvStateMachine(
                engine, KvLimits.defaults(), SessionPolicy.defaults(), 0, SlotSet.all()));
        assertTrue(zero.getMessage().contains("shard controller"), zero.getMessage());
        IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> new KvStateMachine(
                engine, KvLimits.defaults(), SessionPolicy.defaults(), 1L << 23, SlotSet.all()));
        assertTrue(tooLarge.getMessage().contains("8388608"), tooLarge.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KvStateMachine(
                engine, KvLimits.defaults(), SessionPolicy.defaults(), -1, SlotSet.all()));
        assertThrows(NullPointerException.class, () -> new KvStateMachine(
                engine, KvLimits.defaults(), SessionPolicy.defaults(), 1, null));
        KvStateMachine largest = new KvStateMachine(engine, KvLimits.defaults(), SessionPolicy.defaults(),
                (1L << 23) - 1, SlotSet.empty());
        assertEquals((1L << 23) - 1, largest.groupId());
        assertEquals(SlotSet.empty(), largest.ownedSlots());
        Command open = Command.newBuilder().setTimestampMillis(1)
                .setOpenSession(io.loomkv.core.kv.proto.OpenSession.getDefaultInstance()).build();
        assertTrue(largest.apply(1, open).getOpenSession().getClientId() > 0,
                "the largest group's session ids stay below 2^63");
    }
}
