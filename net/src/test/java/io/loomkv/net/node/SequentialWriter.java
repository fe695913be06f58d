package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.loomkv.net.client.KvClient;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A client writing {@code key0=value0}, {@code key1=value1}, ... one at a time on a virtual thread
 * while a test moves things under it; it stops at the first failure, which {@link #stop} reports.
 * Every write it counted was acknowledged, so {@link #assertEveryWriteReadBack} may demand each.
 */
final class SequentialWriter implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger written = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    SequentialWriter(KvClient writer) {
        this.thread = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 0; !stop.get(); i++) {
                    writer.put("key" + i, "value" + i);
                    written.set(i + 1);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
    }

    /** Writes acknowledged so far. */
    int written() {
        return written.get();
    }

    /** Waits until {@code count} more writes than now were acknowledged (or the writer failed). */
    void awaitMore(int count, String what) {
        int before = written.get();
        LocalCluster.awaitCondition(what, () -> written.get() >= before + count || failure.get() != null);
    }

    /** Stops the writer and fails the test if a write failed; returns how many were acknowledged. */
    int stop() throws InterruptedException {
        stop.set(true);
        thread.join(Duration.ofSeconds(30));
        assertEquals(null, failure.get(), "the writer failed");
        return written.get();
    }

    /** Every acknowledged write, read back through {@code client}. */
    static void assertEveryWriteReadBack(KvClient client, int count) {
        for (int i = 0; i < count; i++) {
            assertEquals(Optional.of("value" + i), client.get("key" + i), "key" + i);
        }
    }

    @Override
    public void close() {
        stop.set(true);
    }
}
