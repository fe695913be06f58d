package io.loomkv.tools.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The keys of a run: registers ({@code r0, r1, ...}: put, compare-and-set, get) and append logs
 * ({@code l0, l1, ...}: append, get). Every append adds a token no other write uses, so the final
 * value of a log shows which acknowledged appends survived, and whether any was applied twice.
 */
record KeySet(List<String> registers, List<String> logs) {
    static final String APPEND_SEPARATOR = ";";

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

    List<String> all() {
        List<String> all = new ArrayList<>(registers);
        all.addAll(logs);
        return all;
    }

    boolean isLog(String key) {
        return logs.contains(key);
    }
}
