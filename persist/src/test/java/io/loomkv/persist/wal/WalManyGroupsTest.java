package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.KEEP_ALL;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.ConfState;
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

/** A store's worth of groups: segment headers that carry a thousand groups, their bound, and the segment format. */
class WalManyGroupsTest {
    private static final int GROUPS = 1000;

    @TempDir
    Path dir;

    /** 1 MiB segments, and a batch buffer of 8 KiB so that a thousand groups' header spans many writes. */
    private WalOptions thousandGroupOptions() {
        WalOptions defaults = WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20);
        return new WalOptions(dir, defaults.segmentSizeBytes(), 8192, defaults.maxAppendBytes(), defaults.queueCapacity(),
                defaults.maxSyncDelayMicros(), true, false, defaults.maxRetainedSegments());
    }

    private static HardState hardStateOf(long group) {
        return HardState.newBuilder().setTerm(group + 1).setVote(group % 3 + 1).setCommit(2).build();
    }

    private static SnapshotMetadata snapshotOf(long group) {
        return SnapshotMetadata.newBuilder().setIndex(2).setTerm(group + 1)
                .setConfState(ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(group + 3)).build();
    }

    @Test
    void aThousandGroupsSurviveACutAndTheDeletionOfEveryOlderSegment() throws Exception {
        long bigGroupLast;
        try (Wal wal = Wal.open(thousandGroupOptions(), KEEP_ALL)) {
            List<CompletableFuture<Long>> pending = new ArrayList<>();
            for (long group = 0; group < GROUPS; group++) {
                pending.add(wal.append(group, hardStateOf(group), entries(1, 2, group + 1), true));
            }
            for (long group = 0; group < GROUPS; group++) {
                pending.add(wal.saveSnapshotMarker(group, snapshotOf(group), false));
            }
            for (CompletableFuture<Long> future : pending) {
                assertEquals(2, future.get(30, TimeUnit.SECONDS));
            }
            long next = 3;
            while (wal.segmentCount() < 2) {
                wal.append(0, null, List.of(entry(next, 1, 30_000)), true).get(10, TimeUnit.SECONDS);
                next++;
            }
            bigGroupLast = next - 1;
            List<CompletableFuture<Integer>> releases = new ArrayList<>();
            for (long group = 1; group < GROUPS; group++) {
                releases.add(wal.releaseTo(group, 2));
            }
            int deleted = 0;
            for (CompletableFuture<Integer> release : releases) {
                deleted += release.get(30, TimeUnit.SECONDS);
            }
            assertEquals(0, deleted, "group 0 still needs the first segment");
            assertEquals(1, (int) wal.releaseTo(0, bigGroupLast - 1).get(10, TimeUnit.SECONDS), "the last group released it");
            assertEquals(1, wal.segmentCount());
        }
        Path only = dir.resolve(WalRecovery.listSegments(dir).get(0).fileName());
        List<Integer> offsets = WalDamageTest.recordOffsets(only);
        assertTrue(offsets.get(1 + 2 * GROUPS) > 8192 * 5, "the header spans many batch buffers: " + offsets.get(1 + 2 * GROUPS));
        try (Wal wal = Wal.open(thousandGroupOptions(), KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(GROUPS, contents.groups().size());
            for (long group = 1; group < GROUPS; group++) {
                GroupContents recovered = contents.group(group);
                assertEquals(hardStateOf(group), recovered.hardState(), "group " + group);
                assertEquals(List.of(new SnapshotMarker(snapshotOf(group), false)), recovered.markers(), "group " + group);
                assertEquals(2, recovered.logStartIndex(), "group " + group);
                assertEquals(2, recovered.lastIndex(), "group " + group);
            }
            GroupContents big = contents.group(0);
            assertEquals(bigGroupLast - 1, big.logStartIndex());
            assertEquals(List.of(entry(bigGroupLast, 1, 30_000)), big.entries());
            // Every group goes on from where it was.
            for (long group = 0; group < GROUPS; group += 100) {
                long last = wal.lastIndex(group);
                assertEquals(last + 1, wal.append(group, null, entries(last + 1, last + 1, group + 1), true).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void moreGroupsThanASegmentHeaderCanHoldAreRefusedClearly() throws Exception {
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024);
        long accepted = 0;
        try (Wal wal = Wal.open(options, KEEP_ALL)) {
            IllegalArgumentException refused = null;
            for (long group = 0; group < 1000 && refused == null; group++) {
                try {
                    wal.append(group, null, entries(1, 1, 1), true);
                    accepted++;
                } catch (IllegalArgumentException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null && refused.getMessage().contains("use larger segments"), String.valueOf(refused));
            // (64 KiB - 32 KiB for the largest append - 48 for the header record) / 72 per group
            assertEquals((64 * 1024 - options.maxAppendBytes() - SegmentHeader.RECORD_BYTES) / Wal.GROUP_STATE_RECORD_MAX_BYTES, accepted);
            assertEquals(accepted, wal.groupIds().size(), "the refused group was not created");
            assertEquals(2, wal.append(0, null, entries(2, 2, 1), true).get(10, TimeUnit.SECONDS), "known groups go on");
            long next = 3;
            while (wal.segmentCount() < 3) {
                wal.append(0, null, List.of(entry(next++, 1, 20_000)), true).get(10, TimeUnit.SECONDS);
            }
        }
        try (Wal wal = Wal.open(options, KEEP_ALL)) {
            assertEquals(accepted, wal.takeRecovered().groups().size());
        }
    }

    @Test
    void aSegmentOfTheSingleGroupFormatIsRefusedByName() throws Exception {
        // A version 1 segment as the single-group WAL wrote it: header, then records without group ids.
        ByteBuffer header = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(0, SegmentHeader.MAGIC).putInt(8, SegmentHeader.SINGLE_GROUP_VERSION).putLong(16, 0).putLong(24, 1);
        byte[] segment = new byte[64 * 1024];
        byte[] headerRecord = WalRecordCodec.encode(WalRecordType.SEGMENT_HEADER, header.array());
        byte[] entryRecord = WalRecordCodec.encode(WalRecordType.ENTRY, entry(1, 1));
        System.arraycopy(headerRecord, 0, segment, 0, headerRecord.length);
        System.arraycopy(entryRecord, 0, segment, headerRecord.length, entryRecord.length);
        Files.createDirectories(dir);
        Path path = dir.resolve(new SegmentName(0, 1).fileName());
        Files.write(path, segment);
        Files.write(dir.resolve("preallocated.wal.tmp"), new byte[100]);
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(WalOptions.defaults(dir), KEEP_ALL));
        assertEquals(path, error.file());
        assertTrue(error.getMessage().contains("single-group WAL format"), error.getMessage());
        assertArrayEquals(segment, Files.readAllBytes(path), "a refused WAL is left as it is");
        assertTrue(Files.exists(dir.resolve("preallocated.wal.tmp")), "nothing in the directory changes");
    }

    @Test
    void aClosedSegmentThatLostItsLastRecordsStopsStartup() throws Exception {
        // Zeros where records were read as the end of a segment; only the next segment's name shows that records are missing.
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024), KEEP_ALL)) {
            long next = 1;
            while (wal.segmentCount() < 3) {
                wal.append(3, HardState.newBuilder().setTerm(1).setCommit(next).build(), List.of(entry(next, 1, 1000)), true)
                        .get(10, TimeUnit.SECONDS);
                wal.append(4, HardState.newBuilder().setTerm(1).setCommit(next).build(), List.of(), true).get(10, TimeUnit.SECONDS);
                next++;
            }
        }
        Path closed = dir.resolve(WalRecovery.listSegments(dir).get(1).fileName());
        List<Integer> offsets = WalDamageTest.recordOffsets(closed);
        try (RandomAccessFile file = new RandomAccessFile(closed.toFile(), "rw")) {
            file.seek(offsets.get(offsets.size() - 1));
            file.write(new byte[(int) (file.length() - offsets.get(offsets.size() - 1))]);
        }
        WalCorruptionException error = assertThrows(WalCorruptionException.class,
                () -> Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024), KEEP_ALL));
        assertTrue(error.getMessage().contains("records are missing"), error.getMessage());
        assertEquals(WalRecovery.listSegments(dir).get(2).fileName(), error.file().getFileName().toString());
    }

    @Test
    void aLastSegmentWhoseHeaderWasCutShortIsWrittenAgain() throws Exception {
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024);
        try (Wal wal = Wal.open(options, KEEP_ALL)) {
            for (long group = 0; group < 10; group++) {
                wal.append(group, HardState.newBuilder().setTerm(group + 1).build(), entries(1, 3, 1), true).get(10, TimeUnit.SECONDS);
            }
            long next = 4;
            while (wal.segmentCount() < 2) {
                wal.append(0, null, List.of(entry(next++, 1, 4000)), true).get(10, TimeUnit.SECONDS);
            }
        }
        // The crash came during the cut: the header record and 4 of the 10 group states reached the disk, nothing after them.
        Path last = dir.resolve(WalRecovery.listSegments(dir).get(1).fileName());
        List<Integer> offsets = WalDamageTest.recordOffsets(last);
        try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
            file.seek(offsets.get(5));
            file.write(new byte[(int) (file.length() - offsets.get(5))]);
        }
        long lastIndex;
        try (Wal wal = Wal.open(options, KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(10, contents.groups().size());
            lastIndex = contents.group(0).lastIndex();
            assertEquals(HardState.newBuilder().setTerm(10).build(), contents.group(9).hardState());
            assertEquals(1 + 10, WalDamageTest.recordOffsets(last).size(), "the whole header was written again");
            wal.append(9, null, entries(4, 4, 1), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(options, KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(1, 4, 1), contents.group(9).entries());
            assertEquals(lastIndex, contents.group(0).lastIndex());
        }
    }
}
