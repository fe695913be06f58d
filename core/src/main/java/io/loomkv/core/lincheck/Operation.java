package io.loomkv.core.lincheck;

import java.util.Objects;

/**
 * One operation of a client history: what a client asked ({@code input}), when it asked ({@code
 * invokeTime}), what it was told ({@code output}) and when ({@code completeTime}).
 *
 * <p>Times come from the caller's clock (a simulator's ticks, or nanoseconds on one machine); the
 * checker only compares them. Two operations overlap, and so may be ordered either way, unless
 * one completed strictly before the other was invoked. Equal times count as overlapping, the
 * generous reading when a clock is coarse.
 *
 * <p>An operation whose outcome is unknown (a timeout, a lost reply) is <em>pending</em>: it has
 * no output and no completion time ({@link #PENDING}). It may have taken effect at any moment
 * after its invocation, or never; the checker accepts both.
 *
 * @param clientId who issued it; used in explanations only (a client may have several
 *     operations in flight)
 * @param output {@code null} exactly when the operation is pending
 * @param completeTime {@link #PENDING} exactly when the operation is pending, else {@code >=
 *     invokeTime}
 */
public record Operation<I, O>(long clientId, I input, long invokeTime, O output, long completeTime) {

    /** The completion time of an operation whose outcome is unknown. */
    public static final long PENDING = Long.MAX_VALUE;

    public Operation {
        Objects.requireNonNull(input, "input");
        if (invokeTime == PENDING) {
            throw new IllegalArgumentException("invokeTime " + invokeTime + " is reserved for PENDING");
        }
        if (completeTime == PENDING) {
            if (output != null) {
                throw new IllegalArgumentException(
                        "a pending operation has no output, got " + output + " for " + input);
            }
        } else {
            if (output == null) {
                throw new IllegalArgumentException("completed operation " + input + " needs an output");
            }
            if (completeTime < invokeTime) {
                throw new IllegalArgumentException(
                        "operation " + input + " completes at " + completeTime
                                + " before its invocation at " + invokeTime);
            }
        }
    }

    /** An operation that completed with {@code output}. */
    public static <I, O> Operation<I, O> completed(
            long clientId, I input, long invokeTime, O output, long completeTime) {
        return new Operation<>(clientId, input, invokeTime, Objects.requireNonNull(output, "output"),
                completeTime);
    }

    /** An operation whose outcome is unknown: it took effect after {@code invokeTime}, or never. */
    public static <I, O> Operation<I, O> pending(long clientId, I input, long invokeTime) {
        return new Operation<>(clientId, input, invokeTime, null, PENDING);
    }

    public boolean isPending() {
        return completeTime == PENDING;
    }

    @Override
    public String toString() {
        String end = isPending() ? "?" : Long.toString(completeTime);
        String result = isPending() ? "unknown" : String.valueOf(output);
        return "client " + clientId + ": " + input + " -> " + result + " [" + invokeTime + ", " + end + "]";
    }
}
