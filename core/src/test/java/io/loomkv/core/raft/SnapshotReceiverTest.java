package io.loomkv.core.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.SnapshotReceiver.Outcome;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import org.junit.jupiter.api.Test;

class SnapshotReceiverTest {
    private static final SnapshotMetadata META = SnapshotMetadata.newBuilder().setIndex(9).setTerm(2).setSizeBytes(10).build();

    private static ByteString bytes(int n) {
        return ByteString.copyFrom(new byte[n]);
    }

    @Test
    void chunksAreAcceptedInOrderUntilComplete() {
        SnapshotReceiver r = new SnapshotReceiver(100, 4);
        assertEquals(Outcome.ACCEPTED, r.receive(META, 0, bytes(4), false).outcome());
        assertEquals(8, r.receive(META, 4, bytes(4), false).nextOffsetBytes());
        SnapshotReceiver.Result done = r.receive(META, 8, bytes(2), true);
        assertEquals(Outcome.COMPLETE, done.outcome());
        assertEquals(8, done.chunk().offsetBytes());
        // After completion a late duplicate is out of order (the transfer is over).
        assertEquals(Outcome.OUT_OF_ORDER, r.receive(META, 8, bytes(2), true).outcome());
    }

    @Test
    void duplicatesAndGapsAreAnsweredWithTheExpectedOffset() {
        SnapshotReceiver r = new SnapshotReceiver(100, 4);
        assertEquals(0, r.receive(META, 4, bytes(4), false).nextOffsetBytes(), "nothing started yet");
        r.receive(META, 0, bytes(4), false);
        SnapshotReceiver.Result restart = r.receive(META, 0, bytes(4), false);
        assertEquals(Outcome.ACCEPTED, restart.outcome(), "offset 0 restarts the transfer");
        SnapshotReceiver.Result gap = r.receive(META, 8, bytes(2), true);
        assertEquals(Outcome.OUT_OF_ORDER, gap.outcome());
        assertEquals(4, gap.nextOffsetBytes());
        SnapshotMetadata other = META.toBuilder().setIndex(12).build();
        assertEquals(0, r.receive(other, 4, bytes(4), false).nextOffsetBytes(), "another snapshot starts at 0");
    }

    @Test
    void chunksBreakingLimitsOrMetadataAreInvalid() {
        SnapshotReceiver r = new SnapshotReceiver(100, 4);
        assertEquals(Outcome.INVALID, r.receive(META, 0, bytes(5), false).outcome(), "chunk too large");
        assertEquals(Outcome.INVALID, r.receive(META, 8, bytes(4), false).outcome(), "past the snapshot size");
        assertEquals(Outcome.INVALID, r.receive(META, 0, bytes(4), true).outcome(), "last chunk ends early");
        SnapshotReceiver small = new SnapshotReceiver(5, 4);
        assertEquals(Outcome.INVALID, small.receive(META, 0, bytes(4), false).outcome(), "snapshot too large");
    }
}
