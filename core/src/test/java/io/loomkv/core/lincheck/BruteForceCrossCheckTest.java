package io.loomkv.core.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Compares the checker with the definition of linearizability on thousands of small random
 * histories (random outputs, so both legal and illegal ones): try every order of every subset of
 * the pending operations plus all completed ones, keep those consistent with real time, and run
 * each through the model. This validates the search, the memo's dominance rule for pending
 * operations, and the partitioning, against an oracle too simple to be wrong.
 */
class BruteForceCrossCheckTest {

    private static final List<String> KEYS = List.of("x", "y");
    private static final List<String> VALUES = List.of("a", "b");

    private final LinearizabilityChecker checker = LinearizabilityChecker.withDefaults();

    @Test
    void checkerAgreesWithBruteForceOnSmallRandomHistories() {
        Random random = new Random(20261123);
        int legal = 0;
        int illegal = 0;
        for (int round = 0; round < 4000; round++) {
            List<Operation<KvInput, KvOutput>> history = randomHistory(random, 2 + random.nextInt(6));
            boolean expected = bruteForceLinearizable(new KvModel(), history);
            CheckResult result = checker.check(new KvModel(), history);
            Verdict verdict = expected ? Verdict.OK : Verdict.ILLEGAL;
            assertEquals(verdict, result.verdict(),
                    "round " + round + ": " + history + "\n" + result.explanation());
            // Each search order alone, unpartitioned (the checker stops at whichever is first).
            for (boolean completedFirst : new boolean[] {false, true}) {
                int[] all = new int[history.size()];
                for (int i = 0; i < all.length; i++) {
                    all[i] = i;
                }
                PartitionSearch<?, KvInput, KvOutput> search =
                        new PartitionSearch<>(new KvModel(), history, all, List.of(), Long.MAX_VALUE);
                search.start(completedFirst);
                assertEquals(verdict, search.advance(Long.MAX_VALUE),
                        "round " + round + ", completedFirst=" + completedFirst + ": " + history);
            }
            if (expected) {
                legal++;
            } else {
                illegal++;
            }
        }
        // Both kinds must be well represented, or the comparison proves little.
        assertTrue(legal > 800 && illegal > 800, legal + " legal, " + illegal + " illegal");
    }

    /**
     * The append-only look-ahead ({@code AppendOnlyLookahead}) prunes states, so it could wrongly
     * reject a legal history: histories of only appends and reads (where it applies on every key)
     * must get the brute-force verdict too. Reads see plausible values (concatenations of the
     * appended tokens, some in an impossible order) so that both verdicts are common.
     */
    @Test
    void appendOnlyLookaheadAgreesWithBruteForce() {
        Random random = new Random(7_202_611);
        int legal = 0;
        int illegal = 0;
        for (int round = 0; round < 4000; round++) {
            List<Operation<KvInput, KvOutput>> history = randomAppendHistory(random, 2 + random.nextInt(6));
            boolean expected = bruteForceLinearizable(new KvModel(), history);
            CheckResult result = checker.check(new KvModel(), history);
            assertEquals(expected ? Verdict.OK : Verdict.ILLEGAL, result.verdict(),
                    "round " + round + ": " + history + "\n" + result.explanation());
            if (expected) {
                legal++;
            } else {
                illegal++;
            }
        }
        assertTrue(legal > 800 && illegal > 800, legal + " legal, " + illegal + " illegal");
    }

    private static List<Operation<KvInput, KvOutput>> randomAppendHistory(Random random, int size) {
        List<Operation<KvInput, KvOutput>> history = new ArrayList<>();
        List<String> tokens = List.of("a", "b", "c");
        for (int i = 0; i < size; i++) {
            String key = KEYS.get(random.nextInt(KEYS.size()));
            long invoke = random.nextInt(10);
            long complete = invoke + random.nextInt(6);
            if (random.nextInt(3) == 0) {
                StringBuilder seen = new StringBuilder();
                int length = random.nextInt(4);
                for (int t = 0; t < length; t++) {
                    seen.append(tokens.get(random.nextInt(tokens.size())));
                }
                KvOutput output = new KvOutput.Value(length == 0 && random.nextBoolean() ? null : seen.toString());
                history.add(Operation.completed(i, new KvInput.Get(key), invoke, output, complete));
            } else {
                KvInput input = new KvInput.Append(key, tokens.get(random.nextInt(tokens.size())));
                if (random.nextInt(4) == 0) {
                    history.add(Operation.pending(i, input, invoke));
                } else {
                    history.add(Operation.completed(i, input, invoke, KvOutput.OK, complete));
                }
            }
        }
        return history;
    }

