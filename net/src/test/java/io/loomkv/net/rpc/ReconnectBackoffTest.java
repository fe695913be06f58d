package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {
    private final ReconnectBackoff backoff = new ReconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(5));

    @Test
    void waitDoublesPerFailureWithinItsJitterBandAndIsCapped() {
        long base = Duration.ofMillis(50).toNanos();
        for (int failures = 1; failures <= 7; failures++) {
            assertEquals(base / 2, backoff.delayNanos(failures, 0.0), "lowest draw after " + failures);
            assertEquals(base / 2 + (long) (0.5 * (base - base / 2)), backoff.delayNanos(failures, 0.5));
            base *= 2;
        }
        long cap = Duration.ofSeconds(5).toNanos();
        for (int failures : new int[] {8, 20, 63, 64, 1000, Integer.MAX_VALUE}) {
            assertEquals(cap / 2, backoff.delayNanos(failures, 0.0), "capped after " + failures);
            assertEquals(cap / 2 + (long) (0.999 * (cap - cap / 2)), backoff.delayNanos(failures, 0.999));
        }
    }

    @Test
    void invalidInputsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> backoff.delayNanos(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> backoff.delayNanos(1, 1.0));
        assertThrows(IllegalArgumentException.class,
                () -> new ReconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new ReconnectBackoff(Duration.ZERO, Duration.ofSeconds(1)));
    }
}
