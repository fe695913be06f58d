package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.KEEP_ALL;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several groups in one WAL: each keeps its own log, its own checks and its own hard state. */
class WalMultiGroupTest {
    private static final long CONTROLLER = 0;
    private static final long DATA = 5;
    private static final long HUGE_ID = 1L << 40;

    @TempDir
    Path dir;

    private WalOptions oneMegabyte() {
        return WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20);
    }

    private static HardState hardState(long term, long commit) {
        return HardState.newBuilder().setTerm(term).setVote(1).setCommit(commit).build();
    }

    private static long await(CompletableFuture<Long> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    @Test
    void interleavedGroupsRecoverEachTheirOwnLogAndHardState() throws Exception {
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024), KEEP_ALL)) {
            // Group 0 is a real group (the shard controller), and ids reach far beyond int.
            for (long i = 1; i <= 600; i += 20) {
                assertEquals(i + 19, await(wal.append(CONTROLLER, null, entries(i, i + 19, 1), true)));
                assertEquals((i + 19) / 2, await(wal.append(DATA, hardState(2, i / 2), entries((i + 1) / 2, (i + 19) / 2, 2), true)));
                long hugeIndex = (i - 1) / 20 + 1;
                assertEquals(hugeIndex, await(wal.append(HUGE_ID, null, List.of(entry(hugeIndex, 3)), true)));
            }
            await(wal.append(CONTROLLER, hardState(4, 550), List.of(), true));
            assertTrue(wal.segmentCount() > 2, "the groups' records cross segment cuts: " + wal.segmentCount());
            assertEquals(600, wal.lastIndex(CONTROLLER));
            assertEquals(300, wal.lastIndex(DATA));
            assertEquals(30, wal.lastIndex(HUGE_ID));
            assertEquals(0, wal.lastIndex(99), "a group the WAL holds nothing of");
            assertEquals(List.of(CONTROLLER, DATA, HUGE_ID), wal.groupIds());
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(Set.of(CONTROLLER, DATA, HUGE_ID), contents.groups().keySet());
            assertEquals(entries(1, 600, 1), recoveredEntries(contents, CONTROLLER));
            assertEquals(hardState(4, 550), contents.group(CONTROLLER).hardState());
            assertEquals(entries(1, 300, 2), recoveredEntries(contents, DATA));
            assertEquals(hardState(2, 290), contents.group(DATA).hardState(), "the data group's own last hard state, not group 0's");
            List<Entry> huge = new ArrayList<>();
            for (long i = 1; i <= 30; i++) {
                huge.add(entry(i, 3));
            }
            assertEquals(huge, recoveredEntries(contents, HUGE_ID));
            assertEquals(HardState.getDefaultInstance(), contents.group(HUGE_ID).hardState());
            assertEquals(0, contents.group(HUGE_ID).logStartIndex());
        }
    }

    @Test
    void indexChecksArePerGroupAndABadAppendChangesNothing() throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(DATA, null, entries(1, 10, 1), true));
            await(wal.saveSnapshotMarker(CONTROLLER, SnapshotMetadata.newBuilder().setIndex(50).setTerm(2).build(), true));
            assertThrows(IllegalArgumentException.class, () -> wal.append(DATA, null, entries(12, 13, 1), true), "a gap in group 5");
            assertThrows(IllegalArgumentException.class, () -> wal.append(CONTROLLER, null, entries(50, 51, 2), true),
                    "group 0's log was reset to 50: entry 50 is inside its snapshot");
            assertThrows(IllegalArgumentException.class, () -> wal.append(99, null, entries(2, 3, 1), true),
                    "a new group's log starts at 1");
            assertThrows(IllegalArgumentException.class, () -> wal.append(-1, null, entries(1, 1, 1), true), "negative group id");
            assertThrows(IllegalArgumentException.class, () -> wal.saveSnapshotMarker(DATA,
                    SnapshotMetadata.newBuilder().setIndex(11).setTerm(1).build(), false), "a local snapshot beyond group 5's log");
            assertThrows(IllegalArgumentException.class, () -> wal.releaseTo(DATA, 11), "a release beyond group 5's log");
            assertThrows(IllegalArgumentException.class, () -> wal.releaseTo(99, 1), "a release of an unknown group");
            assertThrows(IllegalArgumentException.class, () -> wal.dropGroup(99), "a drop of an unknown group");
            assertEquals(10, wal.lastIndex(DATA));
            assertEquals(50, wal.lastIndex(CONTROLLER));
            assertEquals(List.of(CONTROLLER, DATA), wal.groupIds(), "no group was created by a refused append");
            // The same indexes are fine in the other group: checks are per group.
            assertEquals(51, await(wal.append(CONTROLLER, null, entries(51, 51, 2), true)));
            assertEquals(11, await(wal.append(DATA, null, entries(11, 11, 1), true)));
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(Set.of(CONTROLLER, DATA), contents.groups().keySet());
            assertEquals(entries(1, 11, 1), recoveredEntries(contents, DATA));
            assertEquals(entries(51, 51, 2), recoveredEntries(contents, CONTROLLER));
            assertEquals(50, contents.group(CONTROLLER).logStartIndex());
        }
    }

    @Test
    void aResetAndAConflictingSuffixChangeOnlyTheirGroup() throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(CONTROLLER, null, entries(1, 40, 1), true));
            await(wal.append(DATA, null, entries(1, 40, 1), true));
            await(wal.saveSnapshotMarker(CONTROLLER, SnapshotMetadata.newBuilder().setIndex(100).setTerm(3).build(), true));
            await(wal.append(DATA, null, entries(31, 35, 2), true));
            await(wal.append(CONTROLLER, null, entries(101, 105, 3), true));
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(101, 105, 3), recoveredEntries(contents, CONTROLLER));
            assertEquals(100, contents.group(CONTROLLER).logStartIndex());
            List<Entry> data = new ArrayList<>(entries(1, 30, 1));
            data.addAll(entries(31, 35, 2));
            assertEquals(data, recoveredEntries(contents, DATA), "group 5 keeps its log through group 0's reset");
            assertEquals(35, contents.group(DATA).lastIndex());
        }
    }

    @Test
    void keepIndexesArePerGroup() throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(CONTROLLER, null, entries(1, 50, 1), true));
            await(wal.append(DATA, null, entries(1, 50, 1), true));
        }
        try (Wal wal = Wal.open(oneMegabyte(), id -> id == DATA ? 40 : 10)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(11, 50, 1), recoveredEntries(contents, CONTROLLER));
            assertEquals(entries(41, 50, 1), recoveredEntries(contents, DATA));
            assertEquals(50, contents.group(DATA).lastIndex());
        }
    }

    @Test
    void appendsThatNeedNoSyncCauseNoForceOfTheirOwn() throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(DATA, hardState(1, 0), entries(1, 10, 1), true));
            long forcesBefore = wal.forceCount();
            for (long commit = 1; commit <= 10; commit++) {
                // Commit-only hard states, each waited for: without the flag every one of them cost a force.
                assertEquals(10, await(wal.append(DATA, hardState(1, commit), List.of(), false)));
                assertEquals(0, await(wal.append(CONTROLLER, hardState(1, commit), List.of(), false)), "group 0 has no entries");
            }
            WalTicket ticket = wal.submit(DATA, hardState(1, 10), List.of(), false);
            assertEquals(10, ticket.await(10, TimeUnit.SECONDS));
            assertEquals(forcesBefore, wal.forceCount(), "appends without mustSync must not force");
            await(wal.append(DATA, null, entries(11, 11, 1), true));
            assertTrue(wal.forceCount() > forcesBefore, "an append that must be synced still forces");
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(hardState(1, 10), contents.group(DATA).hardState());
            assertEquals(hardState(1, 10), contents.group(CONTROLLER).hardState(), "made durable by a later force, or by close");
            assertEquals(entries(1, 11, 1), recoveredEntries(contents, DATA));
        }
    }

    @Test
    void anAppendThatNeedsNoSyncWaitsBehindAnEarlierOneThatDoes() throws Exception {
        // Completions stay in order: a future that completed says the appends before it are done too.
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            for (int round = 0; round < 200; round++) {
                CompletableFuture<Long> synced = wal.append(DATA, null, entries(round + 1, round + 1, 1), true);
                CompletableFuture<Long> unsynced = wal.append(CONTROLLER, hardState(1, round), List.of(), false);
                await(unsynced);
                assertTrue(synced.isDone(), "round " + round + ": the later append completed before the earlier one");
            }
        }
    }

    @Test
    void aDroppedGroupIsForgottenAndItsIdStartsOverEmpty() throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(DATA, hardState(3, 20), entries(1, 20, 3), true));
            await(wal.append(CONTROLLER, null, entries(1, 5, 1), true));
            wal.dropGroup(DATA).get(10, TimeUnit.SECONDS);
            assertEquals(0, wal.lastIndex(DATA));
            assertEquals(List.of(CONTROLLER), wal.groupIds());
            assertThrows(IllegalArgumentException.class, () -> wal.append(DATA, null, entries(21, 21, 3), true),
                    "the dropped group's log is gone: a new one starts at 1");
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertNull(contents.group(DATA), "recovery does not resurrect a dropped group");
            assertEquals(Set.of(DATA), contents.droppedGroups());
            assertEquals(entries(1, 5, 1), recoveredEntries(contents, CONTROLLER));
            await(wal.append(DATA, null, entries(1, 3, 9), true));
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(1, 3, 9), recoveredEntries(contents, DATA), "only the new group's records");
            assertEquals(HardState.getDefaultInstance(), contents.group(DATA).hardState(), "not the dropped group's hard state");
            assertEquals(Set.of(), contents.droppedGroups());
        }
    }

    @Test
    void snapshotMarkersAreKeptPerGroup() throws Exception {
        SnapshotMetadata controllerSnapshot = SnapshotMetadata.newBuilder().setIndex(8).setTerm(1)
                .setConfState(ConfState.newBuilder().addVoters(1)).build();
        SnapshotMetadata dataSnapshot = SnapshotMetadata.newBuilder().setIndex(4).setTerm(2).build();
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            await(wal.append(CONTROLLER, null, entries(1, 10, 1), true));
            await(wal.append(DATA, null, entries(1, 10, 2), true));
            await(wal.saveSnapshotMarker(CONTROLLER, controllerSnapshot, false));
            await(wal.saveSnapshotMarker(DATA, dataSnapshot, false));
        }
        try (Wal wal = Wal.open(oneMegabyte(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(List.of(new SnapshotMarker(controllerSnapshot, false)), contents.group(CONTROLLER).markers());
            assertEquals(List.of(new SnapshotMarker(dataSnapshot, false)), contents.group(DATA).markers());
        }
    }
}
