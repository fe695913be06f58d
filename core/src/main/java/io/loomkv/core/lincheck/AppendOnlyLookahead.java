package io.loomkv.core.lincheck;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@link KvModel}'s look-ahead ({@link Model#liveStates}) for keys that only ever grow.
 *
 * <p>A key is <em>append-only</em> in a partition when no operation there (completed or pending)
 * puts, deletes, compare-and-sets or multi-puts it. Its value can then only be extended, so along
 * any legal linearization its successive values form a chain in which each is a prefix of the
 * next, and every completed read of the key observed one of them. Hence every state on such a
 * linearization is comparable with every observed value: one of the two is a prefix of the other.
 * A state whose value has diverged from the longest value any read observed (an append placed in
 * the wrong order, or a timed-out append that never took effect) is a dead end, and this test
 * rejects it the moment it appears instead of after every continuation was tried. An absent key
 * counts as the empty value, so it never diverges.
 *
 * <p>Only the longest observed value is kept per key: comparability with it is necessary, and
 * checking one value per key keeps each test at O(value length).
 */
final class AppendOnlyLookahead implements Predicate<Map<String, String>> {

    /** Append-only key -> the longest value a completed read of it observed. */
    private final Map<String, String> longestObserved;

    private AppendOnlyLookahead(Map<String, String> longestObserved) {
        this.longestObserved = longestObserved;
    }

    /** The look-ahead for {@code partition}; accepts everything when no key qualifies. */
    static Predicate<Map<String, String>> of(List<Operation<KvInput, KvOutput>> partition) {
        Set<String> overwritten = new HashSet<>();
        for (Operation<KvInput, KvOutput> op : partition) {
            switch (op.input()) {
                case KvInput.Put put -> overwritten.add(put.key());
                case KvInput.Delete delete -> overwritten.add(delete.key());
                case KvInput.CompareAndSet cas -> overwritten.add(cas.key());
                case KvInput.MultiPut multiPut -> overwritten.addAll(multiPut.entries().keySet());
                case KvInput.Append append -> { }
                case KvInput.Get get -> { }
                case KvInput.MultiGet multiGet -> { }
                case KvInput.Scan scan -> { }
            }
        }
        Map<String, String> longest = new HashMap<>();
        for (Operation<KvInput, KvOutput> op : partition) {
            if (op.isPending()) {
                continue;
            }
            switch (op.output()) {
                case KvOutput.Value value when op.input() instanceof KvInput.Get get
                        && value.value() != null -> observe(longest, overwritten, get.key(), value.value());
                case KvOutput.Values values -> values.present()
                        .forEach((key, value) -> observe(longest, overwritten, key, value));
                default -> { }
            }
        }
        if (longest.isEmpty()) {
            return state -> true;
        }
        return new AppendOnlyLookahead(Map.copyOf(longest));
    }

    private static void observe(Map<String, String> longest, Set<String> overwritten, String key, String value) {
        if (overwritten.contains(key)) {
            return;
        }
        String known = longest.get(key);
        if (known == null || value.length() > known.length()) {
            longest.put(key, value);
        }
    }

    @Override
    public boolean test(Map<String, String> state) {
        for (Map.Entry<String, String> constraint : longestObserved.entrySet()) {
            String value = state.get(constraint.getKey());
            if (value == null) {
                continue;
            }
            String observed = constraint.getValue();
            boolean comparable = value.length() <= observed.length()
                    ? observed.startsWith(value)
                    : value.startsWith(observed);
            if (!comparable) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "append-only look-ahead on keys " + longestObserved.keySet();
    }
}
