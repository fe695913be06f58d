package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.GROUP;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of damage the issue lists, with the behaviour recovery must show for it. */
class WalDamageTest {
    @TempDir
    Path dir;

    private WalOptions oneMegabyte() {
        return WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20);
    }

    private WalOptions smallSegments() {
        return oneMegabyte().withSegmentSizeBytes(64 * 1024);
    }

    /** Offsets of the records in a segment file, walking the headers up to the first blank one. */
    static List<Integer> recordOffsets(Path segment) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(segment)).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> offsets = new ArrayList<>();
        int position = 0;
        while (position + WalRecordCodec.HEADER_BYTES <= data.capacity() && data.getLong(position) != 0) {
            offsets.add(position);
            position += WalRecordCodec.recordBytes(data.getInt(position));
        }
        return offsets;
    }

    private Path segment(int position) throws IOException {
        List<SegmentName> names = WalRecovery.listSegments(dir);
        return dir.resolve(names.get(position < 0 ? names.size() + position : position).fileName());
    }

    private static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            raf.write(bytes);
        }
    }

    private static void flipBit(Path file, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int value = raf.read();
            raf.seek(offset);
            raf.write(value ^ 0x10);
        }
    }

    private void writeLargeEntries(int count) throws Exception {
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            for (int i = 1; i <= count; i++) {
                wal.append(GROUP, null, List.of(entry(i, 1, 2000)), true).get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static List<Entry> largeEntries(long from, long to, long term) {
        List<Entry> list = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            list.add(entry(i, term, 2000));
        }
        return list;
    }

    @Test
    void aTornTailIsTruncatedAndTheLogContinues() throws Exception {
        writeLargeEntries(20);
        Path last = segment(-1);
        List<Integer> offsets = recordOffsets(last);
        int lastRecord = offsets.get(offsets.size() - 1);
        // A power loss kept the header and the first sectors of the last record but not a later sector.
        int sector = ((lastRecord + WalRecordCodec.HEADER_BYTES + 511) / 512) * 512 + 512;
        overwrite(last, sector, new byte[512]);
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(largeEntries(1, 19, 1), recoveredEntries(contents));
            assertEquals(19, wal.lastIndex(GROUP));
            wal.append(GROUP, null, List.of(entry(20, 2, 2000)), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            List<Entry> expected = largeEntries(1, 19, 1);
            expected.add(entry(20, 2, 2000));
            assertEquals(expected, recoveredEntries(wal.takeRecovered()));
        }
    }

    @Test
    void aTornTailAmongSeveralGroupsKeepsEveryGroupsCompleteRecords() throws Exception {
        long[] groups = {0, 3, 1L << 40};
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            for (int i = 1; i <= 10; i++) {
                for (long group : groups) {
                    wal.append(group, null, List.of(entry(i, group + 1, 2000)), true).get(10, TimeUnit.SECONDS);
                }
            }
        }
        Path last = segment(-1);
        List<Integer> offsets = recordOffsets(last);
        int lastRecord = offsets.get(offsets.size() - 1);
        // The last record (entry 10 of the third group) lost a later sector.
        int sector = ((lastRecord + WalRecordCodec.HEADER_BYTES + 511) / 512) * 512 + 512;
        overwrite(last, sector, new byte[512]);
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(largeEntries(1, 10, 1), recoveredEntries(contents, 0));
            assertEquals(largeEntries(1, 10, 4), recoveredEntries(contents, 3));
            assertEquals(largeEntries(1, 9, (1L << 40) + 1), recoveredEntries(contents, 1L << 40), "only the torn record is lost");
            wal.append(1L << 40, null, List.of(entry(10, 7, 2000)), true).get(10, TimeUnit.SECONDS);
            wal.append(3, null, List.of(entry(11, 4, 2000)), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            List<Entry> third = largeEntries(1, 9, (1L << 40) + 1);
            third.add(entry(10, 7, 2000));
            assertEquals(third, recoveredEntries(contents, 1L << 40));
            assertEquals(largeEntries(1, 11, 4), recoveredEntries(contents, 3));
            assertEquals(largeEntries(1, 10, 1), recoveredEntries(contents, 0));
        }
    }

    /**
     * When the zero fill of the next segment lags, the writer starts a sparse segment instead. A
     * hole reads as zeros, so replay and torn-tail repair must work there exactly as in a filled one.
     */
    @Test
    void sparseSegmentsStartedWhileTheFillLagsReplayAndRepairLikeFilledOnes() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 10, 1), true).get(10, TimeUnit.SECONDS);
        }
        List<Runnable> heldFills = new ArrayList<>();
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL, SegmentChannelFactory.DEFAULT, heldFills::add)) {
            for (long i = 11; i <= 2000; i += 10) {
                wal.append(GROUP, null, entries(i, i + 9, 1), true).get(10, TimeUnit.SECONDS);
            }
            wal.append(GROUP, null, List.of(entry(2001, 1, 2000)), true).get(10, TimeUnit.SECONDS);
            assertTrue(wal.segmentCount() > 3, "segments " + wal.segmentCount());
            assertEquals(wal.segmentCount() - 1, wal.sparseSegmentCount(), "every cut found the fill unfinished");
        }
        List<Entry> written = new ArrayList<>(entries(1, 2000, 1));
        written.add(entry(2001, 1, 2000));
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            assertEquals(written, recoveredEntries(wal.takeRecovered()));
        }
        Path last = segment(-1);
        List<Integer> offsets = recordOffsets(last);
        int lastRecord = offsets.get(offsets.size() - 1);
        // Torn: a later sector of the last record never reached the disk (in a sparse file, a hole).
        int sector = ((lastRecord + WalRecordCodec.HEADER_BYTES + 511) / 512) * 512 + 512;
        overwrite(last, sector, new byte[512]);
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            assertEquals(entries(1, 2000, 1), recoveredEntries(wal.takeRecovered()), "the torn last append is dropped");
            wal.append(GROUP, null, entries(2001, 2005, 2), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            List<Entry> expected = new ArrayList<>(entries(1, 2000, 1));
            expected.addAll(entries(2001, 2005, 2));
            assertEquals(expected, recoveredEntries(wal.takeRecovered()));
        }
    }

    @Test
    void unacknowledgedBytesAfterAHoleAtTheTailAreDiscarded() throws Exception {
        writeLargeEntries(20);
        Path last = segment(-1);
        List<Integer> offsets = recordOffsets(last);
        int record19 = offsets.get(offsets.size() - 2);
        // The sectors holding record 19 never reached the disk, but the later ones of record 20 did.
        int from = record19;
        overwrite(last, from, new byte[offsets.get(offsets.size() - 1) - from]);
        try (Wal wal = Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL)) {
            assertEquals(largeEntries(1, 18, 1), recoveredEntries(wal.takeRecovered()));
        }
        byte[] after = Files.readAllBytes(last);
        for (int i = from; i < after.length; i++) {
            if (after[i] != 0) {
                throw new AssertionError("byte " + i + " after the repaired tail is not zero");
            }
        }
    }

    @Test
    void aBitFlipInAClosedSegmentStopsStartupNamingFileAndOffset() throws Exception {
        fillSmallSegments();
        Path damaged = segment(1);
        int record = recordOffsets(damaged).get(5);
        flipBit(damaged, record + WalRecordCodec.HEADER_BYTES + 3);
        byte[] before = Files.readAllBytes(damaged);
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), WalTestSupport.KEEP_ALL));
        assertEquals(damaged, error.file());
        assertEquals(record, error.offsetBytes());
        assertTrue(error.getMessage().contains(damaged.getFileName().toString()) && error.getMessage().contains("offset " + record),
                error.getMessage());
        assertArrayEquals(before, Files.readAllBytes(damaged), "a corrupt WAL is left as it is");
    }

    @Test
    void aBitFlipInTheMiddleOfTheLastSegmentIsCorruptionNotATornTail() throws Exception {
        writeLargeEntries(20);
        Path last = segment(-1);
        int record = recordOffsets(last).get(10);
        flipBit(last, record + WalRecordCodec.HEADER_BYTES + 700);
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL));
        assertEquals(record, error.offsetBytes());
    }

    @Test
    void aBitFlipInALengthFieldIsCaughtByTheHeaderChecksum() throws Exception {
        writeLargeEntries(20);
        Path last = segment(-1);
        int record = recordOffsets(last).get(10);
        flipBit(last, record + 2);
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(oneMegabyte(), WalTestSupport.KEEP_ALL));
        assertEquals(record, error.offsetBytes());
        assertTrue(error.getMessage().contains("header checksum"), error.getMessage());
    }

    @Test
    void aMissingSegmentStopsStartup() throws Exception {
        fillSmallSegments();
        Files.delete(segment(2));
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), WalTestSupport.KEEP_ALL));
        assertTrue(error.getMessage().contains("missing"), error.getMessage());
    }

    @Test
    void aMissingFirstSegmentWithoutSnapshotIsDetectedByIndex() throws Exception {
        fillSmallSegments();
        Files.delete(segment(0));
        // Sequence 1.. is contiguous, so recovery opens; the group's log then starts where the second
        // segment's header says it stood at the cut, which the caller (StoreLog) checks against its
        // snapshot. Here: the WAL reports where the log starts.
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            GroupContents contents = wal.takeRecovered().group(GROUP);
            assertTrue(contents.logStartIndex() > 1, "log start " + contents.logStartIndex());
            assertEquals(contents.logStartIndex() + 1, contents.entries().get(0).getIndex());
            assertEquals(2000, contents.lastIndex());
        }
    }

    @Test
    void aZeroLengthSegmentStopsStartup() throws Exception {
        fillSmallSegments();
        Path damaged = segment(1);
        Files.write(damaged, new byte[0]);
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), WalTestSupport.KEEP_ALL));
        assertEquals(damaged, error.file());
        assertTrue(error.getMessage().contains("empty"), error.getMessage());
    }

    @Test
    void aZeroLengthLastSegmentStopsStartupToo() throws Exception {
        fillSmallSegments();
        Path damaged = segment(-1);
        Files.write(damaged, new byte[0]);
        assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), WalTestSupport.KEEP_ALL));
    }

    @Test
    void aLastSegmentCutShortStopsStartup() throws Exception {
        fillSmallSegments();
        Path damaged = segment(-1);
        byte[] data = Files.readAllBytes(damaged);
        Files.write(damaged, java.util.Arrays.copyOf(data, 4096));
        WalCorruptionException error = assertThrows(WalCorruptionException.class, () -> Wal.open(smallSegments(), WalTestSupport.KEEP_ALL));
        assertTrue(error.getMessage().contains("cut short"), error.getMessage());
    }

    @Test
    void aBlankLastSegmentFromACrashDuringACutIsReused() throws Exception {
        fillSmallSegments();
        Path last = segment(-1);
        SegmentName name = SegmentName.parse(last.getFileName().toString());
        // Simulate a crash right after the rename of a new segment: preallocated, nothing written.
        // Its name counts the records before it: the last segment's first record number plus its records.
        Path blank = dir.resolve(new SegmentName(name.sequence() + 1, name.firstRecordNumber() + recordOffsets(last).size()).fileName());
        Files.write(blank, new byte[64 * 1024]);
        long lastIndex;
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            lastIndex = wal.lastIndex(GROUP);
            wal.append(GROUP, null, List.of(entry(lastIndex + 1, 1)), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            assertEquals(entries(1, lastIndex + 1, 1), recoveredEntries(wal.takeRecovered()));
        }
    }

    private void fillSmallSegments() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            for (long i = 1; i <= 2000; i += 50) {
                wal.append(GROUP, null, entries(i, i + 49, 1), true).get(10, TimeUnit.SECONDS);
            }
            assertTrue(wal.segmentCount() >= 4, "segments " + wal.segmentCount());
        }
    }
}
