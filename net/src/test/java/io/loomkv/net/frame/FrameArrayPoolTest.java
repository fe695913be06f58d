package io.loomkv.net.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FrameArrayPoolTest {

    @Test
    void lendsArraysOfTheSizeClassAndTakesThemBack() {
        FrameArrayPool pool = new FrameArrayPool(4);
        assertEquals(128 * 1024, pool.take(1).length);
        assertEquals(128 * 1024, pool.take(128 * 1024).length);
        assertEquals(256 * 1024, pool.take(128 * 1024 + 1).length);
        assertEquals(512 * 1024, pool.take(300_000).length);
        assertEquals(1024 * 1024, pool.take(1024 * 1024).length);

        byte[] lent = pool.take(200_000);
        pool.give(lent);
        assertEquals(1, pool.pooledArrays());
        assertSame(lent, pool.take(256 * 1024), "the class's array is lent again");
        assertNotSame(lent, pool.take(256 * 1024), "and only once");
        assertEquals(0, pool.pooledArrays());
    }

    @Test
    void largerRequestsGetExactArraysThatAreNotKept() {
        FrameArrayPool pool = new FrameArrayPool(4);
        byte[] huge = pool.take(FrameArrayPool.LARGEST_CLASS_BYTES + 1);
        assertEquals(FrameArrayPool.LARGEST_CLASS_BYTES + 1, huge.length);
        pool.give(huge);
        pool.give(new byte[200_000]); // not a class size: not one of ours
        pool.give(new byte[64 * 1024]); // below the smallest class
        assertEquals(0, pool.pooledArrays());
    }

    @Test
    void aFullClassDropsWhatIsGivenBeyondIt() {
        FrameArrayPool pool = new FrameArrayPool(2);
        for (int i = 0; i < 5; i++) {
            pool.give(new byte[512 * 1024]);
        }
        assertEquals(2, pool.pooledArrays(), "at most arraysPerClass arrays held per class");
        assertThrows(IllegalArgumentException.class, () -> pool.take(-1));
        assertThrows(IllegalArgumentException.class, () -> new FrameArrayPool(1));
    }
}
