package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SweeperSleepTest {
    private static final long HOUR_NANOS = TimeUnit.HOURS.toNanos(1);

    @Test
    void withNothingToWatchTheSweeperParksUntilWorkIsAdded() throws Exception {
        SweeperSleep sleep = new SweeperSleep(HOUR_NANOS);
        AtomicBoolean work = new AtomicBoolean();
        Thread sweeper = Thread.ofVirtual().start(() -> sleep.sleep(false, work::get));
        awaitTrue(sleep::isParkedIdle);
        assertTrue(sweeper.isAlive());
        work.set(true);
        sleep.workAdded();
        assertTrue(sweeper.join(Duration.ofSeconds(30)), "the sweeper did not wake for new work");
        assertFalse(sleep.isParkedIdle());
    }

    @Test
    void workFoundOnTheSecondLookKeepsTheSweeperAwake() throws Exception {
        SweeperSleep sleep = new SweeperSleep(HOUR_NANOS);
        AtomicInteger looks = new AtomicInteger();
        // The work arrived between the sweep and the sleep: the second look must find it, with no
        // workAdded() call at all (the producer saw no parked sweeper yet).
        Thread sweeper = Thread.ofVirtual().start(() -> sleep.sleep(false, () -> looks.incrementAndGet() > 0));
        assertTrue(sweeper.join(Duration.ofSeconds(30)), "the sweeper parked although work was there");
        assertEquals(1, looks.get());
    }

    @Test
    void aWakeUpThatComesBeforeTheParkIsNotLost() throws Exception {
        SweeperSleep sleep = new SweeperSleep(HOUR_NANOS);
        // The producer's workAdded() runs while the sweeper is between publishing itself and parking.
        Thread sweeper = Thread.ofVirtual().start(() -> sleep.sleep(false, () -> {
            sleep.workAdded();
            return false;
        }));
        assertTrue(sweeper.join(Duration.ofSeconds(30)), "the wake-up before the park was lost");
    }

    @Test
    void anInterruptedSweeperDoesNotPark() throws Exception {
        SweeperSleep sleep = new SweeperSleep(HOUR_NANOS);
        Thread sweeper = Thread.ofVirtual().unstarted(() -> {
            Thread.currentThread().interrupt();
            sleep.sleep(false, () -> false);
        });
        sweeper.start();
        assertTrue(sweeper.join(Duration.ofSeconds(30)), "an interrupted sweeper parked");
    }

    @Test
    void withWorkToWatchTheSweeperSleepsOneIntervalAndDoesNotLookAgain() throws Exception {
        SweeperSleep sleep = new SweeperSleep(TimeUnit.MILLISECONDS.toNanos(1));
        Thread sweeper = Thread.ofVirtual().start(() -> sleep.sleep(true, () -> {
            throw new AssertionError("a busy sweeper must not look for work again");
        }));
        assertTrue(sweeper.join(Duration.ofSeconds(30)), "the timed sleep did not end");
        assertFalse(sleep.isParkedIdle());
    }

    @Test
    void theIntervalMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new SweeperSleep(0));
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within 30 s");
            }
            Thread.sleep(1);
        }
    }
}
