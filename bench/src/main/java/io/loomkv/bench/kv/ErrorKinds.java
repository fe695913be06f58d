package io.loomkv.bench.kv;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts errors by kind (operation and cause) so the report can say what went wrong, bounded in size. */
public final class ErrorKinds {
    /** Kinds beyond this are counted under one "other" entry. */
    static final int MAX_KINDS = 32;
    private static final int MAX_MESSAGE_CHARS = 160;

    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    public void record(OpType op, Throwable error) {
        String message = error.getClass().getSimpleName() + ": " + error.getMessage();
        if (message.length() > MAX_MESSAGE_CHARS) {
            message = message.substring(0, MAX_MESSAGE_CHARS) + "...";
        }
        String kind = op.label() + " " + message;
        LongAdder adder = counts.get(kind);
        if (adder == null) {
            adder = counts.size() < MAX_KINDS ? counts.computeIfAbsent(kind, k -> new LongAdder())
                    : counts.computeIfAbsent("other errors", k -> new LongAdder());
        }
        adder.increment();
    }

    /** The most frequent kinds, most frequent first, as "count x kind". */
    public List<String> top(int limit) {
        return counts.entrySet().stream()
                .sorted(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> e.getValue().sum()).reversed())
                .limit(limit)
                .map(e -> e.getValue().sum() + " x " + e.getKey())
                .toList();
    }
}
