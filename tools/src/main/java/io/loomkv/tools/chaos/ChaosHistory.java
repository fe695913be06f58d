package io.loomkv.tools.chaos;

import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every client operation of a run, as the linearizability checker wants it: invocation and
 * completion times (this JVM's {@code System.nanoTime()}) and the answer. A write whose outcome is
 * unknown (deadline passed) is kept as pending: it may have happened at any point after its
 * invocation, or never. A read without an answer, and a write that definitely did not happen,
 * changed nothing and are left out. Thread-safe.
 */
final class ChaosHistory {
    private final ConcurrentLinkedQueue<Operation<KvInput, KvOutput>> operations = new ConcurrentLinkedQueue<>();
    /** Completion times of operations that got an answer, for the longest stretch without one. */
    private final ConcurrentLinkedQueue<Long> answeredNanos = new ConcurrentLinkedQueue<>();
    private final ConcurrentSkipListSet<String> keys = new ConcurrentSkipListSet<>();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong unknown = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    void completed(long clientId, KvInput input, long invokeNanos, KvOutput output, long completeNanos) {
        operations.add(Operation.completed(clientId, input, invokeNanos, output, completeNanos));
        keys.add(keyOf(input));
        answeredNanos.add(completeNanos);
        answered.incrementAndGet();
    }

    void unknown(long clientId, KvInput input, long invokeNanos) {
        operations.add(Operation.pending(clientId, input, invokeNanos));
        keys.add(keyOf(input));
        unknown.incrementAndGet();
    }

    /** A read that got no answer, or a write refused before it could take effect. */
    void gaveUp() {
        failed.incrementAndGet();
    }

    long answered() {
        return answered.get();
    }

    long unknown() {
        return unknown.get();
    }

    long failed() {
        return failed.get();
    }

    /** Every key an answered or unknown-outcome operation used, in order. */
    List<String> keys() {
        return List.copyOf(keys);
    }

    private static String keyOf(KvInput input) {
        return switch (input) {
            case KvInput.Get get -> get.key();
            case KvInput.Put put -> put.key();
            case KvInput.Append append -> append.key();
            case KvInput.CompareAndSet cas -> cas.key();
            default -> throw new IllegalArgumentException("chaos histories hold single-key operations, got " + input);
        };
    }

    List<Operation<KvInput, KvOutput>> operations() {
        return List.copyOf(operations);
    }

    /**
     * The longest time within {@code [fromNanos, toNanos]} in which no operation got an answer
     * (counting from the start and to the end of the window).
     */
    long longestSilenceMillis(long fromNanos, long toNanos) {
        List<Long> times = new ArrayList<>(answeredNanos);
        times.sort(null);
        long previous = fromNanos;
        long longest = 0;
        for (long time : times) {
            if (time < fromNanos || time > toNanos) {
                continue;
            }
            longest = Math.max(longest, time - previous);
            previous = time;
        }
        longest = Math.max(longest, toNanos - previous);
        return longest / 1_000_000;
    }
}
