package io.loomkv.persist.snap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotStoreTest {
    @TempDir
    Path dir;

    private SnapshotStore store(Path directory) throws IOException {
        return new SnapshotStore(directory, ZstdStreamCodec.withDefaults(), 1L << 30);
    }

    static SnapshotMetadata metadata(long term, long index) {
        return SnapshotMetadata.newBuilder().setTerm(term).setIndex(index)
                .setConfState(ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3)).build();
    }

    /** Compressible but not trivial data, a function of the seed. */
    static byte[] data(long seed, int size) {
        byte[] bytes = new byte[size];
        Random random = new Random(seed);
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ('a' + random.nextInt(6));
        }
        return bytes;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(offset);
            int value = raf.read();
            raf.seek(offset);
            raf.write(value ^ 0x01);
        }
    }

    @Test
    void aSavedSnapshotStreamsBackAndIsNamedByTermAndIndex() throws Exception {
        SnapshotStore store = store(dir);
        byte[] state = data(1, 3 << 20);
        SnapshotMetadata saved = store.save(metadata(5, 1234), out -> out.write(state));
        Path file = dir.resolve("0000000000000005-00000000000004d2.snap");
        assertTrue(Files.exists(file));
        assertEquals(Files.size(file), saved.getSizeBytes());
        assertTrue(saved.getSizeBytes() < state.length / 2, "compressed: " + saved.getSizeBytes());
        assertEquals(Optional.of(saved), store.selectNewestValid(name -> true));
        assertArrayEquals(state, readAll(store.openData(saved, state.length)));
    }

    @Test
    void aDamagedNewestSnapshotIsRenamedBrokenAndThePreviousOneUsed() throws Exception {
        SnapshotStore store = store(dir);
        SnapshotMetadata older = store.save(metadata(1, 10), out -> out.write(data(10, 100_000)));
        SnapshotMetadata newer = store.save(metadata(2, 20), out -> out.write(data(20, 100_000)));
        Path newerFile = dir.resolve(new SnapshotFileName(2, 20).fileName());
        flipByte(newerFile, newer.getSizeBytes() / 2);
        assertEquals(Optional.of(older), store.selectNewestValid(name -> true));
        assertFalse(Files.exists(newerFile));
        assertTrue(Files.exists(dir.resolve(newerFile.getFileName() + ".broken")));
        assertArrayEquals(data(10, 100_000), readAll(store.openData(older, 1 << 20)));
    }

    @Test
    void zeroLengthAndTruncatedSnapshotsAreBroken() throws Exception {
        SnapshotStore store = store(dir);
        SnapshotMetadata first = store.save(metadata(1, 10), out -> out.write(data(10, 10_000)));
        store.save(metadata(1, 20), out -> out.write(data(20, 10_000)));
        store.save(metadata(1, 30), out -> out.write(data(30, 10_000)));
        Files.write(dir.resolve(new SnapshotFileName(1, 30).fileName()), new byte[0]);
        Path second = dir.resolve(new SnapshotFileName(1, 20).fileName());
        byte[] full = Files.readAllBytes(second);
        Files.write(second, java.util.Arrays.copyOf(full, full.length - 100));
        assertEquals(Optional.of(first), store.selectNewestValid(name -> true));
        assertTrue(Files.exists(dir.resolve(new SnapshotFileName(1, 30).fileName() + ".broken")));
        assertTrue(Files.exists(second.resolveSibling(second.getFileName() + ".broken")));
    }

    @Test
    void snapshotsWithoutAWalMarkerAreSkipped() throws Exception {
        SnapshotStore store = store(dir);
        SnapshotMetadata marked = store.save(metadata(1, 10), out -> out.write(data(1, 100)));
        store.save(metadata(1, 20), out -> out.write(data(2, 100)));
        assertEquals(Optional.of(marked), store.selectNewestValid(name -> name.index() == 10));
        assertTrue(Files.exists(dir.resolve(new SnapshotFileName(1, 20).fileName())), "an unmarked snapshot is not broken, just unused");
    }

    @Test
    void pruneKeepsTheNewestAndStartupRemovesTemporaryFiles() throws Exception {
        SnapshotStore store = store(dir);
        for (int i = 1; i <= 5; i++) {
            long index = i * 10L;
            store.save(metadata(1, index), out -> out.write(data(index, 100)));
        }
        assertEquals(3, store.prune(2));
        assertEquals(List.of(new SnapshotFileName(1, 40), new SnapshotFileName(1, 50)), store.list());
        Files.write(dir.resolve("0000000000000001-0000000000000060.snap.tmp"), new byte[10]);
        store(dir);
        assertFalse(Files.exists(dir.resolve("0000000000000001-0000000000000060.snap.tmp")));
    }

    @Test
    void aSnapshotTravelsInChunksAndIsInstalledOnlyWhenComplete() throws Exception {
        SnapshotStore leader = store(dir.resolve("leader"));
        SnapshotStore follower = store(dir.resolve("follower"));
        byte[] state = data(7, 1 << 20);
        SnapshotMetadata saved = leader.save(metadata(3, 500), out -> out.write(state));
        try (SnapshotReceiver receiver = follower.receive(saved)) {
            long offset = 0;
            while (true) {
                ByteString chunk = leader.readChunk(saved, offset, 4096);
                if (chunk.isEmpty()) {
                    break;
                }
                receiver.append(offset, chunk);
                offset += chunk.size();
                assertTrue(follower.list().isEmpty(), "nothing is installed before finish()");
            }
            assertEquals(saved, receiver.finish());
        }
        assertEquals(Optional.of(saved), follower.selectNewestValid(name -> true));
        assertArrayEquals(state, readAll(follower.openData(saved, state.length)));
    }

    @Test
    void aDamagedOrMisorderedTransferIsRejectedAndLeavesNothing() throws Exception {
        SnapshotStore leader = store(dir.resolve("leader"));
        SnapshotStore follower = store(dir.resolve("follower"));
        SnapshotMetadata saved = leader.save(metadata(3, 500), out -> out.write(data(7, 50_000)));
        ByteString whole = leader.readChunk(saved, 0, SnapshotStore.MAX_CHUNK_BYTES);
        assertEquals(saved.getSizeBytes(), whole.size());
        try (SnapshotReceiver receiver = follower.receive(saved)) {
            receiver.append(0, whole.substring(0, 100));
            assertThrows(IllegalArgumentException.class, () -> receiver.append(200, whole.substring(200, 300)));
            byte[] rest = whole.substring(100).toByteArray();
            rest[rest.length / 2] ^= 0x40;
            receiver.append(100, ByteString.copyFrom(rest));
            assertThrows(SnapshotCorruptionException.class, receiver::finish);
        }
        assertTrue(follower.list().isEmpty());
        try (var files = Files.list(dir.resolve("follower"))) {
            assertEquals(0, files.count(), "the staging file is gone");
        }
        SnapshotMetadata wrongIndex = saved.toBuilder().setIndex(501).build();
        try (SnapshotReceiver receiver = follower.receive(wrongIndex)) {
            receiver.append(0, whole);
            assertThrows(SnapshotCorruptionException.class, receiver::finish);
        }
        assertThrows(IllegalArgumentException.class, () -> follower.receive(saved.toBuilder().setSizeBytes(2L << 30).build()));
    }
}
