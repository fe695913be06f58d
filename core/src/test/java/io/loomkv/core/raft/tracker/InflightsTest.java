package io.loomkv.core.raft.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InflightsTest {

    @Test
    void windowIsBoundedByCountAndFreedByAcks() {
        Inflights in = new Inflights(3, 1000);
        in.add(5, 10);
        in.add(7, 10);
        in.add(9, 10);
        assertTrue(in.full());
        assertThrows(IllegalStateException.class, () -> in.add(11, 10));
        in.freeLessOrEqual(7);
        assertEquals(1, in.count());
        assertEquals(10, in.bytes());
        assertFalse(in.full());
        // Wrap around the ring.
        in.add(11, 10);
        in.add(13, 10);
        in.freeLessOrEqual(100);
        assertEquals(0, in.count());
    }

    @Test
    void windowIsBoundedByBytes() {
        Inflights in = new Inflights(100, 50);
        in.add(1, 30);
        assertFalse(in.full());
        in.add(2, 30);
        assertTrue(in.full());
    }

    @Test
    void indexesMustIncrease() {
        Inflights in = new Inflights(10, 1000);
        in.add(5, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> in.add(5, 1));
        assertTrue(e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void progressProbeBacksOffWithHintAndReplicatePipelines() {
        Progress p = new Progress(0, 11, 4, 1000, false);
        // Rejection of the probe at index 10 with hint 3: next jumps to 4.
        assertTrue(p.maybeDecreaseTo(10, 3));
        assertEquals(4, p.next());
        // A stale rejection is ignored.
        assertFalse(p.maybeDecreaseTo(10, 3));
        assertTrue(p.maybeUpdate(5));
        p.becomeReplicate();
        assertEquals(6, p.next());
        p.sentEntries(3, 30);
        assertEquals(9, p.next());
        assertEquals(1, p.inflights().count());
        assertFalse(p.isPaused());
    }
}