    private static List<Operation<KvInput, KvOutput>> randomHistory(Random random, int size) {
        List<Operation<KvInput, KvOutput>> history = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            String key = KEYS.get(random.nextInt(KEYS.size()));
            String value = VALUES.get(random.nextInt(VALUES.size()));
            long invoke = random.nextInt(10);
            long complete = invoke + random.nextInt(6);
            KvInput input;
            KvOutput output;
            switch (random.nextInt(7)) {
                case 0, 1 -> {
                    input = new KvInput.Get(key);
                    int pick = random.nextInt(4);
                    output = new KvOutput.Value(pick == 0 ? null : pick == 1 ? "a" : pick == 2 ? "b" : "ab");
                }
                case 2 -> {
                    input = new KvInput.Put(key, value);
                    output = KvOutput.OK;
                }
                case 3 -> {
                    input = new KvInput.Append(key, value);
                    output = KvOutput.OK;
                }
                case 4 -> {
                    input = new KvInput.CompareAndSet(key, random.nextBoolean() ? null : "a", value);
                    output = new KvOutput.CasResult(random.nextBoolean());
                }
                case 5 -> {
                    input = new KvInput.Delete(key);
                    output = KvOutput.OK;
                }
                default -> {
                    input = new KvInput.MultiGet(List.of("x", "y"));
                    output = random.nextBoolean()
                            ? KvOutput.Values.of(Map.of())
                            : KvOutput.Values.of(Map.of("x", value, "y", value));
                }
            }
            if (random.nextInt(5) == 0) {
                history.add(Operation.pending(i, input, invoke));
            } else {
                history.add(Operation.completed(i, input, invoke, output, complete));
            }
        }
        return history;
    }

    /** The definition: some legal sequence of all completed and some pending ops respects real time. */
    private static <S, I, O> boolean bruteForceLinearizable(Model<S, I, O> model, List<Operation<I, O>> history) {
        int n = history.size();
        List<Integer> pendingIndexes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (history.get(i).isPending()) {
                pendingIndexes.add(i);
            }
        }
        for (int mask = 0; mask < (1 << pendingIndexes.size()); mask++) {
            List<Integer> chosen = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int pendingPosition = pendingIndexes.indexOf(i);
                if (pendingPosition < 0 || (mask & (1 << pendingPosition)) != 0) {
                    chosen.add(i);
                }
            }
            if (someOrderWorks(model, history, chosen, new ArrayList<>(), model.initialState())) {
                return true;
            }
        }
        return false;
    }

    private static <S, I, O> boolean someOrderWorks(
            Model<S, I, O> model, List<Operation<I, O>> history, List<Integer> left, List<Integer> done, S state) {
        if (left.isEmpty()) {
            return true;
        }
        for (int candidate : left) {
            Operation<I, O> op = history.get(candidate);
            // Real time: nothing still left may have completed before this one was invoked.
            boolean respectsRealTime = true;
            for (int other : left) {
                if (other != candidate && history.get(other).completeTime() < op.invokeTime()) {
                    respectsRealTime = false;
                    break;
                }
            }
            if (!respectsRealTime) {
                continue;
            }
            S next = model.step(state, op.input(), op.output());
            if (next == null) {
                continue;
            }
            List<Integer> rest = new ArrayList<>(left);
            rest.remove(Integer.valueOf(candidate));
            done.add(candidate);
            if (someOrderWorks(model, history, rest, done, next)) {
                return true;
            }
            done.remove(done.size() - 1);
        }
        return false;
    }
}
