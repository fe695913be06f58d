package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class VirtualThreadWakerTest {

    /** Threads that park until {@code released} is set, counting down {@code woken} once it is. */
    private static List<Thread> parkedThreads(int count, AtomicBoolean released, CountDownLatch woken) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (!released.get()) {
                    LockSupport.park();
                }
                woken.countDown();
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Thread thread : threads) {
            while (thread.getState() != Thread.State.WAITING) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("thread never parked: " + thread.getState());
                }
                Thread.sleep(1);
            }
        }
        return threads;
    }

    @Test
    void everyThreadOfEveryGroupIsWokenWhetherHandedOverOrNot() throws Exception {
        VirtualThreadWaker waker = new VirtualThreadWaker("test-waker");
        waker.start();
        try {
            AtomicBoolean released = new AtomicBoolean(true);
            for (int size : new int[] {1, VirtualThreadWaker.MIN_GROUP - 1, VirtualThreadWaker.MIN_GROUP, 64}) {
                released.set(false);
                CountDownLatch woken = new CountDownLatch(size);
                List<Thread> group = parkedThreads(size, released, woken);
                released.set(true);
                waker.unparkAll(group);
                assertTrue(woken.await(30, TimeUnit.SECONDS), "group of " + size + ": " + woken.getCount() + " never woken");
            }
            waker.unparkAll(List.of());
        } finally {
            waker.close();
        }
    }

    @Test
    void closeWakesWhatWasHandedOverAndLaterGroupsAreWokenDirectly() throws Exception {
        VirtualThreadWaker waker = new VirtualThreadWaker("test-waker");
        AtomicBoolean released = new AtomicBoolean(false);
        CountDownLatch woken = new CountDownLatch(16);
        List<Thread> group = parkedThreads(8, released, woken);
        released.set(true);
        // Not started: the group waits in the hand-off queue until close wakes it.
        waker.unparkAll(group);
        waker.close();
        AtomicBoolean lateReleased = new AtomicBoolean(false);
        List<Thread> late = parkedThreads(8, lateReleased, woken);
        lateReleased.set(true);
        waker.unparkAll(late);
        assertTrue(woken.await(30, TimeUnit.SECONDS), "never woken: " + woken.getCount());
        assertEquals(0, woken.getCount());
    }
}
