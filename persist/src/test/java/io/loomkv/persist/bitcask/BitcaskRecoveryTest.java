package io.loomkv.persist.bitcask;

import static io.loomkv.persist.bitcask.BitcaskTestSupport.assertContents;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.copyDirectory;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.flipByte;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.key;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.metadata;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.onlyFile;
import static io.loomkv.persist.bitcask.BitcaskTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Torn tails are repaired, damage elsewhere is reported with its file and offset, hints rebuild the same key directory as a scan. */
class BitcaskRecoveryTest {
    @TempDir
    Path root;

    private static NavigableMap<byte[], byte[]> writeBatches(BitcaskStore store, Random random, int batches, int firstKey) {
        NavigableMap<byte[], byte[]> model = BitcaskTestSupport.newModel();
        for (int b = 0; b < batches; b++) {
            BitcaskBatch batch = new BitcaskBatch().metadata(metadata(firstKey + b));
            for (int i = 0; i < 3; i++) {
                byte[] k = key(firstKey + random.nextInt(50));
                byte[] v = value(random, 10 + random.nextInt(60));
                batch.put(k, v);
                model.put(k, v);
            }
            store.write(batch, true);
        }
        return model;
    }

    @Test
    void tornLastGroupIsTruncatedAtEveryOffset() throws Exception {
        Path pristine = root.resolve("pristine");
        BitcaskOptions options = BitcaskTestSupport.smallOptions(pristine);
        Random random = new Random(11);
        NavigableMap<byte[], byte[]> before;
        long groupStart;
        try (BitcaskStore store = BitcaskStore.open(options)) {
            before = writeBatches(store, random, 20, 0);
            groupStart = Files.size(onlyFile(pristine, ".data", true));
            BitcaskBatch last = new BitcaskBatch().metadata(metadata(1_000))
                    .put(key(0), value(random, 40)).delete(key(1)).put(key(999), value(random, 90));
            store.write(last, true);
        }
        Path active = onlyFile(pristine, ".data", true);
        long groupEnd = Files.size(active);
        assertTrue(groupEnd - groupStart > 150, "the last group is " + (groupEnd - groupStart) + " bytes");
        for (long cut = groupStart; cut < groupEnd; cut++) {
            Path copy = root.resolve("cut-" + cut);
            copyDirectory(pristine, copy);
            try (FileChannel channel = FileChannel.open(copy.resolve(active.getFileName()), StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(copy))) {
                String context = "last group cut at " + cut + " of [" + groupStart + ", " + groupEnd + ")";
                assertEquals(groupStart, Files.size(copy.resolve(active.getFileName())), context + ": torn tail not truncated");
                assertArrayEquals(metadata(19), store.metadata(), context + ": metadata of a half group is visible");
                assertEquals(null, store.get(key(999)), context + ": a record of a half group is visible");
                assertContents(before, store, context);
                if ((cut - groupStart) % 16 == 0) { // writes and reopens cost fsyncs; every 16th cut shows writes go on after a repair
                    store.write(new BitcaskBatch().put(key(5_000), new byte[] {42}).metadata(metadata(2_000)), false);
                }
            }
            if ((cut - groupStart) % 16 == 0) {
                try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(copy))) {
                    assertArrayEquals(new byte[] {42}, store.get(key(5_000)), "a write after the repair survives reopen (cut " + cut + ")");
                    assertArrayEquals(metadata(2_000), store.metadata());
                }
            }
            deleteTree(copy);
        }
    }

    @Test
    void zeroedTailIsTruncated() throws Exception {
        Path dir = root.resolve("zeros");
        NavigableMap<byte[], byte[]> model;
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            model = writeBatches(store, new Random(5), 10, 0);
        }
        Path active = onlyFile(dir, ".data", true);
        long size = Files.size(active);
        try (FileChannel channel = FileChannel.open(active, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.allocate(4096), size); // a crash after the size grew but before the data reached the disk
        }
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            assertEquals(size, Files.size(active));
            assertContents(model, store, "zeroed tail");
        }
    }

    @Test
    void corruptRecordInTheMiddleOfAnImmutableFileIsReportedWithFileAndOffset() throws Exception {
        Path dir = root.resolve("corrupt");
        Map.Entry<byte[], KeyDirEntry> victim;
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            Random random = new Random(9);
            for (int i = 0; i < 600; i++) {
                store.write(new BitcaskBatch().put(key(i), value(random, 300)).metadata(metadata(i)), false);
            }
            List<Long> ids = store.liveFileIds();
            assertTrue(ids.size() >= 3, "want several files, got " + ids);
            long middleFile = ids.get(1);
            victim = store.keyDirCopy().entrySet().stream().filter(e -> e.getValue().fileId() == middleFile)
                    .skip(10).findFirst().orElseThrow();
        }
        Path file = dir.resolve(new DataFileName(victim.getValue().fileId(), DataFileName.Kind.DATA).fileName());
        long recordOffset = victim.getValue().offsetBytes();
        flipByte(file, recordOffset + victim.getValue().recordBytes() - 5); // inside the value
        BitcaskCorruptionException damage = assertThrows(BitcaskCorruptionException.class,
                () -> BitcaskStore.open(BitcaskTestSupport.smallOptions(dir)));
        assertEquals(file, damage.file());
        assertEquals(recordOffset, damage.offsetBytes(), damage.getMessage());
        assertTrue(damage.getMessage().contains(file.toString()) && damage.getMessage().contains("offset " + recordOffset), damage.getMessage());
        // The group header of the record's group: found at the group's own offset.
        flipByte(file, recordOffset + victim.getValue().recordBytes() - 5); // undo
        int victimIndex = Integer.parseInt(new String(victim.getKey(), java.nio.charset.StandardCharsets.UTF_8).substring(4));
        long groupOffset = recordOffset - RecordFormat.GROUP_HEADER_BYTES - metadata(victimIndex).length;
        flipByte(file, groupOffset + 9);
        BitcaskCorruptionException header = assertThrows(BitcaskCorruptionException.class,
                () -> BitcaskStore.open(BitcaskTestSupport.smallOptions(dir)));
        assertEquals(groupOffset, header.offsetBytes(), header.getMessage());
        flipByte(file, groupOffset + 9);
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            assertEquals(600, store.sizes().keyCount(), "undone damage opens again");
            // Damage after the open is found by the read itself, named the same way.
            flipByte(file, recordOffset + victim.getValue().recordBytes() - 5);
            UncheckedIOException read = assertThrows(UncheckedIOException.class, () -> store.get(victim.getKey()));
            BitcaskCorruptionException cause = (BitcaskCorruptionException) read.getCause();
            assertEquals(recordOffset, cause.offsetBytes());
        }
    }

    @Test
    void damageInTheMiddleOfTheActiveFileIsNotMistakenForATornTail() throws Exception {
        Path dir = root.resolve("active");
        try (BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir))) {
            writeBatches(store, new Random(4), 30, 0);
        }
        Path active = onlyFile(dir, ".data", true);
        flipByte(active, 100);
        BitcaskCorruptionException damage = assertThrows(BitcaskCorruptionException.class,
                () -> BitcaskStore.open(BitcaskTestSupport.smallOptions(dir)));
        assertEquals(active, damage.file());
        assertTrue(damage.offsetBytes() <= 100, damage.getMessage());
    }

    @Test
    void hintFilesGiveTheSameKeyDirectoryAsAScan() throws Exception {
        Path dir = root.resolve("hints");
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        Random random = new Random(21);
        NavigableMap<byte[], KeyDirEntry> withHints;
        byte[] metadataWithHints;
        try (BitcaskStore store = BitcaskStore.open(options)) {
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 1500; i++) {
                    BitcaskBatch batch = new BitcaskBatch().metadata(metadata(round * 10_000 + i));
                    if (random.nextInt(6) == 0) {
                        batch.delete(key(random.nextInt(1500)));
                    } else {
                        batch.put(key(random.nextInt(1500)), value(random, random.nextInt(300)));
                    }
                    store.write(batch, false);
                }
                store.merge();
            }
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            withHints = store.keyDirCopy();
            metadataWithHints = store.metadata();
        }
        List<Path> hints = listSuffix(dir, ".hint");
        assertTrue(hints.size() >= 2, "merges wrote " + hints.size() + " hints");
        // A damaged hint is not trusted: its merged file is scanned instead.
        flipByte(hints.get(0), Files.size(hints.get(0)) / 2);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertEquals(withHints, store.keyDirCopy(), "damaged hint");
        }
        for (Path hint : listSuffix(dir, ".hint")) {
            Files.delete(hint);
        }
        try (BitcaskStore store = BitcaskStore.open(options)) {
            NavigableMap<byte[], KeyDirEntry> scanned = store.keyDirCopy();
            assertEquals(withHints.size(), scanned.size());
            assertEquals(withHints, scanned, "hints and a scan disagree");
            assertArrayEquals(metadataWithHints, store.metadata());
        }
    }

    @Test
    void aMergeCutShortBeforeItsCommitLeavesNoTrace() throws Exception {
        Path dir = root.resolve("uncommitted");
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        NavigableMap<byte[], byte[]> model;
        try (BitcaskStore store = BitcaskStore.open(options)) {
            model = writeBatches(store, new Random(8), 400, 0);
        }
        // What a crash during a merge leaves: temporary outputs. They are deleted, and nothing changes.
        Files.write(dir.resolve(new DataFileName(10_000, DataFileName.Kind.MERGED).fileName() + DataFileName.TMP_SUFFIX), new byte[1234]);
        Files.write(dir.resolve(new DataFileName(10_001, DataFileName.Kind.COMMIT).fileName() + DataFileName.TMP_SUFFIX), new byte[12]);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertContents(model, store, "after an uncommitted merge");
        }
        assertEquals(List.of(), listSuffix(dir, ".tmp"));
    }

    @Test
    void aCommittedMergeWhoseInputsACrashLeftBehindIsFinishedAtOpen() throws Exception {
        Path dir = root.resolve("committed");
        BitcaskOptions options = BitcaskTestSupport.smallOptions(dir);
        NavigableMap<byte[], byte[]> model;
        Path saved = root.resolve("saved-inputs");
        Files.createDirectories(saved);
        try (BitcaskStore store = BitcaskStore.open(options)) {
            Random random = new Random(12);
            model = writeBatches(store, random, 300, 0);
            for (int i = 0; i < 50; i++) { // delete keys, so that the merge drops tombstones whose older values sit in the inputs
                store.write(new BitcaskBatch().delete(key(i)), false);
                model.remove(key(i));
            }
            store.write(new BitcaskBatch().put(key(5_000), value(random, 4000)), false);
            for (Path data : listSuffix(dir, ".data")) {
                Files.copy(data, saved.resolve(data.getFileName()));
            }
            store.mergeCommittedHook = () -> {
                try {
                    Path commit = listSuffix(dir, ".commit").get(0);
                    Files.copy(commit, saved.resolve(commit.getFileName()));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            store.merge();
            model.put(key(5_000), store.get(key(5_000)));
        }
        // A crash right after the commit: the commit record and every input are still there.
        try (Stream<Path> files = Files.list(saved)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.copy(file, dir.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        assertEquals(1, listSuffix(dir, ".commit").size());
        try (BitcaskStore store = BitcaskStore.open(options)) {
            assertContents(model, store, "after finishing the merge");
            BitcaskTestSupport.assertAbsent(model, store, 50, "deleted keys stay deleted");
        }
        assertEquals(List.of(), listSuffix(dir, ".commit"), "the commit record goes once its inputs are deleted");
        List<Path> savedData = listSuffix(saved, ".data");
        for (Path input : savedData.subList(0, savedData.size() - 1)) { // all but the active file were merge inputs
            assertTrue(!Files.exists(dir.resolve(input.getFileName())), input.getFileName() + " was not deleted at open");
        }
    }

    private static List<Path> listSuffix(Path dir, String suffix) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }
}
