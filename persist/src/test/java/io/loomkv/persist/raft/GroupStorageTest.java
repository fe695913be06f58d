package io.loomkv.persist.raft;

import static io.loomkv.persist.wal.WalTestSupport.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.raft.CompactedException;
import io.loomkv.core.raft.SnapshotUnavailableException;
import io.loomkv.core.raft.UnavailableException;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.persist.engine.EngineSnapshotCodec;
import io.loomkv.persist.engine.MemoryKvEngine;
import io.loomkv.persist.snap.SnapshotReceiver;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroupStorageTest {
    private static final long GROUP = 3;
    private static final ConfState VOTERS = ConfState.newBuilder().addVoters(1).addVoters(2).addVoters(3).build();

    @TempDir
    Path dir;

    private StoreLog open(Path directory) throws Exception {
        return StoreLog.open(StoreLogOptions.defaults(directory).withSegmentSizeBytes(256 * 1024));
    }

    /** The one group these tests use: recovered, or created in a new store. */
    private static GroupStorage groupOf(StoreLog log) throws Exception {
        return log.groups().containsKey(GROUP) ? log.group(GROUP) : log.createGroup(GROUP);
    }

    private static void appendDurably(GroupStorage storage, HardState hardState, List<Entry> entries) throws Exception {
        storage.append(hardState, entries).get(30, TimeUnit.SECONDS);
    }

    private static MemoryKvEngine engineWith(int keys, String valuePrefix) {
        MemoryKvEngine engine = new MemoryKvEngine();
        for (int i = 0; i < keys; i++) {
            engine.put(("key" + i).getBytes(StandardCharsets.UTF_8), (valuePrefix + i).getBytes(StandardCharsets.UTF_8));
        }
        return engine;
    }

    private static SnapshotMetadata snapshotOf(GroupStorage storage, long index, MemoryKvEngine engine) throws Exception {
        try (EngineSnapshot view = engine.snapshot()) {
            return storage.createSnapshot(index, VOTERS, out -> EngineSnapshotCodec.write(view, out));
        }
    }

    @Test
    void aFreshStorageIsEmpty() throws Exception {
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(1, storage.firstIndex());
            assertEquals(0, storage.lastIndex());
            assertEquals(0, storage.term(0));
            assertEquals(0, storage.snapshotMetadata().getIndex());
            assertEquals(HardState.getDefaultInstance(), storage.initialState().hardState());
            assertThrows(UnavailableException.class, () -> storage.term(1));
            assertThrows(SnapshotUnavailableException.class, () -> storage.readSnapshotChunk(SnapshotMetadata.getDefaultInstance(), 0, 100));
        }
    }

    @Test
    void fsyncOnForcesTheWalAndFsyncOffDoesNotButBothSurviveReopen() throws Exception {
        for (boolean fsync : new boolean[] {true, false}) {
            Path directory = dir.resolve("fsync-" + fsync);
            HardState hardState = HardState.newBuilder().setTerm(2).setVote(1).setCommit(30).build();
            StoreLogOptions options = StoreLogOptions.defaults(directory).withSegmentSizeBytes(256 * 1024).withFsync(fsync);
            assertEquals(fsync, options.fsync());
            try (StoreLog log = StoreLog.open(options)) {
                GroupStorage storage = groupOf(log);
                appendDurably(storage, hardState, entries(1, 30, 2));
                if (fsync) {
                    assertTrue(log.walForceCount() >= 1, "forces with fsync on: " + log.walForceCount());
                } else {
                    assertEquals(0, log.walForceCount(), "forces with fsync off");
                }
            }
            try (StoreLog log = StoreLog.open(options)) {
                GroupStorage storage = groupOf(log);
                assertEquals(hardState, storage.initialState().hardState());
                assertEquals(30, storage.lastIndex());
                assertEquals(entries(1, 30, 2), storage.entries(1, 31, Long.MAX_VALUE));
            }
        }
    }

    @Test
    void entriesAndHardStateAreServedAndSurviveReopen() throws Exception {
        HardState hardState = HardState.newBuilder().setTerm(2).setVote(1).setCommit(80).build();
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, null, entries(1, 50, 1));
            appendDurably(storage, hardState, entries(51, 100, 2));
            assertEquals(entries(10, 20, 1), storage.entries(10, 21, Long.MAX_VALUE));
            List<Entry> limited = storage.entries(10, 100, 300);
            assertTrue(limited.size() >= 1 && limited.size() < 10, "size limit: " + limited.size());
            assertEquals(1, storage.entries(10, 100, 0).size(), "always at least one entry");
            assertThrows(UnavailableException.class, () -> storage.entries(90, 102, Long.MAX_VALUE));
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(hardState, storage.initialState().hardState());
            assertEquals(100, storage.lastIndex());
            assertEquals(2, storage.term(51));
            assertEquals(1, storage.term(50));
            assertEquals(entries(45, 55, 1).subList(0, 6), storage.entries(45, 51, Long.MAX_VALUE));
        }
    }

    @Test
    void aConflictingAppendReplacesTheSuffixInMemoryAndOnDisk() throws Exception {
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, null, entries(1, 20, 1));
            appendDurably(storage, null, entries(15, 16, 3));
            assertEquals(16, storage.lastIndex());
            assertEquals(3, storage.term(15));
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(16, storage.lastIndex());
            assertEquals(entries(15, 16, 3), storage.entries(15, 17, Long.MAX_VALUE));
            assertEquals(entries(14, 14, 1), storage.entries(14, 15, Long.MAX_VALUE));
        }
    }

    @Test
    void aLocalSnapshotCompactsAndRestoresTheStateAfterReopen() throws Exception {
        MemoryKvEngine engine = engineWith(1000, "v");
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, HardState.newBuilder().setTerm(1).setCommit(300).build(), entries(1, 400, 1));
            SnapshotMetadata saved = snapshotOf(storage, 300, engine);
            assertEquals(300, saved.getIndex());
            assertEquals(1, saved.getTerm());
            storage.compact(300);
            assertEquals(301, storage.firstIndex());
            assertEquals(1, storage.term(300));
            assertThrows(CompactedException.class, () -> storage.entries(300, 301, Long.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> storage.compact(350));
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(300, storage.snapshotMetadata().getIndex());
            assertEquals(VOTERS, storage.initialState().confState());
            assertEquals(301, storage.firstIndex());
            assertEquals(400, storage.lastIndex());
            MemoryKvEngine restored = new MemoryKvEngine();
            try (InputStream data = storage.openSnapshotData(1 << 30)) {
                restored.restore(EngineSnapshotCodec.read(data, 1024, 1024));
            }
            assertEquals(engine.scan(ScanRequest.range(new byte[0], null, 10_000)).entries(),
                    restored.scan(ScanRequest.range(new byte[0], null, 10_000)).entries());
        }
    }

    @Test
    void aRecoveredCommitIndexThatLagsTheSnapshotIsLiftedToIt() throws Exception {
        // The runtime writes a commit-only hard state only with its next append, so the WAL's last
        // hard state may name a commit index below a snapshot taken since; Raft refuses a commit
        // index below the snapshot, and the snapshot proves everything up to it committed.
        MemoryKvEngine engine = engineWith(10, "v");
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, HardState.newBuilder().setTerm(1).setVote(2).setCommit(100).build(), entries(1, 400, 1));
            snapshotOf(storage, 300, engine);
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            HardState recovered = storage.initialState().hardState();
            assertEquals(300, recovered.getCommit());
            assertEquals(1, recovered.getTerm());
            assertEquals(2, recovered.getVote());
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, HardState.newBuilder().setTerm(1).setVote(2).setCommit(350).build(), List.of());
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(350, storage.initialState().hardState().getCommit(), "a commit index past the snapshot is kept");
        }
    }

    @Test
    void aDamagedNewestSnapshotFallsBackToThePreviousOneAndItsLog() throws Exception {
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            for (long i = 1; i <= 3000; i += 100) {
                appendDurably(storage, HardState.newBuilder().setTerm(1).setCommit(i + 99).build(), entries(i, i + 99, 1));
            }
            snapshotOf(storage, 1000, engineWith(10, "a"));
            snapshotOf(storage, 2000, engineWith(10, "b"));
            snapshotOf(storage, 2500, engineWith(10, "c"));
            storage.compact(2500);
        }
        Path newest;
        try (Stream<Path> files = Files.list(dir.resolve("snap").resolve(Long.toString(GROUP)))) {
            List<Path> snaps = files.filter(p -> p.toString().endsWith(".snap")).sorted().toList();
            assertEquals(2, snaps.size(), "older snapshots are pruned: " + snaps);
            newest = snaps.get(1);
        }
        try (RandomAccessFile raf = new RandomAccessFile(newest.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            int b = raf.read();
            raf.seek(raf.length() / 2);
            raf.write(b ^ 0x04);
        }
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            assertEquals(2000, storage.snapshotMetadata().getIndex(), "the previous snapshot is used");
            assertEquals(2001, storage.firstIndex());
            assertEquals(3000, storage.lastIndex());
            assertEquals(entries(2001, 2010, 1), storage.entries(2001, 2011, Long.MAX_VALUE));
            assertTrue(Files.exists(newest.resolveSibling(newest.getFileName() + ".broken")));
            MemoryKvEngine restored = new MemoryKvEngine();
            try (InputStream data = storage.openSnapshotData(1 << 30)) {
                restored.restore(EngineSnapshotCodec.read(data, 1024, 1024));
            }
            assertEquals("b3", new String(restored.get("key3".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aSnapshotFromTheLeaderArrivesInChunksAndResetsTheLog() throws Exception {
        SnapshotMetadata leaderSnapshot;
        try (StoreLog leaderLog = open(dir.resolve("leader")); StoreLog followerLog = open(dir.resolve("follower"))) {
            GroupStorage leader = groupOf(leaderLog);
            GroupStorage follower = groupOf(followerLog);
            appendDurably(leader, null, entries(1, 500, 4));
            leaderSnapshot = snapshotOf(leader, 450, engineWith(2000, "x"));
            appendDurably(follower, null, entries(1, 30, 2));
            try (SnapshotReceiver receiver = follower.receiveSnapshot(leaderSnapshot)) {
                long offset = 0;
                while (true) {
                    ByteString chunk = leader.readSnapshotChunk(leaderSnapshot, offset, 1000);
                    if (chunk.isEmpty()) {
                        break;
                    }
                    receiver.append(offset, chunk);
                    offset += chunk.size();
                }
                receiver.finish();
            }
            follower.installSnapshot(leaderSnapshot);
            assertEquals(451, follower.firstIndex());
            assertEquals(450, follower.lastIndex());
            assertEquals(4, follower.term(450));
            appendDurably(follower, null, entries(451, 460, 4));
            SnapshotMetadata stale = leaderSnapshot.toBuilder().setIndex(400).build();
            assertThrows(SnapshotUnavailableException.class, () -> leader.readSnapshotChunk(stale, 0, 100));
        }
        try (StoreLog followerLog = open(dir.resolve("follower"))) {
            GroupStorage follower = groupOf(followerLog);
            assertEquals(450, follower.snapshotMetadata().getIndex());
            assertEquals(451, follower.firstIndex());
            assertEquals(460, follower.lastIndex());
            assertEquals(entries(451, 460, 4), follower.entries(451, 461, Long.MAX_VALUE));
            MemoryKvEngine restored = new MemoryKvEngine();
            try (InputStream data = follower.openSnapshotData(1 << 30)) {
                restored.restore(EngineSnapshotCodec.read(data, 1024, 1024));
            }
            assertEquals(2000, restored.approximateKeyCount());
        }
    }

    @Test
    void aMissingFirstSegmentWithoutASnapshotCoveringItStopsStartup() throws Exception {
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            for (long i = 1; i <= 3000; i += 100) {
                appendDurably(storage, null, entries(i, i + 99, 1));
            }
        }
        try (Stream<Path> files = Files.list(dir.resolve("wal"))) {
            Files.delete(files.filter(p -> p.toString().endsWith(".wal")).sorted().findFirst().orElseThrow());
        }
        io.loomkv.persist.wal.WalCorruptionException error =
                assertThrows(io.loomkv.persist.wal.WalCorruptionException.class, () -> open(dir));
        assertTrue(error.getMessage().contains("missing"), error.getMessage());
    }

    @Test
    void appendsInsideTheSnapshotAreRejected() throws Exception {
        try (StoreLog log = open(dir)) {
            GroupStorage storage = groupOf(log);
            appendDurably(storage, null, entries(1, 100, 1));
            snapshotOf(storage, 50, engineWith(1, "z"));
            storage.compact(50);
            assertThrows(IllegalArgumentException.class, () -> storage.append(null, entries(40, 41, 2)));
            assertThrows(IllegalArgumentException.class, () -> storage.append(null, entries(200, 201, 2)));
            assertEquals(100, storage.lastIndex());
            List<Entry> all = new ArrayList<>(storage.entries(51, 101, Long.MAX_VALUE));
            assertEquals(entries(51, 100, 1), all);
            assertFalse(storage.failure() != null);
        }
    }
}
