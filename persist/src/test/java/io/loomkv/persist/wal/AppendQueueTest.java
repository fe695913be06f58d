package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AppendQueueTest {
    private static final long HOUR_NANOS = TimeUnit.HOURS.toNanos(1);

    @Test
    void stopWaitsWakesAnIdleWriterAndLaterWaitsReturnAtOnce() throws Exception {
        AppendQueue queue = new AppendQueue(16);
        CompletableFuture<Integer> drained = new CompletableFuture<>();
        // The writer idles with a long wait (there is no periodic wake-up to notice a close) ...
        Thread writer = Thread.ofVirtual().start(() -> {
            try {
                drained.complete(queue.awaitAndDrain(new ArrayList<>(), 1, HOUR_NANOS, 16));
            } catch (Throwable t) {
                drained.completeExceptionally(t);
            }
        });
        awaitWaiting(writer);
        // ... so closing must wake it.
        queue.stopWaits();
        assertEquals(0, drained.get(30, TimeUnit.SECONDS));
        assertTrue(writer.join(Duration.ofSeconds(30)));
        // Waits after that (the writer's last passes while it closes) do not block either.
        List<WalRequest> out = new ArrayList<>();
        assertEquals(0, queue.awaitAndDrain(out, 1, HOUR_NANOS, 16));
        assertTrue(out.isEmpty());
    }

    private static void awaitWaiting(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (thread.getState() != Thread.State.WAITING && thread.getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the writer did not start waiting; state " + thread.getState());
            }
            Thread.sleep(1);
        }
    }
}
