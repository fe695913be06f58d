package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class LoopTickerTest {
    @Test
    void anUntimedWaiterIsWokenOnceItsTickIsDueAndTheTickerStops() throws Exception {
        AtomicLong wokenAtNanos = new AtomicLong();
        long dueNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        // A stand-in for the Raft loop: it parks without a timeout until its tick is due.
        Thread loop = Thread.ofVirtual().unstarted(() -> {
            while (System.nanoTime() - dueNanos < 0) {
                LockSupport.park();
            }
            wokenAtNanos.set(System.nanoTime());
        });
        LoopTicker ticker = new LoopTicker(loop, TimeUnit.MILLISECONDS.toNanos(50), dueNanos);
        loop.start();
        Thread tickerThread = Thread.ofVirtual().start(ticker);
        assertTrue(loop.join(Duration.ofSeconds(30)), "the loop was never woken for its tick");
        assertTrue(wokenAtNanos.get() - dueNanos >= 0);
        ticker.stop();
        assertTrue(tickerThread.join(Duration.ofSeconds(30)), "the ticker did not stop");
    }

    @Test
    void aMovedTickIsWhatTheTickerWaitsFor() throws Exception {
        AtomicLong wakeUps = new AtomicLong();
        Thread loop = Thread.ofVirtual().unstarted(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                LockSupport.park();
                wakeUps.incrementAndGet();
            }
        });
        LoopTicker ticker = new LoopTicker(loop, TimeUnit.MILLISECONDS.toNanos(5), System.nanoTime());
        loop.start();
        Thread tickerThread = Thread.ofVirtual().start(ticker);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (wakeUps.get() == 0) {
            assertTrue(System.nanoTime() < deadline, "a due tick did not wake the loop");
            Thread.sleep(1);
        }
        // The loop ticked and moved its next tick an hour on: the ticker must stop waking it.
        ticker.nextTickAt(System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        Thread.sleep(20);
        long settled = wakeUps.get();
        Thread.sleep(100);
        assertTrue(wakeUps.get() - settled <= 1, "woken " + (wakeUps.get() - settled) + " times with no tick due");
        ticker.stop();
        loop.interrupt();
        assertTrue(tickerThread.join(Duration.ofSeconds(30)));
        assertTrue(loop.join(Duration.ofSeconds(30)));
    }
}
