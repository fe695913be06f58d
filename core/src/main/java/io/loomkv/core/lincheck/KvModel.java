package io.loomkv.core.lincheck;

import io.loomkv.core.lincheck.KvInput.Append;
import io.loomkv.core.lincheck.KvInput.CompareAndSet;
import io.loomkv.core.lincheck.KvInput.Delete;
import io.loomkv.core.lincheck.KvInput.Get;
import io.loomkv.core.lincheck.KvInput.MultiGet;
import io.loomkv.core.lincheck.KvInput.MultiPut;
import io.loomkv.core.lincheck.KvInput.Put;
import io.loomkv.core.lincheck.KvInput.Scan;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The sequential specification of loomkv's key-value operations: get, put, append, delete,
 * compare-and-set, atomic multi-get and multi-put, and prefix scan.
 *
 * <p>The state is an immutable map of present keys to values. Within one partition it holds only
 * the partition's keys (plus any initial values), so states stay small and cheap to compare.
 */
public final class KvModel implements Model<Map<String, String>, KvInput, KvOutput> {

    private final Map<String, String> initialValues;

    /** A store that starts empty. */
    public KvModel() {
        this(Map.of());
    }

    /** A store that starts with {@code initialValues} (e.g. loaded before the history began). */
    public KvModel(Map<String, String> initialValues) {
        this.initialValues = sorted(new HashMap<>(initialValues));
    }

    @Override
    public Map<String, String> initialState() {
        return initialValues;
    }

    @Override
    public Map<String, String> step(Map<String, String> state, KvInput input, KvOutput output) {
        return switch (input) {
            case Get get -> {
                KvOutput.Value value = expect(KvOutput.Value.class, input, output);
                yield value == null || Objects.equals(state.get(get.key()), value.value()) ? state : null;
            }
            case Put put -> {
                expect(KvOutput.Ok.class, input, output);
                yield with(state, put.key(), put.value());
            }
            case Append append -> {
                expect(KvOutput.Ok.class, input, output);
                String old = state.get(append.key());
                yield with(state, append.key(), old == null ? append.value() : old + append.value());
            }
            case Delete delete -> {
                expect(KvOutput.Ok.class, input, output);
                yield with(state, delete.key(), null);
            }
            case CompareAndSet cas -> {
                KvOutput.CasResult result = expect(KvOutput.CasResult.class, input, output);
                boolean matches = Objects.equals(state.get(cas.key()), cas.expected());
                if (result != null && result.succeeded() != matches) {
                    yield null;
                }
                yield matches ? with(state, cas.key(), cas.newValue()) : state;
            }
            case MultiGet multiGet -> {
                KvOutput.Values values = expect(KvOutput.Values.class, input, output);
                yield values == null || matchesMultiGet(state, multiGet, values) ? state : null;
            }
            case MultiPut multiPut -> {
                expect(KvOutput.Ok.class, input, output);
                Map<String, String> next = new HashMap<>(state);
                next.putAll(multiPut.entries());
                yield sorted(next);
            }
            case Scan scan -> {
                KvOutput.Values values = expect(KvOutput.Values.class, input, output);
                yield values == null || scanOf(state, scan).equals(values.present()) ? state : null;
            }
        };
    }

    @Override
    public Optional<? extends Collection<?>> keysOf(KvInput input) {
        return switch (input) {
            case Get get -> Optional.of(List.of(get.key()));
            case Put put -> Optional.of(List.of(put.key()));
            case Append append -> Optional.of(List.of(append.key()));
            case Delete delete -> Optional.of(List.of(delete.key()));
            case CompareAndSet cas -> Optional.of(List.of(cas.key()));
            case MultiGet multiGet -> Optional.of(multiGet.keys());
            case MultiPut multiPut -> Optional.of(multiPut.entries().keySet());
            case Scan scan -> Optional.empty();
        };
    }

    /** Rejects states that diverge from what reads of append-only keys saw; see {@link AppendOnlyLookahead}. */
    @Override
    public Predicate<Map<String, String>> liveStates(List<Operation<KvInput, KvOutput>> partition) {
        return AppendOnlyLookahead.of(partition);
    }

    /** The output cast to its expected type; {@code null} for an unknown outcome. */
    private static <T extends KvOutput> T expect(Class<T> type, KvInput input, KvOutput output) {
        if (output == null) {
            return null;
        }
        if (!type.isInstance(output)) {
            throw new IllegalArgumentException(
                    "output " + output + " (" + output.getClass().getSimpleName() + ") does not fit "
                            + input + ", which returns " + type.getSimpleName());
        }
        return type.cast(output);
    }

    private static boolean matchesMultiGet(
            Map<String, String> state, MultiGet multiGet, KvOutput.Values values) {
        for (String key : values.present().keySet()) {
            if (!multiGet.keys().contains(key)) {
                throw new IllegalArgumentException(
                        "output " + values + " of " + multiGet + " has key " + key + " that was not asked for");
            }
        }
        for (String key : multiGet.keys()) {
            if (!Objects.equals(state.get(key), values.present().get(key))) {
                return false;
            }
        }
        return true;
    }

    private static SortedMap<String, String> scanOf(Map<String, String> state, Scan scan) {
        SortedMap<String, String> all = new TreeMap<>();
        for (Map.Entry<String, String> entry : state.entrySet()) {
            if (entry.getKey().startsWith(scan.prefix())) {
                all.put(entry.getKey(), entry.getValue());
            }
        }
        SortedMap<String, String> first = new TreeMap<>();
        for (Map.Entry<String, String> entry : all.entrySet()) {
            if (first.size() == scan.limit()) {
                break;
            }
            first.put(entry.getKey(), entry.getValue());
        }
        return first;
    }

    /** {@code state} with {@code key} set to {@code value} ({@code null}: removed). */
    private static Map<String, String> with(Map<String, String> state, String key, String value) {
        if (Objects.equals(state.get(key), value)) {
            return state;
        }
        Map<String, String> next = new HashMap<>(state);
        if (value == null) {
            next.remove(key);
        } else {
            next.put(key, value);
        }
        return sorted(next);
    }

    /** An immutable state; sorted so that explanations print keys in a stable order. */
    private static Map<String, String> sorted(Map<String, String> values) {
        return Collections.unmodifiableSortedMap(new TreeMap<>(values));
    }
}
