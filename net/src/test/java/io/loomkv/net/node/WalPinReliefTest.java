package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.raft.StoreLogOptions;
import io.loomkv.persist.wal.PinningGroup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slow group that keeps old segments of the shared WAL alive is relieved the cheapest way that
 * works: release behind a snapshot that already covers it, a snapshot when its entries are
 * applied, a rewrite of its log when they are not.
 */
class WalPinReliefTest {
    private static final ConfState VOTERS = ConfState.newBuilder().addVoters(1).build();
    private static final long SLOW = 1;
    private static final long BUSY = 2;

    @TempDir
    Path dir;

    /** A replica as relief sees it: its applied index, and whether it was asked for a snapshot. */
    private static final class FakeReplica implements WalPinRelief.PinnedReplica {
        final long applied;
        int snapshotsRequested;

        FakeReplica(long applied) {
            this.applied = applied;
        }

        @Override
        public long appliedIndex() {
            return applied;
        }

        @Override
        public void requestSnapshot() {
            snapshotsRequested++;
        }
    }

    @Test
    void aGroupWhoseSnapshotCoversItsPinnedEntriesGivesUpItsFallbackLog() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage slow = pinnedSlowGroup(log);
            slow.createSnapshot(5, VOTERS, out -> out.write(1));
            FakeReplica replica = new FakeReplica(5);
            relief(log, replica).relieveNow();
            assertEquals(List.of(), log.pinningGroups());
            assertEquals(0, replica.snapshotsRequested);
        }
    }

    @Test
    void aGroupThatAppliedItsPinnedEntriesIsAskedForASnapshot() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            pinnedSlowGroup(log);
            FakeReplica replica = new FakeReplica(5);
            relief(log, replica).relieveNow();
            assertEquals(1, replica.snapshotsRequested);
            assertEquals(List.of(SLOW), pinned(log), "nothing is freed until the snapshot exists");
        }
    }

    @Test
    void aGroupThatHasNotAppliedItsPinnedEntriesRewritesItsLog() throws Exception {
        try (StoreLog log = StoreLog.open(options())) {
            GroupStorage slow = pinnedSlowGroup(log);
            FakeReplica replica = new FakeReplica(2); // A follower behind its own log.
            relief(log, replica).relieveNow();
            assertEquals(List.of(), log.pinningGroups());
            assertEquals(0, replica.snapshotsRequested);
            assertEquals(5, slow.lastIndex());
            assertTrue(log.walSegmentCount() <= 2, "segments left: " + log.walSegmentCount());
        }
        try (StoreLog log = StoreLog.open(options())) {
            assertEquals(entries(1, 5), log.group(SLOW).entries(1, 6, Long.MAX_VALUE), "the rewritten log survives a restart");
        }
    }

    private StoreLogOptions options() {
        return StoreLogOptions.defaults(dir).withSegmentSizeBytes(256 * 1024).withMaxRetainedSegments(2);
    }

    private static WalPinRelief relief(StoreLog log, FakeReplica slowReplica) {
        Map<Long, WalPinRelief.PinnedReplica> replicas = new HashMap<>();
        replicas.put(SLOW, slowReplica);
        return new WalPinRelief(1, log, replicas::get);
    }

    private static List<Long> pinned(StoreLog log) {
        return log.pinningGroups().stream().map(PinningGroup::groupId).toList();
    }

    /** Group SLOW writes entries 1..5 first; group BUSY fills segments past the bound, then releases its own. */
    private static GroupStorage pinnedSlowGroup(StoreLog log) throws Exception {
        GroupStorage slow = log.createGroup(SLOW);
        GroupStorage busy = log.createGroup(BUSY);
        slow.append(HardState.newBuilder().setTerm(1).setCommit(5).build(), entries(1, 5)).get(10, TimeUnit.SECONDS);
        long next = 1;
        while (log.walSegmentCount() < 5) {
            busy.append(null, List.of(entry(next, 4000))).get(10, TimeUnit.SECONDS);
            next++;
        }
        busy.createSnapshot(next - 1, VOTERS, out -> out.write(2));
        busy.releaseWalTo(next - 1);
        assertEquals(List.of(SLOW), pinned(log), "only the slow group holds old segments");
        return slow;
    }

    private static List<Entry> entries(long from, long to) {
        List<Entry> entries = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            entries.add(entry(i, 100));
        }
        return entries;
    }

    private static Entry entry(long index, int bytes) {
        byte[] data = new byte[bytes];
        data[0] = (byte) index;
        return Entry.newBuilder().setIndex(index).setTerm(1).setData(ByteString.copyFrom(data)).build();
    }
}
