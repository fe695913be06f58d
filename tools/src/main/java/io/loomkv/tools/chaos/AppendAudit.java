package io.loomkv.tools.chaos;

import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.Operation;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the append logs' final values against the history: every acknowledged append must be
 * there (else it is a lost write), none twice (exactly-once), and nothing that no client ever sent.
 */
final class AppendAudit {
    /** What the audit found; {@code findings} names the first few problems. */
    record Result(long acknowledged, long lost, long duplicated, long unknownTokens, List<String> findings) {
    }

    private static final int MAX_FINDINGS = 10;

    private AppendAudit() {
    }

    /** {@code keys}: every key the history used (the logs among them are audited). */
    static Result audit(List<Operation<KvInput, KvOutput>> history, Map<String, String> finalValues, Collection<String> keys) {
        Map<String, Set<String>> acknowledged = new HashMap<>();
        Map<String, Set<String>> sent = new HashMap<>();
        for (Operation<KvInput, KvOutput> op : history) {
            if (op.input() instanceof KvInput.Append append) {
                String token = append.value().substring(0, append.value().length() - KeySet.APPEND_SEPARATOR.length());
                sent.computeIfAbsent(append.key(), k -> new HashSet<>()).add(token);
                if (!op.isPending()) {
                    acknowledged.computeIfAbsent(append.key(), k -> new HashSet<>()).add(token);
                }
            }
        }
        long acknowledgedCount = 0;
        long lost = 0;
        long duplicated = 0;
        long unknownTokens = 0;
        List<String> findings = new ArrayList<>();
        for (String key : keys.stream().filter(KeySet::isLog).toList()) {
            String value = finalValues.getOrDefault(key, "");
            Map<String, Integer> seen = new HashMap<>();
            for (String token : value.split(KeySet.APPEND_SEPARATOR)) {
                if (!token.isEmpty()) {
                    seen.merge(token, 1, Integer::sum);
                }
            }
            for (String token : acknowledged.getOrDefault(key, Set.of())) {
                acknowledgedCount++;
                if (!seen.containsKey(token)) {
                    lost++;
                    note(findings, "lost write: acknowledged append of '" + token + "' to " + key + " is not in its final value");
                }
            }
            for (Map.Entry<String, Integer> entry : seen.entrySet()) {
                if (entry.getValue() > 1) {
                    duplicated++;
                    note(findings, "append '" + entry.getKey() + "' to " + key + " was applied " + entry.getValue() + " times");
                }
                if (!sent.getOrDefault(key, Set.of()).contains(entry.getKey())) {
                    unknownTokens++;
                    note(findings, key + " holds '" + entry.getKey() + "', which no client appended to it");
                }
            }
        }
        return new Result(acknowledgedCount, lost, duplicated, unknownTokens, findings);
    }

    private static void note(List<String> findings, String finding) {
        if (findings.size() < MAX_FINDINGS) {
            findings.add(finding);
        }
    }
}
