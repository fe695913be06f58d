package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.compress.ZstdStreamCodec;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvSnapshotSummary;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.store.proto.GroupSnapshotReply;
import io.loomkv.net.store.proto.GroupSnapshotRequest;
import io.loomkv.persist.snap.SnapshotFile;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup's store RPC ({@link NodeMethods#GROUP_SNAPSHOT}): a follower names the leader; the
 * leader first makes a snapshot that covers what it applied, then hands out its file in chunks no
 * larger than asked; a read of a snapshot that a newer one replaced is told to start over.
 */
class GroupSnapshotSourceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(70);
    private static final int CHUNK_BYTES = 256;

    @TempDir
    Path dir;

    @Test
    void leaderHandsOutAFreshSnapshotInBoundedChunks() throws Exception {
        // No snapshot by threshold in this test: every one is the backup's.
        try (LocalCluster cluster = new LocalCluster(dir, 3, 1_000_000, 2).startAll()) {
            cluster.awaitLeaders();
            KvClient client = cluster.client();
            for (int i = 0; i < 40; i++) {
                client.put(cluster.keyIn(1, "key-" + i), "value-" + i + "-" + java.util.UUID.randomUUID());
            }
            Store leader = cluster.awaitLeader(1);
            InetSocketAddress leaderAddress = cluster.address(leader.storeId()).clientAddress();
            long follower = leader.storeId() == 1 ? 2 : 1;

            GroupSnapshotReply notLeader = client.groupSnapshot(cluster.address(follower).clientAddress(), begin(), TIMEOUT);
            assertFalse(notLeader.getLeader());
            assertEquals(leader.storeId(), notLeader.getLeaderId());
            assertEquals(MemberAddress.format(leaderAddress), notLeader.getLeaderAddress());

            GroupSnapshotReply tooLarge = client.groupSnapshot(leaderAddress, begin().toBuilder()
                    .setMaxChunkBytes(GroupSnapshotSource.MAX_CHUNK_BYTES + 1).build(), TIMEOUT);
            assertFalse(tooLarge.getError().isEmpty());

            GroupSnapshotReply first = client.groupSnapshot(leaderAddress, begin(), TIMEOUT);
            assertTrue(first.getLeader() && first.getError().isEmpty(), first.getError());
            SnapshotMetadata metadata = first.getMetadata();
            Path file = download(client, leaderAddress, first);
            assertEquals(metadata.getSizeBytes(), Files.size(file));
            assertTrue(metadata.getSizeBytes() > CHUNK_BYTES, "several chunks: " + metadata.getSizeBytes());
            KvSnapshotSummary summary;
            SnapshotFile snapshot = SnapshotFile.open(file);
            try (InputStream in = snapshot.openData(ZstdStreamCodec.withDefaults(), 1L << 30)) {
                summary = KvSnapshotSummary.read(in, KvLimits.defaults(), 1);
            }
            assertEquals(40, summary.keyCount());
            assertEquals(metadata.getIndex(), summary.lastAppliedIndex());

            client.put(cluster.keyIn(1, "later"), "x");
            GroupSnapshotReply newer = client.groupSnapshot(leaderAddress, begin(), TIMEOUT);
            assertTrue(newer.getMetadata().getIndex() > metadata.getIndex(), "a new snapshot covers the later write");
            GroupSnapshotReply stale = client.groupSnapshot(leaderAddress, chunkOf(metadata, CHUNK_BYTES), TIMEOUT);
            assertTrue(stale.getReplaced(), stale.toString());
        }
    }

    private static GroupSnapshotRequest begin() {
        return GroupSnapshotRequest.newBuilder().setGroupId(1).setMaxChunkBytes(CHUNK_BYTES).build();
    }

    private static GroupSnapshotRequest chunkOf(SnapshotMetadata metadata, long offset) {
        return begin().toBuilder().setSnapshotIndex(metadata.getIndex()).setSnapshotTerm(metadata.getTerm())
                .setOffsetBytes(offset).build();
    }

    private Path download(KvClient client, InetSocketAddress leader, GroupSnapshotReply first) throws Exception {
        Path file = dir.resolve("group-1.snap");
        SnapshotMetadata metadata = first.getMetadata();
        try (OutputStream out = Files.newOutputStream(file)) {
            GroupSnapshotReply reply = first;
            long offset = 0;
            while (true) {
                assertTrue(reply.getError().isEmpty(), reply.getError());
                assertTrue(reply.getChunk().size() <= CHUNK_BYTES, "chunk of " + reply.getChunk().size());
                reply.getChunk().writeTo(out);
                offset += reply.getChunk().size();
                if (offset == metadata.getSizeBytes()) {
                    return file;
                }
                reply = client.groupSnapshot(leader, chunkOf(metadata, offset), TIMEOUT);
            }
        }
    }
}
