package io.loomkv.core.lincheck;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the checker found.
 *
 * @param verdict OK, ILLEGAL or UNKNOWN
 * @param explanation one human-readable paragraph: for ILLEGAL the partition, the longest
 *     linearizable prefix and the operation that could not be placed; for UNKNOWN which partition
 *     exhausted the budget
 * @param violation for ILLEGAL, the same facts as data (indexes into the checked history)
 * @param steps search steps used, summed over partitions
 * @param partitions how many independent partitions the history was split into
 */
public record CheckResult(
        Verdict verdict, String explanation, Optional<Violation> violation, long steps, int partitions) {

    public CheckResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(explanation, "explanation");
        Objects.requireNonNull(violation, "violation");
        if ((verdict == Verdict.ILLEGAL) != violation.isPresent()) {
            throw new IllegalArgumentException(
                    "a violation is present exactly for ILLEGAL, got " + verdict + " with " + violation);
        }
    }

    public boolean isOk() {
        return verdict == Verdict.OK;
    }

    /**
     * Where a history stops being linearizable, in the first partition found to be illegal.
     *
     * @param partitionKeys the keys of that partition (empty when the history was not
     *     partitioned)
     * @param longestLinearizedPrefix history indexes of the longest sequence of operations the
     *     search could linearize, in linearization order
     * @param blockedOperation history index of the operation whose completion was reached after
     *     that prefix without any way to place it (its result is what cannot be explained)
     * @param stateAfterPrefix the model state after the prefix, as text
     */
    public record Violation(
            List<?> partitionKeys,
            List<Integer> longestLinearizedPrefix,
            int blockedOperation,
            String stateAfterPrefix) {

        public Violation {
            partitionKeys = List.copyOf(partitionKeys);
            longestLinearizedPrefix = List.copyOf(longestLinearizedPrefix);
        }
    }
}
