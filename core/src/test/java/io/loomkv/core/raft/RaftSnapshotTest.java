package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.raft.tracker.ProgressState;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Raft paper section 7 (log compaction) with snapshots sent in bounded chunks. */
class RaftSnapshotTest {

    private static TestCluster laggingFollowerCluster(int chunkBytes) {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxSnapshotChunkBytes(chunkBytes));
        c.elect(1);
        c.isolate(3);
        for (int i = 0; i < 20; i++) {
            c.node(1).propose(ByteString.copyFromUtf8("value-" + i + ";"));
        }
        c.stabilize();
        return c;
    }

    @Test
    void compactionDiscardsAppliedEntriesUpToSnapshot() {
        TestCluster c = laggingFollowerCluster(64);
        SnapshotMetadata meta = c.snapshotAndCompact(1);
        MemoryStorage s = c.storages.get(1L);
        assertEquals(meta.getIndex() + 1, s.firstIndex());
        assertEquals(meta.getIndex(), s.lastIndex());
        assertEquals(meta.getTerm(), s.term(meta.getIndex()));
        // The node still serves appends beyond the snapshot.
        c.heal();
        c.propose(1, "after;");
        assertTrue(c.appliedData(2).contains("after;"));
    }

    @Test
    void followerBehindFirstIndexReceivesSnapshotInBoundedChunks() {
        TestCluster c = laggingFollowerCluster(32);
        SnapshotMetadata meta = c.snapshotAndCompact(1);
        assertTrue(meta.getSizeBytes() > 3 * 32, "snapshot must need several chunks, size " + meta.getSizeBytes());
        c.heal();
        c.tickAll(5);
        List<Message> chunks = c.deliveredOfType(MessageType.MSG_SNAP).stream().filter(m -> m.getTo() == 3).toList();
        assertTrue(chunks.size() >= 4, "chunks " + chunks.size());
        for (Message m : chunks) {
            assertTrue(m.getSnapshotChunk().size() <= 32, "chunk of " + m.getSnapshotChunk().size() + " bytes");
        }
        assertEquals(meta.getIndex(), c.storages.get(3L).snapshotMetadata().getIndex());
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
        c.propose(1, "after;");
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
        assertEquals(ProgressState.REPLICATE, c.node(1).status().progress().get(3L).state());
    }

    @Test
    void chunkAtUnexpectedOffsetIsAnsweredWithTheExpectedOffset() {
        TestCluster c = TestCluster.of(3);
        SnapshotMetadata meta = SnapshotMetadata.newBuilder().setIndex(10).setTerm(1).setSizeBytes(100)
                .setConfState(c.node(1).status().confState()).build();
        RaftNode follower = c.node(2);
        follower.step(Message.newBuilder().setType(MessageType.MSG_SNAP).setFrom(1).setTo(2).setTerm(1)
                .setSnapshot(meta).setIndex(10).setSnapshotOffset(40).setSnapshotChunk(ByteString.copyFrom(new byte[10]))
                .build());
        Ready rd = follower.ready();
        assertTrue(rd.snapshotChunks().isEmpty(), "an out-of-order chunk must not be staged");
        Message resp = rd.messagesAfterPersist().get(0);
        assertEquals(MessageType.MSG_SNAP_RESP, resp.getType());
        assertEquals(0, resp.getSnapshotOffset());
        follower.advance();
        // The first chunk is accepted, and the next expected offset is acknowledged.
        follower.step(Message.newBuilder().setType(MessageType.MSG_SNAP).setFrom(1).setTo(2).setTerm(1)
                .setSnapshot(meta).setIndex(10).setSnapshotOffset(0).setSnapshotChunk(ByteString.copyFrom(new byte[30]))
                .build());
        rd = follower.ready();
        assertEquals(1, rd.snapshotChunks().size());
        assertEquals(30, rd.messagesAfterPersist().get(0).getSnapshotOffset());
        assertEquals(null, rd.snapshot());
        follower.advance();
    }

    @Test
    void chunkBeyondTheSnapshotSizeIsRejected() {
        TestCluster c = TestCluster.of(3);
        SnapshotMetadata meta = SnapshotMetadata.newBuilder().setIndex(10).setTerm(1).setSizeBytes(20)
                .setConfState(c.node(1).status().confState()).build();
        c.node(2).step(Message.newBuilder().setType(MessageType.MSG_SNAP).setFrom(1).setTo(2).setTerm(1)
                .setSnapshot(meta).setIndex(10).setSnapshotOffset(0).setSnapshotChunk(ByteString.copyFrom(new byte[30]))
                .build());
        Ready rd = c.node(2).ready();
        assertTrue(rd.snapshotChunks().isEmpty());
        assertTrue(rd.messagesAfterPersist().get(0).getReject());
        c.node(2).advance();
    }

    @Test
    void lostChunkIsResentFromLastAcknowledgedOffset() {
        TestCluster c = laggingFollowerCluster(64);
        c.snapshotAndCompact(1);
        AtomicBoolean droppedOnce = new AtomicBoolean();
        c.dropFilter = m -> m.getType() == MessageType.MSG_SNAP && m.getSnapshotOffset() == 128
                && droppedOnce.compareAndSet(false, true);
        c.heal();
        c.tickAll(10);
        assertTrue(droppedOnce.get());
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
    }

    @Test
    void newerSnapshotDuringTransferRestartsIt() {
        TestCluster c = laggingFollowerCluster(64);
        c.snapshotAndCompact(1);
        c.heal();
        // Deliver until the first chunk reached 3, then take a newer snapshot on the leader.
        c.tick(1);
        for (int guard = 0; c.deliveredOfType(MessageType.MSG_SNAP).isEmpty(); guard++) {
            assertTrue(guard < 1000, "no snapshot chunk was sent");
            c.process(1);
            c.process(2);
            c.process(3);
            c.deliverOne();
        }
        c.cut(1, 3);
        c.stabilize();
        c.propose(1, "more;");
        SnapshotMetadata newer = c.snapshotAndCompact(1);
        c.heal();
        c.tickAll(10);
        assertEquals(newer.getIndex(), c.storages.get(3L).snapshotMetadata().getIndex());
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
    }

    @Test
    void followerRefusesSnapshotLargerThanItsLimit() {
        TestCluster c = TestCluster.of(3, id -> TestCluster.defaults(id).maxSnapshotChunkBytes(64)
                .maxSnapshotSizeBytes(id == 3 ? 10 : 1L << 30));
        c.elect(1);
        c.isolate(3);
        for (int i = 0; i < 10; i++) {
            c.node(1).propose(ByteString.copyFromUtf8("value-" + i + ";"));
        }
        c.stabilize();
        c.snapshotAndCompact(1);
        c.heal();
        c.tickAll(5);
        assertTrue(c.deliveredOfType(MessageType.MSG_SNAP_RESP).stream().anyMatch(Message::getReject));
        assertEquals(0, c.storages.get(3L).snapshotMetadata().getIndex());
        assertEquals(1, c.leader(), "the leader keeps leading");
    }

    @Test
    void snapshotOlderThanFollowersCommitIsAcknowledgedWithoutInstall() {
        TestCluster c = laggingFollowerCluster(64);
        c.heal();
        c.tickAll(3);
        long commit = c.node(3).status().commitIndex();
        SnapshotMetadata stale = SnapshotMetadata.newBuilder().setIndex(commit - 1).setTerm(1).setSizeBytes(1)
                .setConfState(c.node(3).status().confState()).build();
        c.node(3).step(Message.newBuilder().setType(MessageType.MSG_SNAP).setFrom(1).setTo(3)
                .setTerm(c.node(1).status().term()).setSnapshot(stale).setIndex(stale.getIndex())
                .setSnapshotChunk(ByteString.copyFrom(new byte[1])).setSnapshotDone(true).build());
        Ready rd = c.node(3).ready();
        assertEquals(null, rd.snapshot());
        assertTrue(rd.snapshotChunks().isEmpty());
        Message resp = rd.messagesAfterPersist().get(0);
        assertEquals(MessageType.MSG_APP_RESP, resp.getType());
        assertEquals(commit, resp.getIndex());
        c.node(3).advance();
    }

    @Test
    void reportedSnapshotFailureFallsBackToProbingAndRetries() {
        TestCluster c = laggingFollowerCluster(64);
        c.snapshotAndCompact(1);
        // Every chunk to 3 is lost; the runtime reports the failure.
        c.dropFilter = m -> m.getType() == MessageType.MSG_SNAP;
        c.heal();
        c.tickAll(2);
        assertEquals(ProgressState.SNAPSHOT, c.node(1).status().progress().get(3L).state());
        c.node(1).reportSnapshotFailure(3);
        assertEquals(ProgressState.PROBE, c.node(1).status().progress().get(3L).state());
        c.dropFilter = m -> false;
        c.tickAll(10);
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
        assertEquals(ProgressState.REPLICATE, c.node(1).status().progress().get(3L).state());
    }

    @Test
    void snapshotRestoredWhileAReadyIsOutstandingSupersedesItsConfChanges() {
        // Found by randomized seed 25793: a follower still applying a Ready that held "enter joint"
        // received a snapshot taken after the joint config was left.
        TestCluster c = TestCluster.of(3);
        RaftNode follower = c.node(2);
        io.loomkv.core.raft.proto.ConfChange enterJoint = RaftMembershipTest.change(
                io.loomkv.core.raft.proto.ConfChangeTransition.CONF_CHANGE_TRANSITION_AUTO,
                io.loomkv.core.raft.proto.ConfChangeType.CONF_CHANGE_ADD_NODE, 4L,
                io.loomkv.core.raft.proto.ConfChangeType.CONF_CHANGE_REMOVE_NODE, 3L);
        io.loomkv.core.raft.proto.Entry cc = io.loomkv.core.raft.proto.Entry.newBuilder().setTerm(1).setIndex(1)
                .setType(io.loomkv.core.raft.proto.EntryType.ENTRY_CONF_CHANGE).setData(enterJoint.toByteString()).build();
        follower.step(Message.newBuilder().setType(MessageType.MSG_APP).setFrom(1).setTo(2).setTerm(1)
                .setIndex(0).setLogTerm(0).addEntries(cc).setCommit(1).build());
        Ready rd = follower.ready();
        assertEquals(1, rd.committedEntries().size());
        // Before the runtime applies it, a snapshot of the later, non-joint config arrives.
        io.loomkv.core.raft.proto.ConfState after = io.loomkv.core.raft.proto.ConfState.newBuilder()
                .addVoters(1).addVoters(2).addVoters(4).build();
        SnapshotMetadata meta = SnapshotMetadata.newBuilder().setIndex(10).setTerm(1).setSizeBytes(1)
                .setConfState(after).build();
        follower.step(Message.newBuilder().setType(MessageType.MSG_SNAP).setFrom(1).setTo(2).setTerm(1)
                .setSnapshot(meta).setIndex(10).setSnapshotChunk(ByteString.copyFrom(new byte[1]))
                .setSnapshotDone(true).build());
        // The runtime now applies the old entry: the membership stays the snapshot's.
        assertEquals(after, follower.applyConfChange(enterJoint));
        follower.advance();
        Ready next = follower.ready();
        assertEquals(meta, next.snapshot());
        follower.advance();
        assertEquals(after, follower.status().confState());
        assertEquals(10, follower.status().appliedIndex());
    }

    /** A storage whose compaction point has no snapshot to send until {@link #ready} is set (a persistent engine's). */
    private static final class NotYetWrittenSnapshot implements Storage {
        private final Storage delegate;
        volatile boolean ready;
        int asked;

        NotYetWrittenSnapshot(Storage delegate) {
            this.delegate = delegate;
        }

        @Override
        public SnapshotMetadata snapshotForTransfer() {
            asked++;
            if (!ready) {
                throw new SnapshotTemporarilyUnavailableException("not written yet");
            }
            return delegate.snapshotForTransfer();
        }

        @Override
        public InitialState initialState() {
            return delegate.initialState();
        }

        @Override
        public List<io.loomkv.core.raft.proto.Entry> entries(long fromIndex, long toIndexExclusive, long maxSizeBytes) {
            return delegate.entries(fromIndex, toIndexExclusive, maxSizeBytes);
        }

        @Override
        public long term(long index) {
            return delegate.term(index);
        }

        @Override
        public long firstIndex() {
            return delegate.firstIndex();
        }

        @Override
        public long lastIndex() {
            return delegate.lastIndex();
        }

        @Override
        public SnapshotMetadata snapshotMetadata() {
            return delegate.snapshotMetadata();
        }

        @Override
        public ByteString readSnapshotChunk(SnapshotMetadata metadata, long offsetBytes, int maxSizeBytes) {
            return delegate.readSnapshotChunk(metadata, offsetBytes, maxSizeBytes);
        }
    }

    @Test
    void snapshotNotYetWrittenIsAskedForAgainOnLaterHeartbeatsAndSentOnceReady() {
        TestCluster c = laggingFollowerCluster(64);
        SnapshotMetadata meta = c.snapshotAndCompact(1);
        c.crash(1);
        NotYetWrittenSnapshot[] gate = new NotYetWrittenSnapshot[1];
        c.restart(1, storage -> gate[0] = new NotYetWrittenSnapshot(storage));
        c.elect(1);
        c.heal();
        c.tickAll(10);
        assertTrue(gate[0].asked >= 2, "the leader must ask again on later heartbeats, asked " + gate[0].asked);
        assertTrue(c.deliveredOfType(MessageType.MSG_SNAP).stream().noneMatch(m -> m.getTo() == 3),
                "nothing is sent while no snapshot is ready");
        assertEquals(0, c.storages.get(3L).snapshotMetadata().getIndex());
        // Writes keep committing on the two others meanwhile.
        c.propose(1, "meanwhile;");
        assertTrue(c.appliedData(2).contains("meanwhile;"));

        gate[0].ready = true;
        c.tickAll(10);
        assertEquals(meta.getIndex(), c.storages.get(3L).snapshotMetadata().getIndex());
        assertEquals(c.stateMachine.get(1L), c.stateMachine.get(3L));
        assertEquals(ProgressState.REPLICATE, c.node(1).status().progress().get(3L).state());
    }
}
