package io.loomkv.persist.bitcask;

import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertContents;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.key;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.metadata;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.persist.wal.FaultyFileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Limits give clear errors and change nothing; a failed fsync stops all writes; range deletes; sizes; file rotation. */
class BitcaskLimitsTest {
    @TempDir
    Path dir;

    @Test
    void oversizedInputIsRefusedAndChangesNothing() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            store.write(new BitcaskBatch().put(key(1), new byte[] {1}).metadata(metadata(1)), true);
            BitcaskSizes before = store.sizes();
            IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                    () -> store.write(new BitcaskBatch().put(key(2), new byte[1]).put(new byte[65], new byte[1]), false));
            assertTrue(key.getMessage().contains("key of 65 bytes (op 1) exceeds the limit of 64"), key.getMessage());
            IllegalArgumentException value = assertThrows(IllegalArgumentException.class,
                    () -> store.write(new BitcaskBatch().put(key(2), new byte[4097]), false));
            assertTrue(value.getMessage().contains("value of 4097 bytes"), value.getMessage());
            IllegalArgumentException blob = assertThrows(IllegalArgumentException.class,
                    () -> store.write(new BitcaskBatch().put(key(2), new byte[1]).metadata(new byte[257]), false));
            assertTrue(blob.getMessage().contains("metadata of 257 bytes"), blob.getMessage());
            BitcaskBatch tooMany = new BitcaskBatch();
            for (int i = 0; i < 1001; i++) {
                tooMany.put(key(i), new byte[0]);
            }
            assertThrows(IllegalArgumentException.class, () -> store.write(tooMany, false));
            BitcaskBatch tooBig = new BitcaskBatch();
            for (int i = 0; i < 20; i++) {
                tooBig.put(key(i), new byte[4000]);
            }
            IllegalArgumentException bytes = assertThrows(IllegalArgumentException.class, () -> store.write(tooBig, false));
            assertTrue(bytes.getMessage().contains("the limit is 65536"), bytes.getMessage());
            assertEquals(before, store.sizes(), "a refused batch changed the store");
            assertNull(store.get(key(2)));
            assertArrayEquals(metadata(1), store.metadata());
        }
    }

    @Test
    void failedFsyncIsFatalForWrites() throws Exception {
        AtomicReference<String> failForce = new AtomicReference<>();
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir).withChannelOpener(path -> new FaultyFileChannel(
                WriteChannelOpener.DEFAULT.open(path), failForce, new AtomicReference<>(), new AtomicInteger()));
        try (BitcaskStore store = BitcaskStore.open(options)) {
            store.write(new BitcaskBatch().put(key(1), new byte[] {1}), true);
            failForce.set("injected: fsync failed (EIO)");
            BitcaskFailedException failed = assertThrows(BitcaskFailedException.class,
                    () -> store.write(new BitcaskBatch().put(key(2), new byte[] {2}), true));
            assertTrue(failed.getMessage().contains("refuses further writes"), failed.getMessage());
            failForce.set(null); // the disk "recovers", but a retried fsync may lie: the store stays failed
            assertThrows(BitcaskFailedException.class, () -> store.write(new BitcaskBatch().put(key(3), new byte[] {3}), false));
            assertThrows(BitcaskFailedException.class, () -> store.deleteRange(new byte[0], null, null, false));
            assertThrows(BitcaskFailedException.class, store::merge);
            assertArrayEquals(new byte[] {1}, store.get(key(1)), "reads go on");
        }
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            assertArrayEquals(new byte[] {1}, store.get(key(1)), "the acknowledged write survives");
            assertNull(store.get(key(3)));
        }
    }

    @Test
    void rangeDeleteWritesTombstonesInBoundedGroupsWithTheMetadataLast() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir).withMaxBatchOps(7);
        NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
        try (BitcaskStore store = BitcaskStore.open(options)) {
            for (int i = 0; i < 100; i += 5) {
                BitcaskBatch batch = new BitcaskBatch();
                for (int k = i; k < i + 5; k++) {
                    batch.put(key(k), new byte[] {(byte) k});
                    model.put(key(k), new byte[] {(byte) k});
                }
                store.write(batch, false);
            }
            long groupsBefore = store.sizes().diskBytes();
            assertEquals(50, store.deleteRange(key(20), key(70), metadata(77), false));
            model.subMap(key(20), key(70)).clear();
            assertArrayEquals(metadata(77), store.metadata());
            assertTrue(store.sizes().diskBytes() > groupsBefore);
            assertContents(model, store, "after the range delete");
            assertEquals(0, store.deleteRange(key(20), key(70), metadata(78), false), "deleting again finds nothing");
            assertArrayEquals(metadata(78), store.metadata(), "a range delete with nothing to delete still records its metadata");
            assertEquals(30, store.deleteRange(key(70), null, null, false));
            model.tailMap(key(70)).clear();
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertContents(model, store, "after reopen");
            assertArrayEquals(metadata(78), store.metadata());
        }
    }

    @Test
    void filesRotateAtTheSizeLimitAndSizesAddUp() throws Exception {
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            for (int i = 0; i < 200; i++) {
                store.write(new BitcaskBatch().put(key(i), new byte[1000]), false);
            }
            BitcaskSizes sizes = store.sizes();
            assertEquals(200, sizes.keyCount());
            assertTrue(sizes.fileCount() >= 3, sizes.toString());
            long onDisk;
            try (Stream<Path> files = Files.list(dir)) {
                onDisk = files.mapToLong(p -> p.toFile().length()).sum();
            }
            assertEquals(onDisk, sizes.diskBytes(), sizes.toString());
            assertEquals(200L * RecordFormat.recordBytes(key(0).length, 1000), sizes.liveRecordBytes());
            assertEquals(200L * (key(0).length + KeyDir.ENTRY_OVERHEAD_BYTES), sizes.memoryBytesEstimate());
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    assertTrue(Files.size(file) <= options.maxFileSizeBytes(), file + " passes the file size limit");
                }
            }
            try (BitcaskView view = store.openView()) {
                store.write(new BitcaskBatch().put(key(0), new byte[2]), false);
                assertTrue(store.sizes().memoryBytesEstimate() > 200L * (key(0).length + KeyDir.ENTRY_OVERHEAD_BYTES),
                        "a view's before-images count");
                assertEquals(1, store.sizes().openViews());
            }
        }
    }

    @Test
    void viewsAreBounded() throws Exception {
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir).withMaxOpenViews(2))) {
            try (BitcaskView a = store.openView(); BitcaskView b = store.openView()) {
                IllegalStateException full = assertThrows(IllegalStateException.class, store::openView);
                assertTrue(full.getMessage().contains("limit is 2"), full.getMessage());
            }
            store.openView().close();
        }
    }

    @Test
    void readsRecoverFromAnInterruptedReaderClosingTheSharedChannel() throws Exception {
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            store.write(new BitcaskBatch().put(key(1), new byte[] {9}), false);
            Thread.currentThread().interrupt();
            try {
                // The JDK closes the channel under an interrupted reader; that reader gets the error.
                assertThrows(java.io.UncheckedIOException.class, () -> store.get(key(1)));
            } finally {
                Thread.interrupted();
            }
            assertArrayEquals(new byte[] {9}, store.get(key(1)), "other reads must not inherit the closed channel");
            store.write(new BitcaskBatch().put(key(2), new byte[] {8}), false);
            assertArrayEquals(new byte[] {8}, store.get(key(2)));
        }
    }
}
