package io.loomkv.core.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.MemoryStorage;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Who tells a removed store, and when a replica believes it was removed (see {@link RemovalNotices}). */
class RemovalNoticesTest {
    private static final ConfState ONE_TWO_THREE = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).build();
    private static final ConfState ONE_TWO_FOUR = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(4).build();
    private static final ConfState NONE = ConfState.getDefaultInstance();
    private static final Supplier<RemovalNotices.Removal> NO_POINT = () -> null;

    @Test
    void aMemberTellsARemovedStoreOncePerIntervalUntilItIsListedAgain() {
        RemovalNotices notices = new RemovalNotices(1, 10);
        ConfState joint = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(4).addVotersOutgoing(1)
                .addVotersOutgoing(2).addVotersOutgoing(3).build();
        assertEquals(List.of(), notices.onApplied(7, 2, ONE_TWO_THREE, joint), "still in the outgoing half");
        assertEquals(List.of(3L), notices.onApplied(8, 2, joint, ONE_TWO_FOUR), "leaving the joint configuration removes it");
        assertEquals(new RemovalNotices.Removal(8, 2), notices.removalOf(3));
        assertNull(notices.noticeDue(4, 100, NO_POINT), "a member is told nothing");

        assertEquals(new RemovalNotices.Removal(8, 2), notices.noticeDue(3, 100, NO_POINT));
        assertNull(notices.noticeDue(3, 109, NO_POINT), "within the interval");
        assertEquals(new RemovalNotices.Removal(8, 2), notices.noticeDue(3, 110, NO_POINT));
        notices.sent(3, 200);
        assertNull(notices.noticeDue(3, 205, NO_POINT));

        ConfState back = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(4).addLearners(3).build();
        notices.onApplied(12, 3, ONE_TWO_FOUR, back);
        assertNull(notices.removalOf(3), "added back: nothing to tell");
        assertNull(notices.noticeDue(3, 500, NO_POINT));
    }

    /** A member that restarted from a snapshot past the removal names a point it applied instead (seed 1030). */
    @Test
    void aMemberThatNeverAppliedTheRemovalNamesAPointItApplied() {
        RemovalNotices notices = new RemovalNotices(1, 10);
        RemovalNotices.Removal point = new RemovalNotices.Removal(42, 5, false);
        assertEquals(point, notices.noticeDue(3, 100, () -> point));
        assertNull(notices.noticeDue(3, 105, () -> point), "within the interval");
        assertNull(notices.noticeDue(4, 105, NO_POINT), "nothing to name");
        notices.onApplied(50, 5, ONE_TWO_THREE, ONE_TWO_FOUR);
        assertEquals(new RemovalNotices.Removal(50, 5), notices.noticeDue(3, 120, () -> point), "the entry, once applied");

        MemoryStorage log = log(entries(1, 1, 13));
        assertTrue(RemovalNotices.believes(3, ONE_TWO_THREE, 12, log, point), "it saw itself listed, and its log ends before 42");
        assertFalse(RemovalNotices.believes(3, ONE_TWO_FOUR, 12, log, point),
                "a replica catching up from a snapshot older than its addition is not a member at 42 either");
    }

    @Test
    void itsOwnRemovalIsNotAStoreToTell() {
        RemovalNotices notices = new RemovalNotices(3, 10);
        assertEquals(List.of(), notices.onApplied(8, 2, ONE_TWO_THREE, ONE_TWO_FOUR));
        assertNull(notices.noticeDue(3, 100, NO_POINT));
        assertThrows(IllegalArgumentException.class, () -> new RemovalNotices.Removal(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new RemovalNotices(1, 0));
    }

    @Test
    void anEmptyReplicaBelievesNothing() {
        assertFalse(RemovalNotices.believes(3, NONE, 0, log(entries(1, 1, 0)), new RemovalNotices.Removal(8, 2)));
    }

    @Test
    void aLogThatEndsBeforeTheRemovalBelievesIt() {
        assertTrue(RemovalNotices.believes(3, ONE_TWO_THREE, 5, log(entries(1, 1, 5)), new RemovalNotices.Removal(8, 2)));
    }

    @Test
    void aLogWithAnotherEntryAtTheRemovalsIndexBelievesIt() {
        // Entries 6..10 of term 1 were never committed: the removal at 8 is of term 2.
        assertTrue(RemovalNotices.believes(3, ONE_TWO_THREE, 5, log(entries(1, 1, 10)), new RemovalNotices.Removal(8, 2)));
    }

    @Test
    void aLogHoldingTheRemovalUnappliedBelievesItUnlessAConfChangeFollows() {
        List<Entry> log = entries(1, 2, 10);
        assertTrue(RemovalNotices.believes(3, ONE_TWO_THREE, 5, log(log), new RemovalNotices.Removal(8, 2)));
        log.add(confChange(11));
        log.add(Entry.newBuilder().setIndex(12).setTerm(2).setData(ByteString.copyFromUtf8("x")).build());
        assertFalse(RemovalNotices.believes(3, ONE_TWO_THREE, 5, log(log), new RemovalNotices.Removal(8, 2)),
                "the conf change at 11 may add it back");
        assertTrue(RemovalNotices.believes(3, ONE_TWO_THREE, 5, log(log), new RemovalNotices.Removal(12, 2)),
                "a conf change before the removal decides nothing");
    }

    /**
     * A replica that applied its own removal with entries after it in its log does not stop by
     * itself (they might add it back), and may compact past the removal: what it applied and what
     * waits in its log decide (simulator seed 371 never settled when a compacted log believed nothing).
     */
    @Test
    void aReplicaThatAppliedTheRemovalBelievesItUnlessItIsListedAgainOrAConfChangeWaits() {
        MemoryStorage storage = log(entries(1, 2, 10));
        storage.createSnapshot(9, ONE_TWO_FOUR, ByteString.EMPTY);
        storage.compact(9);
        RemovalNotices.Removal removal = new RemovalNotices.Removal(8, 2);
        assertTrue(RemovalNotices.believes(3, ONE_TWO_FOUR, 9, storage, removal));
        ConfState back = ONE_TWO_FOUR.toBuilder().addLearners(3).build();
        assertFalse(RemovalNotices.believes(3, back, 9, storage, removal), "applied a re-addition");
        storage.append(List.of(confChange(11)));
        assertFalse(RemovalNotices.believes(3, ONE_TWO_FOUR, 9, storage, removal), "the conf change at 11 may add it back");
        assertTrue(RemovalNotices.believes(3, ONE_TWO_FOUR, 11, storage, removal), "applied it, and it did not");
    }

    @Test
    void aReplicaLearnsItsRemovalFromItsOwnLogUnlessAConfChangeFollows() {
        List<Entry> log = entries(1, 2, 10);
        log.set(7, confChange(8));
        assertTrue(RemovalNotices.removedByItsOwnLog(3, ONE_TWO_FOUR, 8, log(log)), "entries 9 and 10 are not conf changes");
        assertFalse(RemovalNotices.removedByItsOwnLog(3, ONE_TWO_THREE, 8, log(log)), "still listed");
        assertFalse(RemovalNotices.removedByItsOwnLog(3, NONE, 8, log(log)), "no membership known");
        log.add(confChange(11));
        assertFalse(RemovalNotices.removedByItsOwnLog(3, ONE_TWO_FOUR, 8, log(log)), "the conf change at 11 may add it back");
    }

    /** A replica its own membership does not list never campaigns: with no leader reaching it, it asks (every 2 intervals). */
    @Test
    void aReplicaOutsideItsMembershipThatNoLeaderReachesAsksItsMembers() {
        RemovalNotices notices = new RemovalNotices(3, 10);
        assertFalse(notices.askDue(ONE_TWO_FOUR, 19), "not yet two intervals");
        assertTrue(notices.askDue(ONE_TWO_FOUR, 20));
        assertEquals(List.of(1L, 2L, 4L), notices.othersIn(ONE_TWO_FOUR));
        assertFalse(notices.askDue(ONE_TWO_FOUR, 39), "asked at 20");
        assertTrue(notices.askDue(ONE_TWO_FOUR, 40));
        notices.heardFromLeader(45);
        assertFalse(notices.askDue(ONE_TWO_FOUR, 64), "a leader reached it at 45: it is catching up");
        assertTrue(notices.askDue(ONE_TWO_FOUR, 65));
        assertFalse(notices.askDue(ONE_TWO_THREE, 200), "a voter: it campaigns when no leader reaches it");
        assertTrue(notices.askDue(ONE_TWO_FOUR.toBuilder().addLearners(3).build(), 200), "a learner never campaigns");
        assertFalse(notices.askDue(NONE, 200), "no membership: created for a leader, which will reach it");
        notices.clear();
        assertFalse(notices.askDue(ONE_TWO_FOUR, 19), "restarted: waits again");
    }

    /** An empty replica no leader reached for two intervals was abandoned (seed 990); one that knows a membership is not. */
    @Test
    void anEmptyReplicaNoLeaderReachesIsAbandoned() {
        RemovalNotices notices = new RemovalNotices(4, 10);
        notices.heardFromLeader(100);
        assertFalse(notices.abandoned(NONE, 119));
        assertTrue(notices.abandoned(NONE, 120));
        assertFalse(notices.abandoned(ONE_TWO_FOUR, 500), "it knows a membership: notices and asks decide");
    }

    private static Entry confChange(long index) {
        return Entry.newBuilder().setIndex(index).setTerm(2).setType(EntryType.ENTRY_CONF_CHANGE).build();
    }

    private static List<Entry> entries(long first, long term, long last) {
        List<Entry> out = new ArrayList<>();
        for (long i = first; i <= last; i++) {
            out.add(Entry.newBuilder().setIndex(i).setTerm(term).setData(ByteString.copyFromUtf8("e" + i)).build());
        }
        return out;
    }

    private static MemoryStorage log(List<Entry> entries) {
        MemoryStorage storage = new MemoryStorage();
        storage.append(entries);
        return storage;
    }
}
