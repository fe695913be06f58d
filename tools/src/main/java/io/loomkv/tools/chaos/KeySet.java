package io.loomkv.tools.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The keys of a run: registers ({@code r0, r1, ...}: put, compare-and-set, get) and append logs
 * ({@code l0, l1, ...}: append, get). Every append adds a token no other write uses, so the final
 * value of a log shows which acknowledged appends survived, and whether any was applied twice.
 *
 * <p>Clients use each key for one generation of {@link #GENERATION_NANOS} and then move on to the
 * next one ({@code l0.0}, then {@code l0.1}, ...). Why: a log's value, and the checker's states,
 * would otherwise grow with the length of the run (a 10-minute run made the checker run out of
 * memory on 100 KB values); per generation the conflicts stay as dense and every key stays small.
 */
record KeySet(List<String> registers, List<String> logs) {
    static final String APPEND_SEPARATOR = ";";
    static final long GENERATION_NANOS = 20_000_000_000L;

    KeySet {
        registers = List.copyOf(registers);
        logs = List.copyOf(logs);
        if (registers.isEmpty() || logs.isEmpty()) {
            throw new IllegalArgumentException("need at least one register and one log, got " + registers + " and " + logs);
        }
    }

    static KeySet of(int count) {
        List<String> registers = new ArrayList<>();
        List<String> logs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            if (i % 2 == 0) {
                registers.add("r" + registers.size());
            } else {
                logs.add("l" + logs.size());
            }
        }
        return new KeySet(registers, logs);
    }

    /** The name clients use for {@code base} in generation {@code generation}. */
    static String inGeneration(String base, long generation) {
        return base + "." + generation;
    }

    /** Whether a key (of any generation) is an append log. */
    static boolean isLog(String key) {
        return key.startsWith("l");
    }
}
