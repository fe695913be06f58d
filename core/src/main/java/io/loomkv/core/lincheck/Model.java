package io.loomkv.core.lincheck;

import java.util.Collection;
import java.util.Optional;

/**
 * A sequential specification: what a correct, one-at-a-time object does. The checker asks
 * whether some order of a concurrent history, consistent with real time, is a legal sequential
 * run of this model.
 *
 * <p>States must be immutable values with {@code equals} and {@code hashCode}: the search
 * memoizes (set of linearized operations, state) pairs and compares states for equality, so two
 * states that behave alike should be equal.
 *
 * @param <S> the state type
 * @param <I> operation inputs
 * @param <O> operation outputs
 */
public interface Model<S, I, O> {

    /** The state before any operation. */
    S initialState();

    /**
     * Applies one operation.
     *
     * @param output what the client observed, or {@code null} when the outcome is unknown
     *     (a pending operation): then any output is acceptable, and the result must not be
     *     {@code null}
     * @return the state after the operation, or {@code null} when {@code output} cannot be the
     *     result of {@code input} in {@code state}
     * @throws IllegalArgumentException if the output does not even have the right shape for the
     *     input (a harness bug, not a linearizability violation)
     */
    S step(S state, I input, O output);

    /**
     * The keys (independent sub-objects) that {@code input} reads or writes. Operations whose key
     * sets are connected (directly or through other operations) are checked together; the rest
     * are checked separately, which is sound by the locality of linearizability and much faster.
     *
     * @return the keys, or {@link Optional#empty()} when the input may touch any key (a scan, a
     *     whole-state operation): then the whole history is checked as one
     */
    Optional<? extends Collection<?>> keysOf(I input);
}
