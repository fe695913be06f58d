package io.loomkv.persist.snap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A snapshot file outside its store: verified on open, readable, and copied under new metadata as a restore does. */
class SnapshotFileTest {
    @TempDir
    Path dir;

    private final ZstdStreamCodec codec = ZstdStreamCodec.withDefaults();

    @Test
    void copyUnderNewMetadataKeepsTheStateAndPassesTheReceiversChecks() throws Exception {
        byte[] data = SnapshotStoreTest.data(7, 300_000);
        SnapshotStore source = new SnapshotStore(dir.resolve("old"), codec, 1L << 30);
        SnapshotMetadata old = source.save(SnapshotStoreTest.metadata(9, 1234), out -> out.write(data));
        SnapshotFile file = SnapshotFile.open(source.directory().resolve(new SnapshotFileName(9, 1234).fileName()));
        assertEquals(old, file.metadata());

        SnapshotStore target = new SnapshotStore(dir.resolve("new"), codec, 1L << 30);
        SnapshotMetadata relabelled = SnapshotMetadata.newBuilder().setIndex(1234).setTerm(1)
                .setConfState(ConfState.newBuilder().addVoters(4).addVoters(5)).build();
        SnapshotMetadata received;
        try (SnapshotReceiver receiver = target.receive(relabelled)) {
            file.copyTo(receiver, relabelled);
            received = receiver.finish();
        }
        assertEquals(relabelled.toBuilder().setSizeBytes(received.getSizeBytes()).build(), received);
        assertEquals(received, target.selectNewestValid(name -> true).orElseThrow());
        try (InputStream in = target.openData(received, 1L << 30)) {
            assertArrayEquals(data, in.readAllBytes());
        }
        assertThrows(IllegalArgumentException.class, () -> file.copyTo(target.receive(relabelled.toBuilder().setIndex(99).build()),
                relabelled.toBuilder().setIndex(99).build()), "the index is the state's: a copy keeps it");
    }

    @Test
    void aDamagedFileIsRefusedOnOpen() throws Exception {
        SnapshotStore source = new SnapshotStore(dir, codec, 1L << 30);
        source.save(SnapshotStoreTest.metadata(2, 50), out -> out.write(SnapshotStoreTest.data(3, 10_000)));
        Path path = dir.resolve(new SnapshotFileName(2, 50).fileName());
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.seek(Files.size(path) / 2);
            int value = raf.read();
            raf.seek(Files.size(path) / 2);
            raf.write(value ^ 0x01);
        }
        assertThrows(SnapshotCorruptionException.class, () -> SnapshotFile.open(path));
    }
}
