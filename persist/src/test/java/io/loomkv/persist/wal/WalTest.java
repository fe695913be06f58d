package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.GROUP;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalTest {
    @TempDir
    Path dir;

    private WalOptions smallSegments() {
        return WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024);
    }

    @Test
    void appendedEntriesAndHardStateSurviveReopen() throws Exception {
        HardState hardState = HardState.newBuilder().setTerm(3).setVote(2).setCommit(40).build();
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 20, 1), true).get(10, TimeUnit.SECONDS);
            long durable = wal.append(GROUP, hardState, entries(21, 50, 3), true).get(10, TimeUnit.SECONDS);
            assertEquals(50, durable);
            assertTrue(wal.forceCount() >= 1, "force count " + wal.forceCount());
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(hardState, contents.group(GROUP).hardState());
            assertEquals(50, contents.group(GROUP).lastIndex());
            List<Entry> expected = new ArrayList<>(entries(1, 20, 1));
            expected.addAll(entries(21, 50, 3));
            assertEquals(expected, recoveredEntries(contents));
            assertEquals(50, wal.lastIndex(GROUP));
        }
    }

    @Test
    void withFsyncOffAppendsCompleteWithoutForcingAndSurviveReopen() throws Exception {
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(64 * 1024).withFsync(false);
        HardState hardState = HardState.newBuilder().setTerm(4).setVote(1).setCommit(300).build();
        List<Entry> expected = new ArrayList<>();
        try (Wal wal = Wal.open(options, WalTestSupport.KEEP_ALL)) {
            // Enough entries to cut several 64 KiB segments: cuts must not force either.
            for (int start = 1; start <= 1200; start += 100) {
                List<Entry> batch = entries(start, start + 99, 4);
                expected.addAll(batch);
                HardState state = start == 1101 ? hardState : null;
                assertEquals(start + 99, wal.append(GROUP, state, batch, true).get(10, TimeUnit.SECONDS));
            }
            assertEquals(0, wal.forceCount(), "fsync off must never force appends");
            assertTrue(wal.segmentCount() > 1, "segments " + wal.segmentCount());
        }
        try (Wal wal = Wal.open(options, WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(hardState, contents.group(GROUP).hardState());
            assertEquals(1200, contents.group(GROUP).lastIndex());
            assertEquals(expected, recoveredEntries(contents));
        }
    }

    @Test
    void fsyncIsOnByDefaultAndCarriedThroughTheWithers() {
        assertFalse(WalOptions.defaults(dir).virtualWriter(), "a platform writer by default");
        assertTrue(WalOptions.defaults(dir).withVirtualWriter(true).withSegmentSizeBytes(1 << 20).withFsync(false).withMaxSyncDelayMicros(5)
                .virtualWriter(), "the writer kind survives the other withers");
        WalOptions defaults = WalOptions.defaults(dir);
        assertTrue(defaults.fsync());
        WalOptions off = defaults.withFsync(false).withSegmentSizeBytes(1 << 20).withMaxSyncDelayMicros(0);
        assertEquals(false, off.fsync());
        assertEquals(1 << 20, off.segmentSizeBytes());
        assertEquals(0, off.maxSyncDelayMicros());
    }

    @Test
    void aConflictingEntryReplacesTheSuffix() throws Exception {
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 10, 1), true).get(10, TimeUnit.SECONDS);
            assertEquals(6, wal.append(GROUP, null, entries(5, 6, 2), true).get(10, TimeUnit.SECONDS));
            assertEquals(6, wal.lastIndex(GROUP));
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            List<Entry> expected = new ArrayList<>(entries(1, 4, 1));
            expected.addAll(entries(5, 6, 2));
            assertEquals(expected, recoveredEntries(contents));
            assertEquals(6, contents.group(GROUP).lastIndex());
            wal.append(GROUP, null, entries(7, 7, 2), true).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aGapIsRejectedAndChangesNothing() throws Exception {
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 3, 1), true).get(10, TimeUnit.SECONDS);
            assertThrows(IllegalArgumentException.class, () -> wal.append(GROUP, null, entries(5, 6, 1), true));
            assertThrows(IllegalArgumentException.class, () -> wal.append(GROUP, null, List.of(entry(4, 1), entry(6, 1)), true));
            assertThrows(IllegalArgumentException.class, () -> wal.append(GROUP, null, List.of(), true));
            assertThrows(IllegalArgumentException.class, () -> wal.append(GROUP, null, List.of(entry(4, 1, 600 * 1024)), true),
                    "an append larger than maxAppendBytes (half a 1 MiB segment)");
            assertEquals(3, wal.lastIndex(GROUP));
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            assertEquals(entries(1, 3, 1), recoveredEntries(wal.takeRecovered()));
        }
    }

    @Test
    void segmentsAreCutWithContiguousNamesAndReplayAcrossThem() throws Exception {
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            for (long i = 1; i <= 2000; i += 50) {
                wal.append(GROUP, HardState.newBuilder().setTerm(1).setCommit(i).build(), entries(i, i + 49, 1), true).get(10, TimeUnit.SECONDS);
            }
            assertTrue(wal.segmentCount() > 3, "segments " + wal.segmentCount());
        }
        List<SegmentName> names = WalRecovery.listSegments(dir);
        for (int i = 1; i < names.size(); i++) {
            assertEquals(names.get(i - 1).sequence() + 1, names.get(i).sequence());
            assertTrue(names.get(i).firstRecordNumber() > names.get(i - 1).firstRecordNumber() + 50,
                    "a segment's name counts the records before it: " + names.get(i - 1) + ", " + names.get(i));
        }
        for (SegmentName name : names) {
            assertEquals(64 * 1024, Files.size(dir.resolve(name.fileName())), "segments are preallocated");
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(1, 2000, 1), recoveredEntries(contents));
            assertEquals(1951, contents.group(GROUP).hardState().getCommit());
        }
    }

    @Test
    void releaseDeletesOnlySegmentsCoveredBySnapshotAndKeepsState() throws Exception {
        HardState hardState = HardState.newBuilder().setTerm(7).setVote(1).setCommit(1500).build();
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder().setIndex(1500).setTerm(7)
                .setConfState(ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3)).build();
        int before;
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, hardState, List.of(), true).get(10, TimeUnit.SECONDS);
            for (long i = 1; i <= 2000; i += 50) {
                wal.append(GROUP, null, entries(i, i + 49, 7), true).get(10, TimeUnit.SECONDS);
            }
            wal.saveSnapshotMarker(GROUP, snapshot, false).get(10, TimeUnit.SECONDS);
            before = wal.segmentCount();
            int released = wal.releaseTo(GROUP, 1500).get(10, TimeUnit.SECONDS);
            assertTrue(released > 0 && released < before, "released " + released + " of " + before);
            assertEquals(before - released, wal.segmentCount());
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.keepAbove(1500))) {
            WalContents contents = wal.takeRecovered();
            assertEquals(hardState, contents.group(GROUP).hardState(), "hard state survives the release of the segment that held it");
            assertTrue(contents.group(GROUP).markers().stream().anyMatch(m -> m.metadata().equals(snapshot)));
            List<Entry> kept = recoveredEntries(contents);
            assertEquals(entries(1501, 2000, 7), kept);
            assertEquals(2000, contents.group(GROUP).lastIndex());
        }
    }

    /** Recovery holds only the entries after a group's newest checkpoint, whatever keep index it was given. */
    @Test
    void recoveryDropsTheEntriesACheckpointCovers() throws Exception {
        SnapshotMetadata first = SnapshotMetadata.newBuilder().setIndex(300).setTerm(7).build();
        SnapshotMetadata second = SnapshotMetadata.newBuilder().setIndex(1200).setTerm(7).build();
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            for (long i = 1; i <= 2000; i += 50) {
                wal.append(GROUP, null, entries(i, i + 49, 7), true).get(10, TimeUnit.SECONDS);
                if (i + 49 == 500) {
                    wal.saveCheckpointMarker(GROUP, first).get(10, TimeUnit.SECONDS);
                }
            }
            wal.saveCheckpointMarker(GROUP, second).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(1201, 2000, 7), recoveredEntries(contents));
            assertEquals(2000, contents.group(GROUP).lastIndex());
            List<SnapshotMarker> checkpoints = contents.group(GROUP).markers().stream().filter(SnapshotMarker::checkpoint).toList();
            assertEquals(List.of(first, second), checkpoints.stream().map(SnapshotMarker::metadata).toList());
        }
    }

    @Test
    void anInstalledSnapshotResetsTheLog() throws Exception {
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder().setIndex(100).setTerm(4).build();
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 30, 1), true).get(10, TimeUnit.SECONDS);
            assertEquals(100, wal.saveSnapshotMarker(GROUP, snapshot, true).get(10, TimeUnit.SECONDS));
            wal.append(GROUP, null, entries(101, 110, 4), true).get(10, TimeUnit.SECONDS);
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            assertEquals(entries(101, 110, 4), recoveredEntries(contents));
            assertEquals(110, contents.group(GROUP).lastIndex());
        }
    }

    @Test
    void concurrentAppendersAreAllDurableInOrder() throws Exception {
        int threads = 16;
        int perThread = 200;
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            Object order = new Object();
            long[] next = {1};
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < perThread; i++) {
                        CompletableFuture<Long> future;
                        synchronized (order) {
                            future = wal.append(GROUP, null, List.of(entry(next[0], 1)), true);
                            next[0]++;
                        }
                        future.join();
                        synchronized (futures) {
                            futures.add(future);
                        }
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(threads * perThread, futures.size());
            assertTrue(wal.forceCount() < threads * perThread, "group commit shares forces: " + wal.forceCount());
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            assertEquals(entries(1, threads * perThread, 1), recoveredEntries(wal.takeRecovered()));
        }
    }

    /** With either writer thread; some appenders are platform threads, which a virtual writer must unpark too. */
    @ParameterizedTest(name = "virtual writer: {0}")
    @ValueSource(booleans = {false, true})
    void submittersWaitingOnTicketsAreAllDurableInOrder(boolean virtualWriter) throws Exception {
        int threads = 16;
        int perThread = 200;
        try (Wal wal = Wal.open(smallSegments().withVirtualWriter(virtualWriter), WalTestSupport.KEEP_ALL)) {
            ReentrantLock order = new ReentrantLock();
            long[] next = {1};
            AtomicLong durable = new AtomicLong();
            List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread.Builder builder = t % 4 == 3 ? Thread.ofPlatform().daemon() : Thread.ofVirtual();
                workers.add(builder.start(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            WalTicket ticket;
                            long index;
                            order.lock();
                            try {
                                index = next[0]++;
                                ticket = wal.submit(GROUP, null, List.of(entry(index, 1)), true);
                            } finally {
                                order.unlock();
                            }
                            assertEquals(index, ticket.lastIndex());
                            assertEquals(index, ticket.await(30, TimeUnit.SECONDS));
                            assertTrue(ticket.isDurable());
                            durable.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(List.of(), errors);
            assertEquals(threads * perThread, durable.get());
            assertTrue(wal.forceCount() < threads * perThread, "group commit shares forces: " + wal.forceCount());
            // The future-based entry point still works next to tickets, with a hard state in the same append.
            HardState hardState = HardState.newBuilder().setTerm(2).setCommit(threads * perThread).build();
            assertEquals(threads * perThread + 1, wal.append(GROUP, hardState, List.of(entry(threads * perThread + 1, 2)), true).get(10, TimeUnit.SECONDS));
        }
        try (Wal wal = Wal.open(smallSegments(), WalTestSupport.KEEP_ALL)) {
            WalContents contents = wal.takeRecovered();
            List<Entry> expected = new ArrayList<>(entries(1, threads * perThread, 1));
            expected.add(entry(threads * perThread + 1, 2));
            assertEquals(expected, recoveredEntries(contents));
            assertEquals(threads * perThread, contents.group(GROUP).hardState().getCommit());
        }
    }

    @Test
    void leftoverTmpFilesAreDeletedAtOpen() throws Exception {
        Files.createDirectories(dir);
        Files.write(dir.resolve("preallocated.wal.tmp"), new byte[100]);
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            wal.append(GROUP, null, entries(1, 1, 1), true).get(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") && Files.isRegularFile(p)
                    && sizeOf(p) == 100));
        }
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (java.io.IOException e) {
            return -1;
        }
    }
}
