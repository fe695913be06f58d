package io.loomkv.core.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The checker with models other than the KV one: contract checks and the partitioning rules. */
class CustomModelTest {

    /** A counter: "inc" adds one and returns the new value; "noop" touches no key at all. */
    private record CounterModel(boolean rejectUnknown) implements Model<Integer, String, Integer> {
        @Override
        public Integer initialState() {
            return 0;
        }

        @Override
        public Integer step(Integer state, String input, Integer output) {
            if (input.equals("noop")) {
                return state;
            }
            if (output == null) {
                return rejectUnknown ? null : state + 1;
            }
            return output == state + 1 ? state + 1 : null;
        }

        @Override
        public Optional<? extends Collection<?>> keysOf(String input) {
            return Optional.of(input.equals("noop") ? List.of() : List.of("counter"));
        }
    }

    @Test
    void operationsWithoutKeysAreTheirOwnPartitions() {
        List<Operation<String, Integer>> history = List.of(
                Operation.completed(1, "inc", 0, 1, 1),
                Operation.completed(2, "noop", 0, 0, 1),
                Operation.completed(3, "noop", 0, 0, 1),
                Operation.completed(1, "inc", 2, 2, 3));
        CheckResult result = LinearizabilityChecker.withDefaults().check(new CounterModel(false), history);
        assertEquals(Verdict.OK, result.verdict(), result.explanation());
        assertEquals(3, result.partitions());
    }

    @Test
    void counterSkippingAValueIsIllegalUnlessAPendingIncrementExplainsIt() {
        List<Operation<String, Integer>> skipped = List.of(
                Operation.completed(1, "inc", 0, 1, 1),
                Operation.completed(1, "inc", 2, 3, 3));
        assertEquals(Verdict.ILLEGAL,
                LinearizabilityChecker.withDefaults().check(new CounterModel(false), skipped).verdict());
        List<Operation<String, Integer>> explained = List.of(
                Operation.completed(1, "inc", 0, 1, 1),
                Operation.pending(2, "inc", 1),
                Operation.completed(1, "inc", 2, 3, 3));
        assertEquals(Verdict.OK,
                LinearizabilityChecker.withDefaults().check(new CounterModel(false), explained).verdict());
    }

    @Test
    void modelThatRejectsAnUnknownOutcomeIsReportedAsAModelBug() {
        List<Operation<String, Integer>> history = List.of(
                Operation.pending(2, "inc", 0),
                Operation.completed(1, "inc", 1, 1, 2));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LinearizabilityChecker.withDefaults().check(new CounterModel(true), history));
        assertTrue(e.getMessage().contains("unknown outcome"), e.getMessage());
    }
}
