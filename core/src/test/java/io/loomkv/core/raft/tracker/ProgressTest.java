package io.loomkv.core.raft.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.SnapshotMetadata;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void snapshotTransferIsStopAndWaitAndDuplicatesDoNotSpawnStreams() {
        Progress p = new Progress(0, 1, 4, 1000, false);
        p.becomeSnapshot(SnapshotMetadata.newBuilder().setIndex(50).setSizeBytes(300).build());
        assertTrue(p.isPaused());
        p.sentSnapshotChunk(100);
        // The ack for the chunk in flight: send the next one.
        assertTrue(p.snapshotAcknowledged(100));
        assertEquals(100, p.snapshotOffsetBytes());
        p.sentSnapshotChunk(200);
        // A late answer to a duplicate (expecting 100 again... or any other offset): no new send.
        assertFalse(p.snapshotAcknowledged(100));
        assertEquals(100, p.snapshotOffsetBytes());
        assertFalse(p.snapshotAcknowledged(200), "nothing in flight any more");
        assertEquals(200, p.snapshotOffsetBytes());
        // A follower that restarted asks for offset 0.
        p.sentSnapshotChunk(300);
        assertFalse(p.snapshotAcknowledged(0));
        assertEquals(0, p.snapshotOffsetBytes());
    }

    @Test
    void finishedSnapshotReturnsToProbingAfterIt() {
        Progress p = new Progress(0, 1, 4, 1000, false);
        p.becomeSnapshot(SnapshotMetadata.newBuilder().setIndex(50).setSizeBytes(300).build());
        p.maybeUpdate(50);
        p.becomeProbe();
        assertEquals(ProgressState.PROBE, p.state());
        assertEquals(51, p.next());
        assertEquals(null, p.snapshotInTransfer());
    }
}
