package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.net.client.KvClient;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On a persistent engine the log is compacted at checkpoints, not snapshot files (docs/engines.md):
 * under writes every replica compacts without writing a file; a follower that fell behind the
 * leader's compacted log makes the leader write one file, installs it and catches up; and a store
 * restarted from a checkpoint serves everything.
 */
class EngineCheckpointTest {
    private static final long SNAPSHOT_EVERY_ENTRIES = 40;
    private static final int WRITES = 300;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "engine {0}")
    @EnumSource(value = EngineKind.class, names = {"ROCKSDB", "BTREE", "BITCASK"})
    void followersCatchUpFromAFileWrittenOnlyWhenNeeded(EngineKind engine) throws Exception {
        try (LocalCluster cluster = new LocalCluster(dir, 3, SNAPSHOT_EVERY_ENTRIES, 1).withEngine(engine).startAll()) {
            long group = cluster.groups().get(0);
            Store leader = cluster.awaitLeader(group);
            LocalCluster.awaitCondition("every replica applied the leader's first entry", () -> leader.appliedIndex(group) > 0
                    && LongStream.rangeClosed(1, 3).allMatch(id -> cluster.node(id).appliedIndex(group) >= leader.appliedIndex(group)));
            long leaderChangesBefore = leaderChanges(cluster, group);
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < WRITES; i++) {
                    client.put("key-" + i, "value-" + i);
                }
            }
            long leaderId = leader.leaderId(group);
            List<Long> followers = LongStream.rangeClosed(1, 3).filter(id -> id != leaderId).boxed().toList();
            LocalCluster.awaitCondition("every replica compacts its log at checkpoints",
                    () -> LongStream.rangeClosed(1, 3).allMatch(id -> cluster.node(id).snapshotIndex(group) > 0));
            long leaderFile = cluster.node(leaderId).snapshotFileIndex(group);
            boolean steadyLeader = leaderChanges(cluster, group) == leaderChangesBefore;
            for (long id : followers) {
                // Only a leader sends snapshots, so only a leader ever needs a file. A follower holds one
                // only when it lagged past a compaction (a stalled shared machine) and installed the
                // leader's; one that led for a while (an election during the writes) may have written one.
                long followerFile = cluster.node(id).snapshotFileIndex(group);
                if (steadyLeader && leaderFile == 0) {
                    assertEquals(0, followerFile, "follower " + id + " wrote a snapshot file under a steady leader");
                } else if (steadyLeader) {
                    assertTrue(followerFile <= leaderFile, "follower " + id + " holds file " + followerFile
                            + " newer than any the only leader wrote (" + leaderFile + ")");
                }
                assertTrue(cluster.node(id).firstLogIndex(group) > 1, "follower " + id + " compacted its log");
            }

            long lagging = followers.get(1);
            cluster.stop(lagging);
            try (KvClient client = cluster.client()) {
                for (int i = WRITES; i < 2 * WRITES; i++) {
                    client.put("key-" + i, "value-" + i);
                }
            }
            Store current = cluster.awaitLeader(group);
            LocalCluster.awaitCondition("the leader compacts past what the stopped follower holds",
                    () -> current.firstLogIndex(group) > WRITES + 2);
            Store restarted = cluster.start(lagging);
            LocalCluster.awaitCondition("the restarted follower catches up through a snapshot file",
                    () -> restarted.appliedIndex(group) >= current.appliedIndex(group) && restarted.snapshotFileIndex(group) > 0);
            assertTrue(current.snapshotFileIndex(group) > 0, "the leader wrote a file when the follower needed one");
            try (KvClient local = cluster.client(List.of(lagging))) {
                for (int i = 0; i < 2 * WRITES; i++) {
                    assertEquals("value-" + i, local.get(com.google.protobuf.ByteString.copyFromUtf8("key-" + i),
                            ReadConsistency.SERIALIZABLE).orElseThrow().toStringUtf8(), "key-" + i + " on the caught-up follower");
                }
            }

            long leaderNow = current.leaderId(group);
            cluster.stop(leaderNow);
            Store back = cluster.start(leaderNow);
            assertTrue(back.snapshotIndex(group) > 0, "the restarted store starts from its newest compaction point");
            cluster.awaitLeader(group);
            try (KvClient client = cluster.client()) {
                for (int i = 0; i < 2 * WRITES; i++) {
                    assertEquals("value-" + i, client.get("key-" + i).orElseThrow(), "key-" + i + " after the restart");
                }
            }
        }
    }

    /** Leader changes every replica of {@code group} has seen: unchanged over a phase means one leader led it all. */
    private static long leaderChanges(LocalCluster cluster, long group) {
        return LongStream.rangeClosed(1, 3).map(id -> cluster.node(id).replica(group).state().leaderChanges()).sum();
    }
}
