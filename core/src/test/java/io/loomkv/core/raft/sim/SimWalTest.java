package io.loomkv.core.raft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.replica.Durability;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The simulated store WAL: what is visible, what is durable, and what a crash keeps. */
class SimWalTest {

    private static final List<Long> VOTERS = List.of(1L, 2L, 3L);

    private static Entry entry(long index) {
        return Entry.newBuilder().setIndex(index).setTerm(1).setData(ByteString.copyFromUtf8("e" + index)).build();
    }

    private static HardState hardState(long commit) {
        return HardState.newBuilder().setTerm(1).setVote(1).setCommit(commit).build();
    }

    /** A "random" prefix length, fixed by the test. */
    private static RandomGenerator keeping(int records) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int nextInt(int bound) {
                if (records >= bound) {
                    throw new IllegalArgumentException("cannot keep " + records + " of " + (bound - 1) + " records");
                }
                return records;
            }
        };
    }

    @Test
    void aWriteIsVisibleAtOnceAndDurableWhenAnFsyncStartedAfterItCompletes() {
        SimWal wal = new SimWal(2, VOTERS);
        Durability first = wal.append(1, hardState(0), List.of(entry(1)), true);
        assertEquals(1, wal.view(1).lastIndex());
        assertEquals(0, wal.durableImage(1).lastIndex());
        assertTrue(wal.needsFsync());
        wal.startFsync();
        Durability second = wal.append(2, null, List.of(entry(1)), true);
        assertEquals(1, wal.completeFsync());
        assertTrue(first.isDurable());
        assertFalse(second.isDurable(), "written while the fsync was in flight: it waits for the next one");
        assertEquals(1, wal.durableImage(1).lastIndex());
        assertEquals(0, wal.durableImage(2).lastIndex());
        wal.startFsync();
        wal.completeFsync();
        assertTrue(second.isDurable());
    }

    @Test
    void aWriteThatNeedsNoSyncWaitsForAnotherWritesFsync() {
        SimWal wal = new SimWal(1, VOTERS);
        Durability unsynced = wal.append(1, hardState(0), List.of(), false);
        assertFalse(wal.needsFsync());
        wal.append(1, null, List.of(entry(1)), true);
        assertTrue(wal.needsFsync());
        wal.startFsync();
        wal.completeFsync();
        assertTrue(unsynced.isDurable());
    }

    @Test
    void aCrashDuringAnFsyncKeepsAPrefixOfItsRecordsInWriteOrderAcrossGroups() {
        SimWal wal = new SimWal(2, VOTERS);
        wal.append(1, hardState(0), List.of(entry(1)), true);
        wal.append(2, hardState(0), List.of(entry(1)), true);
        wal.append(1, null, List.of(entry(2)), true);
        wal.startFsync();
        wal.append(2, null, List.of(entry(2)), true); // After the fsync started: lost whatever happens.
        SimWal.CrashLoss loss = wal.crash(keeping(2));
        assertTrue(loss.midFsync());
        assertEquals(new SimWal.CrashLoss(3, 2, 1), loss);
        wal.restart();
        assertEquals(1, wal.view(1).lastIndex(), "group 1's second record came third in the fsync");
        assertEquals(1, wal.view(2).lastIndex());
    }

    @Test
    void aCrashWithNoFsyncInFlightKeepsOnlyWhatWasDurable() {
        SimWal wal = new SimWal(1, VOTERS);
        wal.append(1, hardState(0), List.of(entry(1)), true);
        wal.startFsync();
        wal.completeFsync();
        Durability lost = wal.append(1, hardState(1), List.of(entry(2)), true);
        SimWal.CrashLoss loss = wal.crash(keeping(0));
        assertFalse(loss.midFsync());
        wal.restart();
        assertEquals(1, wal.view(1).lastIndex());
        assertEquals(0, wal.view(1).hardState().getCommit());
        assertThrows(IllegalStateException.class, lost::isDurable, "a dead incarnation's write polled after the crash");
    }

    @Test
    void aRestartLiftsACommitIndexThatLagsTheSnapshot() {
        SimWal wal = new SimWal(1, VOTERS);
        wal.append(1, hardState(0), List.of(entry(1), entry(2), entry(3)), true);
        wal.startFsync();
        wal.completeFsync();
        ConfState conf = wal.view(1).initialState().confState();
        wal.snapshotAndCompact(1, 2, conf, ByteString.copyFromUtf8("state"));
        wal.crash(keeping(0));
        wal.restart();
        assertEquals(2, wal.view(1).snapshotMetadata().getIndex());
        assertEquals(3, wal.view(1).lastIndex());
        assertEquals(2, wal.view(1).hardState().getCommit(), "the commit-only hard state was never written");
    }

    @Test
    void aSnapshotOfEntriesNotYetDurableIsRefused() {
        SimWal wal = new SimWal(1, VOTERS);
        wal.append(1, hardState(0), List.of(entry(1)), true);
        ConfState conf = wal.view(1).initialState().confState();
        assertThrows(IllegalStateException.class,
                () -> wal.snapshotAndCompact(1, 1, conf, ByteString.copyFromUtf8("state")));
    }

    @Test
    void installingALeadersSnapshotForcesTheLogFirst() {
        SimWal wal = new SimWal(2, VOTERS);
        Durability other = wal.append(2, hardState(0), List.of(entry(1)), true);
        wal.startFsync();
        Durability waiting = wal.append(2, null, List.of(entry(2)), true);
        ByteString data = ByteString.copyFromUtf8("snap");
        SnapshotMetadata snapshot = SnapshotMetadata.newBuilder().setIndex(5).setTerm(1)
                .setConfState(wal.view(1).initialState().confState()).setSizeBytes(data.size()).build();
        wal.installSnapshot(1, snapshot, data);
        assertTrue(other.isDurable());
        assertTrue(waiting.isDurable());
        assertEquals(0, wal.completeFsync(), "the fsync in flight has nothing left to write");
        wal.crash(keeping(0));
        wal.restart();
        assertEquals(5, wal.view(1).snapshotMetadata().getIndex());
        assertEquals(2, wal.view(2).lastIndex());
    }
}
