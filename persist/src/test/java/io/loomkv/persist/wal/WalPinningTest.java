package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.KEEP_ALL;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Segments shared by several groups go only once every group is done with them; slow groups are reported and can be freed. */
class WalPinningTest {
    private static final long SLOW = 11;
    private static final long BUSY = 12;
    private static final long OTHER = 13;
    private static final HardState SLOW_STATE = HardState.newBuilder().setTerm(2).setVote(3).setCommit(1).build();

    @TempDir
    Path dir;

    private WalOptions smallSegments() {
        return WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024);
    }

    private static long await(CompletableFuture<Long> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    /** Appends 4 KB entries to {@code group} from index {@code next} until the WAL has {@code segments} segments; returns the next index. */
    private static long fillUntil(Wal wal, long group, long next, int segments) throws Exception {
        while (wal.segmentCount() < segments) {
            await(wal.append(group, null, List.of(entry(next, 1, 4000)), true));
            next++;
        }
        return next;
    }

    /** A slow group with three entries in the first segment, then a busy group filling five segments and releasing all it wrote. */
    private Wal slowGroupBehindBusyOne(WalOptions options) throws Exception {
        Wal wal = Wal.open(options, KEEP_ALL);
        await(wal.append(SLOW, SLOW_STATE, entries(1, 3, 2), true));
        long next = fillUntil(wal, BUSY, 1, 5);
        assertEquals(0, wal.releaseTo(BUSY, next - 1).get(10, TimeUnit.SECONDS), "the slow group still needs the first segment");
        assertEquals(5, wal.segmentCount());
        return wal;
    }

    @Test
    void aSegmentGoesOnlyOnceEveryGroupThatWroteInItReleasedIt() throws Exception {
        long busyLast;
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            await(wal.append(SLOW, null, entries(1, 5, 1), true));
            busyLast = fillUntil(wal, BUSY, 1, 3) - 1;
            await(wal.append(SLOW, null, entries(6, 6, 1), true));
            assertEquals(0, wal.releaseTo(BUSY, busyLast).get(10, TimeUnit.SECONDS), "the first segment holds the slow group's entries");
            assertEquals(3, wal.segmentCount());
            assertEquals(0, wal.releaseTo(SLOW, 4).get(10, TimeUnit.SECONDS), "its log stood at 5 when the first segment was cut");
            assertEquals(2, wal.releaseTo(SLOW, 5).get(10, TimeUnit.SECONDS), "both older segments go, never the current one");
            assertEquals(1, wal.segmentCount());
            assertEquals(0, wal.releaseTo(SLOW, 6).get(10, TimeUnit.SECONDS));
            assertEquals(1, wal.segmentCount(), "the segment being written stays");
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(5, contents.group(SLOW).logStartIndex(), "the segment header says where the slow group's log went on");
            assertEquals(entries(6, 6, 1), recoveredEntries(contents, SLOW));
            // The busy group's last entry caused the cut, so it is in the segment that stayed.
            assertEquals(busyLast - 1, contents.group(BUSY).logStartIndex());
            assertEquals(List.of(entry(busyLast, 1, 4000)), contents.group(BUSY).entries());
        }
    }

    @Test
    void aSlowGroupIsReportedAndFreedBySnapshotAndRelease() throws Exception {
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder().setIndex(3).setTerm(2).build();
        try (Wal wal = slowGroupBehindBusyOne(smallSegments().withMaxRetainedSegments(2))) {
            assertEquals(List.of(new PinningGroup(SLOW, 3, 1)), wal.pinningGroups(),
                    "the slow group holds the oldest of the 3 segments beyond the bound; the busy one released");
            await(wal.saveSnapshotMarker(SLOW, snapshot, false));
            assertEquals(4, wal.releaseTo(SLOW, 3).get(10, TimeUnit.SECONDS));
            assertEquals(1, wal.segmentCount());
            assertEquals(List.of(), wal.pinningGroups());
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            GroupContents slow = wal.takeRecovered().group(SLOW);
            assertEquals(SLOW_STATE, slow.hardState(), "kept by the segment header");
            assertEquals(List.of(new SnapshotMarker(snapshot, false)), slow.markers());
            assertEquals(3, slow.logStartIndex());
            assertEquals(3, slow.lastIndex());
        }
    }

    @Test
    void aSlowGroupThatCannotSnapshotIsFreedByARewrite() throws Exception {
        try (Wal wal = slowGroupBehindBusyOne(smallSegments().withMaxRetainedSegments(2))) {
            assertEquals(1, wal.pinningGroups().size());
            assertEquals(3, await(wal.rewrite(SLOW, SLOW_STATE, entries(1, 3, 2))));
            assertEquals(1, wal.segmentCount(), "once the rewrite is durable no older segment holds anything anybody needs");
            assertEquals(List.of(), wal.pinningGroups());
            await(wal.append(SLOW, null, entries(4, 4, 2), true));
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            GroupContents slow = wal.takeRecovered().group(SLOW);
            assertEquals(0, slow.logStartIndex());
            assertEquals(entries(1, 4, 2), slow.entries(), "the rewritten copy, then what came after it");
            assertEquals(SLOW_STATE, slow.hardState());
        }
    }

    @Test
    void recoveryReadsBothCopiesOfARewrittenLogAndTheLaterOneWins() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            await(wal.append(OTHER, null, entries(1, 2, 1), true)); // never released: the old segments stay
            await(wal.append(SLOW, SLOW_STATE, entries(1, 6, 2), true));
            long next = fillUntil(wal, BUSY, 1, 3);
            await(wal.releaseTo(BUSY, next - 1).thenApply(Integer::longValue));
            // A snapshot at 2 covers the start of the log: the rewrite keeps 3..6 only.
            assertEquals(6, await(wal.rewrite(SLOW, SLOW_STATE, entries(3, 6, 2))));
            assertEquals(3, wal.segmentCount(), "another group still holds the first segment");
            assertThrows(IllegalArgumentException.class, () -> wal.append(SLOW, null, entries(2, 2, 3), true),
                    "the log starts after 2 now");
            await(wal.append(SLOW, null, entries(5, 5, 3), true));
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            GroupContents slow = wal.takeRecovered().group(SLOW);
            assertEquals(2, slow.logStartIndex(), "the rewrite, read after the original, decides where the log starts");
            List<Entry> expected = new ArrayList<>(entries(3, 4, 2));
            expected.addAll(entries(5, 5, 3));
            assertEquals(expected, slow.entries());
            assertEquals(5, slow.lastIndex());
        }
    }

    @Test
    void aRewriteCutShortByACrashChangesNothing() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            await(wal.append(OTHER, null, entries(1, 2, 1), true));
            await(wal.append(SLOW, SLOW_STATE, entries(1, 3, 2), true));
            fillUntil(wal, BUSY, 1, 2);
            await(wal.rewrite(SLOW, SLOW_STATE, entries(1, 3, 2)));
        }
        Path last = segment(-1);
        List<Integer> offsets = WalDamageTest.recordOffsets(last);
        int end = offsets.get(offsets.size() - 1);
        int firstRewritten = offsets.get(offsets.size() - 4);
        assertEquals(WalRecordType.REWRITE_END.code(), typeAt(last, end));
        assertEquals(WalRecordType.REWRITTEN_ENTRY.code(), typeAt(last, firstRewritten));
        // The crash came when two of the three rewritten entries had reached the disk: a rewrite
        // read as ordinary entries would cut the log after them and lose entry 3.
        int thirdRewritten = offsets.get(offsets.size() - 2);
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.seek(thirdRewritten);
            file.write(new byte[(int) (file.length() - thirdRewritten)]);
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            GroupContents slow = wal.takeRecovered().group(SLOW);
            assertEquals(entries(1, 3, 2), slow.entries(), "the original copy stands");
            assertEquals(0, slow.logStartIndex());
            byte[] bytes = Files.readAllBytes(last);
            for (int i = firstRewritten; i < bytes.length; i++) {
                assertEquals(0, bytes[i], "the rewrite's records were cleared, byte " + i);
            }
            await(wal.append(SLOW, null, entries(4, 4, 2), true));
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            assertEquals(entries(1, 4, 2), recoveredEntries(wal.takeRecovered(), SLOW));
        }
    }

    @Test
    void aRewriteWithoutItsEndRecordInAClosedSegmentIsCorruption() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            await(wal.append(SLOW, SLOW_STATE, entries(1, 3, 2), true));
            await(wal.rewrite(SLOW, SLOW_STATE, entries(1, 3, 2)));
            fillUntil(wal, BUSY, 1, 2);
        }
        Path closed = segment(0);
        List<Integer> offsets = WalDamageTest.recordOffsets(closed);
        int end = offsets.stream().filter(offset -> typeAtUnchecked(closed, offset) == WalRecordType.REWRITE_END.code()).findFirst()
                .orElseThrow();
        int firstRewritten = offsets.get(offsets.indexOf(end) - 3);
        try (RandomAccessFile file = new RandomAccessFile(closed.toFile(), "rw")) {
            file.seek(end);
            file.write(new byte[WalRecordCodec.HEADER_BYTES]);
        }
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), KEEP_ALL));
        assertEquals(closed, error.file());
        assertEquals(firstRewritten, error.offsetBytes());
        assertTrue(error.getMessage().contains("no end record"), error.getMessage());
    }

    @Test
    void aRewriteMustBeASuffixOfTheLogAndFitOneAppend() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            await(wal.append(SLOW, SLOW_STATE, entries(1, 5, 2), true));
            assertThrows(IllegalArgumentException.class, () -> wal.rewrite(SLOW, SLOW_STATE, entries(1, 4, 2)), "not up to the last index");
            assertThrows(IllegalArgumentException.class, () -> wal.rewrite(SLOW, SLOW_STATE, List.of(entry(4, 2), entry(6, 2))), "a gap");
            assertThrows(IllegalArgumentException.class, () -> wal.rewrite(BUSY, SLOW_STATE, List.of()), "an unknown group");
            List<Entry> huge = new ArrayList<>();
            for (long i = 1; i <= 5; i++) {
                huge.add(entry(i, 2, 8000));
            }
            IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> wal.rewrite(SLOW, SLOW_STATE, huge));
            assertTrue(tooLarge.getMessage().contains("snapshot"), tooLarge.getMessage());
            assertEquals(5, await(wal.rewrite(SLOW, SLOW_STATE, List.of())), "an empty log after a snapshot at its last index");
            assertThrows(IllegalArgumentException.class, () -> wal.append(SLOW, null, entries(5, 5, 3), true),
                    "after an empty rewrite the log starts after 5");
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            GroupContents slow = wal.takeRecovered().group(SLOW);
            assertEquals(5, slow.logStartIndex());
            assertEquals(List.of(), slow.entries());
        }
    }

    @Test
    void aDroppedGroupNoLongerHoldsSegments() throws Exception {
        try (Wal wal = slowGroupBehindBusyOne(smallSegments().withMaxRetainedSegments(2))) {
            wal.dropGroup(SLOW).get(10, TimeUnit.SECONDS);
            assertEquals(1, wal.segmentCount(), "the drop freed every older segment");
            assertEquals(List.of(), wal.pinningGroups());
        }
        try (Wal wal = Wal.open(smallSegments(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertNull(contents.group(SLOW));
            assertEquals(List.of(BUSY), wal.groupIds());
        }
    }

    @Test
    void pinsSurviveARestartAndReleasesAfterItDeleteAsBefore() throws Exception {
        long busyLast;
        try (Wal wal = slowGroupBehindBusyOne(smallSegments().withMaxRetainedSegments(2))) {
            busyLast = wal.lastIndex(BUSY);
        }
        try (Wal wal = Wal.open(smallSegments().withMaxRetainedSegments(2), KEEP_ALL)) {
            // Releases are not persisted: after a restart every group must release again.
            assertEquals(List.of(SLOW, BUSY), wal.pinningGroups().stream().map(PinningGroup::groupId).toList());
            assertEquals(0, wal.releaseTo(SLOW, 3).get(10, TimeUnit.SECONDS));
            assertEquals(4, wal.releaseTo(BUSY, busyLast).get(10, TimeUnit.SECONDS));
            assertEquals(List.of(), wal.pinningGroups());
        }
    }

    private Path segment(int position) throws Exception {
        List<SegmentName> names = WalRecovery.listSegments(dir);
        return dir.resolve(names.get(position < 0 ? names.size() + position : position).fileName());
    }

    private static int typeAt(Path segment, int offset) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(segment)).order(ByteOrder.LITTLE_ENDIAN).get(offset + 4);
    }

    private static int typeAtUnchecked(Path segment, int offset) {
        try {
            return typeAt(segment, offset);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
