package io.loomkv.core.lincheck;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

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

    /**
     * An optional look-ahead that lets the search abandon dead ends early: called once per
     * partition with the operations checked together, it returns a test the search applies to
     * every state it reaches; a rejected state is treated as if the model had refused the step.
     *
     * <p>It must be sound: reject a state only if no legal linearization of these operations
     * passes through it. Then the verdict is unchanged and only the search gets shorter. Without
     * it, some histories cannot be decided at all: with five clients appending to one key and a
     * single read at the end, every wrong order of two early appends is only refuted by that read,
     * after every order of everything in between has been tried.
     *
     * @return by default a test that accepts every state
     */
    default Predicate<S> liveStates(List<Operation<I, O>> partition) {
        return state -> true;
    }
}
