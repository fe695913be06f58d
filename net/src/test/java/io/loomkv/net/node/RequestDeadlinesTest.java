package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RequestDeadlinesTest {
    /** Long enough that the background sweep never fires during a test; the tests sweep by hand. */
    private static final long TIMEOUT_MILLIS = 600_000;
    private static final long TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);

    @Test
    void aRequestWithoutAnAnswerGetsTheTimeoutReplyOnlyAfterItsDeadline() {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", TIMEOUT_MILLIS, "TIMEOUT")) {
            CompletableFuture<String> reply = deadlines.track(new CompletableFuture<>());
            long now = System.nanoTime();
            assertEquals(0, deadlines.sweep(now));
            assertFalse(reply.isDone());
            assertEquals(1, deadlines.sweep(now + TIMEOUT_NANOS + 1));
            assertEquals("TIMEOUT", reply.join());
            assertEquals(0, deadlines.trackedCount());
        }
    }

    @Test
    void answeredRequestsAreDroppedAndKeepTheirAnswer() {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", TIMEOUT_MILLIS, "TIMEOUT")) {
            CompletableFuture<String> first = deadlines.track(new CompletableFuture<>());
            CompletableFuture<String> second = deadlines.track(new CompletableFuture<>());
            CompletableFuture<String> third = deadlines.track(new CompletableFuture<>());
            assertEquals(3, deadlines.trackedCount());
            second.complete("second");
            first.complete("first");
            assertEquals(0, deadlines.sweep(System.nanoTime()));
            // The answered head and the answered one behind it are gone; the waiting one stays.
            assertEquals(1, deadlines.trackedCount());
            assertEquals(1, deadlines.sweep(System.nanoTime() + TIMEOUT_NANOS + 1));
            assertEquals("first", first.join());
            assertEquals("second", second.join());
            assertEquals("TIMEOUT", third.join());
        }
    }

    @Test
    void anAnsweredRequestBehindAWaitingOneStaysTrackedUntilTheHeadMoves() {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", TIMEOUT_MILLIS, "TIMEOUT")) {
            CompletableFuture<String> waiting = deadlines.track(new CompletableFuture<>());
            CompletableFuture<String> answered = deadlines.track(new CompletableFuture<>());
            answered.complete("ok");
            assertEquals(0, deadlines.sweep(System.nanoTime()));
            assertEquals(2, deadlines.trackedCount());
            waiting.complete("late");
            assertEquals(0, deadlines.sweep(System.nanoTime()));
            assertEquals(0, deadlines.trackedCount());
        }
    }

    @Test
    void anAlreadyAnsweredRequestIsNotTracked() {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", TIMEOUT_MILLIS, "TIMEOUT")) {
            CompletableFuture<String> done = CompletableFuture.completedFuture("done");
            assertSame(done, deadlines.track(done));
            assertEquals(0, deadlines.trackedCount());
        }
    }

    @Test
    void theSweeperSleepsWhileNothingIsTrackedAndWakesForTheNextRequest() throws Exception {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", 100, "TIMEOUT")) {
            awaitSweeperIdle(deadlines);
            // Only the sweeper times this one out (nobody sweeps by hand): it must have been woken.
            CompletableFuture<String> waiting = deadlines.track(new CompletableFuture<>());
            assertEquals("TIMEOUT", waiting.get(30, TimeUnit.SECONDS));
            awaitSweeperIdle(deadlines);
            assertEquals(0, deadlines.trackedCount());
        }
    }

    private static void awaitSweeperIdle(RequestDeadlines<?> deadlines) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!deadlines.sweeperIdle()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the sweeper did not go idle with nothing tracked");
            }
            Thread.sleep(1);
        }
    }

    @Test
    void closeTimesOutEverythingStillWaitingAndLaterRequestsStillTimeOut() throws Exception {
        RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", 200, "TIMEOUT");
        CompletableFuture<String> waiting = deadlines.track(new CompletableFuture<>());
        deadlines.close();
        assertEquals("TIMEOUT", waiting.join());
        // After close the per-request timer takes over, so nothing can wait forever.
        CompletableFuture<String> late = deadlines.track(new CompletableFuture<>());
        assertEquals("TIMEOUT", late.get(30, TimeUnit.SECONDS));
    }

    @Test
    void theSweeperThreadTimesOutOnItsOwn() throws Exception {
        try (RequestDeadlines<String> deadlines = new RequestDeadlines<>("test", 50, "TIMEOUT")) {
            CompletableFuture<String> waiting = deadlines.track(new CompletableFuture<>());
            assertEquals("TIMEOUT", waiting.get(30, TimeUnit.SECONDS));
            assertEquals(0, deadlines.trackedCount());
        }
    }

    @Test
    void aTimeoutMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RequestDeadlines<>("test", 0, "TIMEOUT"));
    }
}
