package io.loomkv.persist.raft;

import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.SnapshotTemporarilyUnavailableException;
import io.loomkv.core.raft.SnapshotUnavailableException;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.wal.PinningGroup;
import io.loomkv.persist.wal.WalCorruptionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store's groups in one directory: created, recovered each from its own snapshots, removed, and freed when slow. */
class StoreLogTest {
    private static final ConfState VOTERS = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).build();

    @TempDir
    Path dir;

    private StoreLogOptions options() {
        return StoreLogOptions.defaults(dir).withSegmentSizeBytes(256 * 1024);
    }

    private static byte[] dataOf(long group, long index) {
        byte[] data = new byte[1000];
        new Random(group * 7919 + index).nextBytes(data);
        return data;
    }

    private static SnapshotMetadata snapshot(GroupStorage storage, long index) throws IOException {
        byte[] data = dataOf(storage.groupId(), index);
        return storage.createSnapshot(index, VOTERS, out -> out.write(data));
    }

    /** Appends entries {@code from..to} in batches of 100, the hard state's commit following them. */
    private static void append(GroupStorage storage, long from, long to) throws Exception {
        for (long start = from; start <= to; start += 100) {
            long end = Math.min(to, start + 99);
            storage.append(HardState.newBuilder().setTerm(1).setCommit(end).build(), entries(start, end, 1)).get(10, TimeUnit.SECONDS);
        }
    }

    /** The store's count of log bytes in memory follows appends, replaced tails, compactions, removals and restarts. */
    @Test
    void theStoreCountsTheEntryBytesItsGroupsHoldInMemory() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage a = log.createGroup(1);
            GroupStorage b = log.createGroup(2);
            append(a, 1, 300);
            append(b, 1, 200);
            assertEquals(bytes(a, 1, 300), a.entryBytesInMemory());
            assertEquals(bytes(a, 1, 300) + bytes(b, 1, 200), log.entryBytesInMemory());
            // A new leader's entries replace the tail from 251 on.
            a.append(HardState.newBuilder().setTerm(2).setCommit(250).build(), entries(251, 260, 2)).get(10, TimeUnit.SECONDS);
            assertEquals(260, a.lastIndex());
            assertEquals(bytes(a, 1, 260), a.entryBytesInMemory());
            snapshot(a, 200);
            a.compact(200);
            assertEquals(bytes(a, 201, 260), a.entryBytesInMemory());
            assertEquals(bytes(a, 201, 260) + bytes(b, 1, 200), log.entryBytesInMemory());
            log.removeGroup(2);
            assertEquals(bytes(a, 201, 260), log.entryBytesInMemory());
        }
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage a = log.group(1);
            assertEquals(bytes(a, a.firstIndex(), 260), a.entryBytesInMemory());
            assertEquals(a.entryBytesInMemory(), log.entryBytesInMemory());
        }
    }

    private static long bytes(GroupStorage storage, long from, long to) {
        return storage.entries(from, to + 1, Long.MAX_VALUE).stream().mapToLong(e -> e.getData().size()).sum();
    }

    @Test
    void aCreatedGroupIsEmptyDurableAndUnique() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(Set.of(), log.groups().keySet());
            GroupStorage controller = log.createGroup(0);
            assertEquals(0, controller.groupId());
            assertEquals(0, controller.lastIndex());
            assertEquals(1, controller.firstIndex());
            assertThrows(IllegalArgumentException.class, () -> log.createGroup(0), "a group is created once");
            assertThrows(IllegalArgumentException.class, () -> log.createGroup(-3));
            assertThrows(IllegalArgumentException.class, () -> log.group(4));
            assertTrue(Files.isDirectory(dir.resolve("snap").resolve("0")));
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(Set.of(0L), log.groups().keySet(), "a group with no entries yet survives a restart");
            assertEquals(HardState.getDefaultInstance(), log.group(0).initialState().hardState());
        }
    }

    @Test
    void groupsRecoverEachFromItsOwnSnapshotAndLog() throws Exception {
        long[] ids = {0, 1, 1L << 40};
        try (StoreLog log = StoreLog.open(options())) {
            for (long id : ids) {
                GroupStorage storage = log.createGroup(id);
                append(storage, 1, 300);
            }
            snapshot(log.group(0), 100);
            log.group(0).compact(100);
            snapshot(log.group(1L << 40), 250);
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(Set.of(0L, 1L, 1L << 40), log.groups().keySet());
            assertEquals(100, log.group(0).snapshotMetadata().getIndex());
            assertEquals(101, log.group(0).firstIndex());
            assertEquals(0, log.group(1).snapshotMetadata().getIndex());
            assertEquals(entries(1, 300, 1), log.group(1).entries(1, 301, Long.MAX_VALUE));
            assertEquals(250, log.group(1L << 40).snapshotMetadata().getIndex());
            for (long id : new long[] {0, 1L << 40}) {
                GroupStorage storage = log.group(id);
                assertEquals(300, storage.lastIndex());
                assertEquals(VOTERS, storage.initialState().confState());
                try (InputStream data = storage.openSnapshotData(1 << 20)) {
                    assertArrayEquals(dataOf(id, storage.snapshotMetadata().getIndex()), data.readAllBytes(), "group " + id);
                }
            }
        }
    }

    @Test
    void oneForceCoversTheAppendsOfManyGroups() throws Exception {
        int groups = 16;
        int appendsPerGroup = 100;
        try (StoreLog log = StoreLog.open(options())) {
            for (long id = 0; id < groups; id++) {
                log.createGroup(id);
            }
            long forcesBefore = log.walForceCount();
            List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (long id = 0; id < groups; id++) {
                GroupStorage storage = log.group(id);
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        for (long index = 1; index <= appendsPerGroup; index++) {
                            storage.append(null, List.of(entry(index, 1))).get(10, TimeUnit.SECONDS);
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                }));
            }
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(List.of(), errors);
            long forces = log.walForceCount() - forcesBefore;
            assertTrue(forces < groups * appendsPerGroup / 2, "group commit across groups: " + forces + " forces for "
                    + groups * appendsPerGroup + " appends");
        }
    }

    @Test
    void aCommitOnlyHardStateCausesNoForce() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage storage = log.createGroup(2);
            append(storage, 1, 10);
            long forces = log.walForceCount();
            for (long commit = 1; commit <= 10; commit++) {
                storage.append(HardState.newBuilder().setTerm(1).setCommit(commit).build(), List.of(), false).get(10, TimeUnit.SECONDS);
            }
            assertEquals(forces, log.walForceCount());
            assertEquals(10, storage.initialState().hardState().getCommit());
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(10, log.group(2).initialState().hardState().getCommit(), "made durable when the store closed");
        }
    }

    @Test
    void aRemovedGroupLosesItsRecordsAndSnapshotsAndStaysGone() throws Exception {
        GroupStorage removed;
        try (StoreLog log = StoreLog.open(options())) {
            removed = log.createGroup(5);
            append(removed, 1, 50);
            snapshot(removed, 40);
            append(log.createGroup(6), 1, 5);
            log.removeGroup(5);
            assertFalse(Files.exists(dir.resolve("snap").resolve("5")));
            assertEquals(Set.of(6L), log.groups().keySet());
            assertThrows(IllegalStateException.class, () -> removed.append(null, entries(51, 51, 1)), "a removed group refuses writes");
            assertThrows(IllegalArgumentException.class, () -> log.removeGroup(5));
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(Set.of(6L), log.groups().keySet(), "recovery does not bring a removed group back");
            GroupStorage again = log.createGroup(5);
            assertEquals(0, again.lastIndex(), "the id starts over empty");
            assertEquals(0, again.snapshotMetadata().getIndex());
        }
    }

    @Test
    void snapshotsLeftByACrashRightAfterARemovalAreDeletedAtTheNextStart() throws Exception {
        Path saved = dir.resolveSibling(dir.getFileName() + "-saved-snap");
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage storage = log.createGroup(5);
            append(storage, 1, 50);
            snapshot(storage, 40);
            copyTree(dir.resolve("snap").resolve("5"), saved);
            log.removeGroup(5);
        }
        copyTree(saved, dir.resolve("snap").resolve("5")); // as if the crash came before the directory was deleted
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(Set.of(), log.groups().keySet());
            assertFalse(Files.exists(dir.resolve("snap").resolve("5")));
        }
    }

    @Test
    void snapshotsOfAGroupTheWalNeverHeldStopStartup() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            append(log.createGroup(1), 1, 5);
        }
        Files.createDirectories(dir.resolve("snap").resolve("77"));
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> StoreLog.open(options()));
        assertTrue(error.getMessage().contains("group 77"), error.getMessage());
        assertTrue(Files.exists(dir.resolve("snap").resolve("77")), "nothing is deleted");
        Files.delete(dir.resolve("snap").resolve("77"));
        Files.write(dir.resolve("snap").resolve("0000000000000001-0000000000000005.snap"), new byte[10]);
        IOException layout = assertThrows(IOException.class, () -> StoreLog.open(options()));
        assertTrue(layout.getMessage().contains("single-group layout"), layout.getMessage());
    }

    @Test
    void aDamagedSnapshotOfOneGroupFallsBackForThatGroupOnly() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            for (long id : new long[] {1, 2}) {
                GroupStorage storage = log.createGroup(id);
                append(storage, 1, 3000);
                snapshot(storage, 1000);
                snapshot(storage, 2000);
                storage.compact(2000);
            }
        }
        Path newest;
        try (Stream<Path> files = Files.list(dir.resolve("snap").resolve("1"))) {
            newest = files.filter(p -> p.toString().endsWith(".snap")).sorted().toList().get(1);
        }
        try (RandomAccessFile file = new RandomAccessFile(newest.toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0x20);
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(1000, log.group(1).snapshotMetadata().getIndex(), "group 1 falls back to its previous snapshot");
            assertEquals(entries(1001, 1010, 1), log.group(1).entries(1001, 1011, Long.MAX_VALUE), "and its log after it");
            assertEquals(2000, log.group(2).snapshotMetadata().getIndex(), "group 2 keeps its newest");
            assertEquals(3000, log.group(2).lastIndex());
        }
    }

    @Test
    void whenEverySnapshotOfAGroupIsDamagedTheWalIsReadAgainForItsWholeLog() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage storage = log.createGroup(1);
            append(storage, 1, 3000);
            snapshot(storage, 1000);
            snapshot(storage, 2000);
            storage.compact(2000);
            append(log.createGroup(2), 1, 10);
        }
        try (Stream<Path> files = Files.list(dir.resolve("snap").resolve("1"))) {
            for (Path file : files.filter(p -> p.toString().endsWith(".snap")).toList()) {
                Files.write(file, new byte[100]);
            }
        }
        // The first read kept group 1's entries above 1000 only, its oldest snapshot; with none usable it needs them all.
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(0, log.group(1).snapshotMetadata().getIndex());
            assertEquals(1, log.group(1).firstIndex());
            assertEquals(entries(1, 3000, 1), log.group(1).entries(1, 3001, Long.MAX_VALUE));
            assertEquals(entries(1, 10, 1), log.group(2).entries(1, 11, Long.MAX_VALUE));
        }
    }

    @Test
    void aSlowGroupIsReportedThenFreedBySnapshotAndRelease() throws Exception {
        StoreLogOptions bounded = options().withMaxRetainedSegments(2);
        try (StoreLog log = StoreLog.open(bounded)) {
            GroupStorage slow = log.createGroup(1);
            GroupStorage busy = log.createGroup(2);
            append(slow, 1, 5);
            long next = fillUntil(log, busy, 4);
            snapshot(busy, next - 1); // releases only up to its previous snapshot: none yet
            assertEquals(List.of(new PinningGroup(1, 5, 1)), log.pinningGroups().stream().filter(p -> p.groupId() == 1).toList(),
                    "the slow group holds the first segment; " + log.pinningGroups());
            snapshot(slow, 5);
            assertEquals(0, slow.releaseWalTo(0));
            assertThrows(IllegalArgumentException.class, () -> slow.releaseWalTo(6), "beyond its snapshot");
            slow.releaseWalTo(5);
            busy.releaseWalTo(busy.snapshotMetadata().getIndex());
            assertEquals(List.of(), log.pinningGroups());
            assertTrue(log.walSegmentCount() <= 2, "segments " + log.walSegmentCount());
            assertEquals(log.walSegmentCount() * 256L * 1024, log.walSegmentBytes());
        }
    }

    @Test
    void aSlowGroupThatCannotSnapshotIsFreedByARewrite() throws Exception {
        StoreLogOptions bounded = options().withMaxRetainedSegments(2);
        try (StoreLog log = StoreLog.open(bounded)) {
            GroupStorage slow = log.createGroup(1);
            GroupStorage busy = log.createGroup(2);
            append(slow, 1, 5);
            long next = fillUntil(log, busy, 4);
            snapshot(busy, next - 1);
            busy.releaseWalTo(next - 1);
            assertEquals(List.of(1L), log.pinningGroups().stream().map(PinningGroup::groupId).toList());
            assertEquals(5, slow.rewrite());
            assertEquals(List.of(), log.pinningGroups());
            assertEquals(1, log.walSegmentCount());
        }
        try (StoreLog log = StoreLog.open(bounded)) {
            assertEquals(entries(1, 5, 1), log.group(1).entries(1, 6, Long.MAX_VALUE));
            assertEquals(5, log.group(1).initialState().hardState().getCommit());
        }
    }

    /** Appends 4 KB entries to {@code storage} until the WAL has {@code segments} segments; returns the next index. */
    /**
     * A checkpoint compacts the log with no file: the group restarts from the newest point of
     * either kind, a follower's need for a file is told once and refused until a file exists, and
     * the file may then be written at the checkpoint's own index.
     */
    @Test
    void aCheckpointCompactsWithoutAFileAndAFollowerWaitsForOne() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage storage = log.createGroup(3);
            append(storage, 1, 300);
            snapshot(storage, 100);
            SnapshotMetadata checkpoint = storage.recordCheckpoint(200, VOTERS);
            storage.compact(200);
            assertEquals(200, checkpoint.getIndex());
            assertEquals(checkpoint, storage.snapshotMetadata());
            assertEquals(100, storage.snapshotFileMetadata().getIndex());
            assertThrows(IllegalArgumentException.class, () -> storage.recordCheckpoint(200, VOTERS), "not newer");
            assertThrows(IllegalArgumentException.class, () -> snapshot(storage, 150), "behind the checkpoint");
        }
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage storage = log.group(3);
            assertEquals(200, storage.snapshotMetadata().getIndex());
            assertTrue(storage.startsAtCheckpoint());
            assertEquals(201, storage.firstIndex());
            assertEquals(entries(201, 300, 1), storage.entries(201, 301, Long.MAX_VALUE));
            assertEquals(VOTERS, storage.initialState().confState());
            assertTrue(storage.initialState().hardState().getCommit() >= 200, "a checkpoint proves its index committed");
            assertEquals(100, storage.snapshotFileMetadata().getIndex(), "the older file is still there for backups");

            int[] told = new int[1];
            storage.onSnapshotFileWanted(() -> told[0]++);
            assertThrows(SnapshotTemporarilyUnavailableException.class, storage::snapshotForTransfer);
            assertThrows(SnapshotTemporarilyUnavailableException.class, storage::snapshotForTransfer);
            assertEquals(1, told[0], "the runtime is told once per need");
            assertTrue(storage.snapshotFileWanted());
            assertThrows(SnapshotUnavailableException.class,
                    () -> storage.readSnapshotChunk(storage.snapshotMetadata(), 0, 1024), "a checkpoint has nothing to read");

            SnapshotMetadata file = snapshot(storage, 200);
            assertFalse(storage.startsAtCheckpoint());
            assertFalse(storage.snapshotFileWanted());
            assertEquals(file, storage.snapshotForTransfer());
            assertEquals(file, storage.snapshotMetadata());
            assertEquals(file.getSizeBytes(), storage.readSnapshotChunk(file, 0, 1 << 20).size());
            try (InputStream data = storage.openSnapshotData(1 << 20)) {
                assertArrayEquals(dataOf(3, 200), data.readAllBytes());
            }
            // A later checkpoint leaves the file sendable while the log still reaches back to it.
            storage.recordCheckpoint(250, VOTERS);
            storage.compact(220);
            assertThrows(SnapshotTemporarilyUnavailableException.class, storage::snapshotForTransfer);
            assertEquals(2, told[0]);
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(250, log.group(3).snapshotMetadata().getIndex());
            assertEquals(200, log.group(3).snapshotFileMetadata().getIndex());
        }
    }

    /** Checkpoints free the WAL as snapshots do, and their markers outlive the segments they were written in. */
    @Test
    void checkpointMarkersSurviveInSegmentHeadersAndFreeTheWal() throws Exception {
        StoreLogOptions bounded = options().withMaxRetainedSegments(3);
        long last;
        try (StoreLog log = StoreLog.open(bounded)) {
            GroupStorage busy = log.createGroup(1);
            long next = 1;
            for (int round = 0; round < 6; round++) {
                next = fillUntil(log, busy, log.walSegmentCount() + 2);
                busy.recordCheckpoint(next - 1, VOTERS);
                busy.compact(next - 1);
            }
            last = next - 1;
            assertEquals(List.of(), log.pinningGroups());
            assertTrue(log.walSegmentCount() <= 4, "segments " + log.walSegmentCount());
        }
        try (StoreLog log = StoreLog.open(bounded)) {
            GroupStorage busy = log.group(1);
            assertEquals(last, busy.snapshotMetadata().getIndex());
            assertTrue(busy.startsAtCheckpoint());
            assertEquals(last, busy.lastIndex());
            assertEquals(0, busy.snapshotFileMetadata().getIndex());
        }
    }

    private static long fillUntil(StoreLog log, GroupStorage storage, int segments) throws Exception {
        long next = storage.lastIndex() + 1;
        while (log.walSegmentCount() < segments) {
            storage.append(null, List.of(entry(next, 1, 4000))).get(10, TimeUnit.SECONDS);
            next++;
        }
        return next;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }
}
