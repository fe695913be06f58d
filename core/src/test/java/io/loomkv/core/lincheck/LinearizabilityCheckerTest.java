package io.loomkv.core.lincheck;

import static io.loomkv.core.lincheck.HistoryBuilder.absent;
import static io.loomkv.core.lincheck.HistoryBuilder.append;
import static io.loomkv.core.lincheck.HistoryBuilder.cas;
import static io.loomkv.core.lincheck.HistoryBuilder.casResult;
import static io.loomkv.core.lincheck.HistoryBuilder.get;
import static io.loomkv.core.lincheck.HistoryBuilder.put;
import static io.loomkv.core.lincheck.HistoryBuilder.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Known good and known bad histories; each bad one says why it is bad. */
class LinearizabilityCheckerTest {

    private static final KvOutput OK = KvOutput.OK;

    private final LinearizabilityChecker checker = LinearizabilityChecker.withDefaults();

    private CheckResult check(HistoryBuilder h) {
        return checker.check(new KvModel(), h.build());
    }

    private static void assertOk(CheckResult result) {
        assertEquals(Verdict.OK, result.verdict(), result.explanation());
    }

    private static CheckResult.Violation assertIllegal(CheckResult result) {
        assertEquals(Verdict.ILLEGAL, result.verdict(), result.explanation());
        return result.violation().orElseThrow();
    }

    @Test
    void emptyHistoryIsLinearizable() {
        CheckResult result = check(new HistoryBuilder());
        assertOk(result);
        assertEquals(0, result.partitions());
    }

    @Test
    void sequentialHistory() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, get("x"), 0, absent(), 1);
        h.op(1, put("x", "a"), 2, OK, 3);
        h.op(2, get("x"), 4, value("a"), 5);
        h.op(2, append("x", "b"), 6, OK, 7);
        h.op(1, get("x"), 8, value("ab"), 9);
        h.op(1, new KvInput.Delete("x"), 10, OK, 11);
        h.op(2, get("x"), 12, absent(), 13);
        assertOk(check(h));
    }

    @Test
    void sequentialHistoryWithWrongReadIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.op(1, new KvInput.Delete("x"), 2, OK, 3);
        int read = h.op(1, get("x"), 4, value("a"), 5);
        CheckResult.Violation violation = assertIllegal(check(h));
        assertEquals(read, violation.blockedOperation());
        assertEquals(List.of(0, 1), violation.longestLinearizedPrefix());
        assertEquals(List.of("x"), violation.partitionKeys());
    }

    /** Porcupine's register example: C2's read of the initial value linearizes before the write. */
    @Test
    void porcupineRegisterExampleGood() {
        // C0: |---------- write(100) ----------|      [0, 100]
        // C1:      |---- read -> 100 ----|            [25, 75]
        // C2:        |-- read -> 0 --|                [30, 60]
        HistoryBuilder h = new HistoryBuilder();
        h.op(0, put("r", "100"), 0, OK, 100);
        h.op(1, get("r"), 25, value("100"), 75);
        h.op(2, get("r"), 30, value("0"), 60);
        assertOk(checker.check(new KvModel(Map.of("r", "0")), h.build()));
    }

    /** Porcupine's register example: a read of the old value after a read of the new one. */
    @Test
    void porcupineRegisterExampleBad() {
        // C0: |---------- write(200) ----------|      [0, 100]
        // C1:   |- read -> 200 -|                     [10, 30]
        // C2:                      |- read -> 0 -|    [40, 90]
        HistoryBuilder h = new HistoryBuilder();
        h.op(0, put("r", "200"), 0, OK, 100);
        h.op(1, get("r"), 10, value("200"), 30);
        int stale = h.op(2, get("r"), 40, value("0"), 90);
        CheckResult result = checker.check(new KvModel(Map.of("r", "0")), h.build());
        CheckResult.Violation violation = assertIllegal(result);
        assertEquals(stale, violation.blockedOperation());
        assertTrue(result.explanation().contains("get(r)"), result.explanation());
    }

    @Test
    void overlappingWritesCanBeOrderedEitherWay() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 10);
        h.op(2, put("x", "b"), 5, OK, 15);
        h.op(3, get("x"), 12, value("a"), 20); // b then a
        assertOk(check(h));

        HistoryBuilder h2 = new HistoryBuilder();
        h2.op(1, put("x", "a"), 0, OK, 10);
        h2.op(2, put("x", "b"), 5, OK, 15);
        h2.op(3, get("x"), 12, value("b"), 20); // a then b
        assertOk(check(h2));
    }

    @Test
    void equalTimestampsCountAsOverlapping() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 10);
        h.op(2, get("x"), 10, absent(), 20); // invoked exactly when the put completed
        assertOk(check(h));
    }

    @Test
    void staleReadAfterCompletedWriteIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.op(2, put("x", "b"), 2, OK, 3);
        int read = h.op(3, get("x"), 4, value("a"), 5);
        CheckResult result = check(h);
        assertEquals(read, assertIllegal(result).blockedOperation());
        assertTrue(result.explanation().contains("on keys [x]"), result.explanation());
    }

    @Test
    void lostWriteIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.op(2, get("x"), 2, absent(), 3);
        assertIllegal(check(h));
    }

    @Test
    void lostAppendIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, append("x", "1"), 0, OK, 1);
        h.op(2, append("x", "2"), 2, OK, 3);
        h.op(3, get("x"), 4, value("2"), 5);
        assertIllegal(check(h));
    }

    @Test
    void readOfValueNeverWrittenIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 10);
        h.op(2, put("x", "b"), 0, OK, 10);
        int read = h.op(3, get("x"), 5, value("c"), 8);
        CheckResult.Violation violation = assertIllegal(check(h));
        assertEquals(read, violation.blockedOperation());
    }

    @Test
    void concurrentAppendsMayLandInEitherOrderButOnlyOne() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, append("x", "a"), 0, OK, 10);
        h.op(2, append("x", "b"), 0, OK, 10);
        h.op(3, get("x"), 11, value("ba"), 12);
        h.op(3, get("x"), 13, value("ba"), 14);
        assertOk(check(h));

        HistoryBuilder flipFlop = new HistoryBuilder();
        flipFlop.op(1, append("x", "a"), 0, OK, 10);
        flipFlop.op(2, append("x", "b"), 0, OK, 10);
        flipFlop.op(3, get("x"), 11, value("ab"), 12);
        flipFlop.op(3, get("x"), 13, value("ba"), 14);
        assertIllegal(check(flipFlop));
    }

    @Test
    void sequentialAppendsKeepTheirOrder() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, append("x", "a"), 0, OK, 1);
        h.op(1, append("x", "b"), 2, OK, 3);
        h.op(2, get("x"), 4, value("ba"), 5);
        assertIllegal(check(h));
    }

    @Test
    void compareAndSetSemantics() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, cas("x", null, "1"), 0, casResult(true), 1);
        h.op(2, cas("x", null, "2"), 2, casResult(false), 3);
        h.op(1, cas("x", "1", "3"), 4, casResult(true), 5);
        h.op(2, get("x"), 6, value("3"), 7);
        assertOk(check(h));
    }

    @Test
    void twoConcurrentCasWithTheSameExpectationCannotBothSucceed() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, cas("x", null, "1"), 0, casResult(true), 10);
        h.op(2, cas("x", null, "2"), 0, casResult(true), 10);
        assertIllegal(check(h));

        HistoryBuilder oneWins = new HistoryBuilder();
        oneWins.op(1, cas("x", null, "1"), 0, casResult(false), 10);
        oneWins.op(2, cas("x", null, "2"), 0, casResult(true), 10);
        oneWins.op(3, get("x"), 11, value("2"), 12);
        assertOk(check(oneWins));
    }

    @Test
    void casThatFailsDespiteMatchingValueIsIllegal() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.op(2, cas("x", "a", "b"), 2, casResult(false), 3);
        assertIllegal(check(h));
    }

    @Test
    void timedOutWriteThatTookEffectIsAccepted() {
        HistoryBuilder h = new HistoryBuilder();
        h.pending(1, put("x", "a"), 0);
        h.op(2, get("x"), 5, absent(), 6); // not yet
        h.op(2, get("x"), 7, value("a"), 8); // now it has
        h.op(3, get("x"), 9, value("a"), 10);
        assertOk(check(h));
    }

    @Test
    void timedOutWriteThatNeverTookEffectIsAccepted() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.pending(1, put("x", "b"), 2);
        h.op(2, get("x"), 5, value("a"), 6);
        h.op(2, get("x"), 100, value("a"), 101);
        assertOk(check(h));
    }

    @Test
    void timedOutCasMayHaveTakenEffect() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 1);
        h.pending(1, cas("x", "a", "b"), 2);
        h.op(2, get("x"), 5, value("b"), 6);
        assertOk(check(h));
    }

    @Test
    void timedOutWriteCannotTakeEffectBeforeItWasInvokedNorTwice() {
        HistoryBuilder early = new HistoryBuilder();
        early.op(2, get("x"), 0, value("a"), 1);
        early.pending(1, put("x", "a"), 2);
        assertIllegal(check(early));

        HistoryBuilder undone = new HistoryBuilder();
        undone.pending(1, put("x", "a"), 0);
        undone.op(2, get("x"), 5, value("a"), 6);
        undone.op(2, get("x"), 7, absent(), 8);
        assertIllegal(check(undone));

        HistoryBuilder twice = new HistoryBuilder();
        twice.pending(1, append("x", "a"), 0);
        twice.op(2, get("x"), 5, value("aa"), 6);
        assertIllegal(check(twice));
    }

    @Test
    void independentKeysArePartitioned() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "1"), 0, OK, 1);
        h.op(1, put("y", "1"), 0, OK, 1);
        h.op(1, put("z", "1"), 0, OK, 1);
        h.op(2, get("x"), 2, value("1"), 3);
        CheckResult result = check(h);
        assertOk(result);
        assertEquals(3, result.partitions());
    }

    @Test
    void multiKeyOperationsJoinTheirKeysIntoOnePartition() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, KvInput.MultiPut.of(Map.of("x", "1", "y", "1")), 0, OK, 1);
        h.op(2, put("z", "1"), 0, OK, 1);
        h.op(2, new KvInput.MultiGet(List.of("x", "y")), 2, KvOutput.Values.of(Map.of("x", "1", "y", "1")), 3);
        h.op(3, new KvInput.MultiGet(List.of("x", "w")), 2, KvOutput.Values.of(Map.of("x", "1")), 3);
        CheckResult result = check(h);
        assertOk(result);
        assertEquals(2, result.partitions()); // {x, y, w} and {z}
    }

    /**
     * A torn read: two atomic multi-puts race, and a multi-get sees half of each. Per-key reads
     * at different moments may legally see that, one atomic read may not. A checker that split
     * multi-key operations into per-key pieces would wrongly accept the second history.
     */
    @Test
    void tornMultiGetIsIllegalWhileSeparateReadsAreFine() {
        HistoryBuilder separate = new HistoryBuilder();
        separate.op(1, KvInput.MultiPut.of(Map.of("x", "1", "y", "1")), 0, OK, 10);
        separate.op(2, KvInput.MultiPut.of(Map.of("x", "2", "y", "2")), 0, OK, 10);
        separate.op(3, get("x"), 2, value("1"), 3);
        separate.op(3, get("y"), 4, value("2"), 5);
        assertOk(check(separate));

        HistoryBuilder torn = new HistoryBuilder();
        torn.op(1, KvInput.MultiPut.of(Map.of("x", "1", "y", "1")), 0, OK, 10);
        torn.op(2, KvInput.MultiPut.of(Map.of("x", "2", "y", "2")), 0, OK, 10);
        int read = torn.op(3, new KvInput.MultiGet(List.of("x", "y")), 2,
                KvOutput.Values.of(Map.of("x", "1", "y", "2")), 3);
        CheckResult.Violation violation = assertIllegal(check(torn));
        assertEquals(read, violation.blockedOperation());
        assertEquals(2, violation.partitionKeys().size());
    }

    @Test
    void scansSeeAConsistentPrefixAndJoinEverything() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("a1", "1"), 0, OK, 1);
        h.op(1, put("a2", "2"), 2, OK, 3);
        h.op(1, put("b1", "3"), 4, OK, 5);
        h.op(2, new KvInput.Scan("a", 10), 6, KvOutput.Values.of(Map.of("a1", "1", "a2", "2")), 7);
        h.op(2, new KvInput.Scan("a", 1), 8, KvOutput.Values.of(Map.of("a1", "1")), 9);
        CheckResult result = check(h);
        assertOk(result);
        assertEquals(1, result.partitions());

        HistoryBuilder missing = new HistoryBuilder();
        missing.op(1, put("a1", "1"), 0, OK, 1);
        missing.op(1, put("a2", "2"), 2, OK, 3);
        missing.op(2, new KvInput.Scan("a", 10), 4, KvOutput.Values.of(Map.of("a1", "1")), 5);
        assertIllegal(check(missing));
    }

    @Test
    void historyOrderDoesNotMatter() {
        HistoryBuilder h = new HistoryBuilder();
        h.op(1, put("x", "a"), 0, OK, 10);
        h.op(2, put("x", "b"), 5, OK, 15);
        h.op(3, get("x"), 12, value("a"), 20);
        h.op(3, get("x"), 21, value("a"), 22);
        h.op(4, get("y"), 0, absent(), 30);
        List<Operation<KvInput, KvOutput>> operations = new ArrayList<>(h.build());
        Random random = new Random(7);
        for (int i = 0; i < 20; i++) {
            Collections.shuffle(operations, random);
            assertOk(checker.check(new KvModel(), operations));
        }
    }

    @Test
    void exhaustedBudgetIsUnknownNotOk() {
        HistoryBuilder h = new HistoryBuilder();
        for (int i = 0; i < 10; i++) {
            h.op(i, put("x", "v" + i), 0, OK, 100);
        }
        h.op(99, get("x"), 101, value("v0"), 102);
        CheckResult tiny = new LinearizabilityChecker(5).check(new KvModel(), h.build());
        assertEquals(Verdict.UNKNOWN, tiny.verdict(), tiny.explanation());
        assertTrue(tiny.explanation().contains("budget"), tiny.explanation());
        assertTrue(tiny.violation().isEmpty());
        assertTrue(tiny.steps() <= 5, "used " + tiny.steps() + " steps of 5");
        assertOk(check(h));
    }

    @Test
    void fullMemoIsUnknownNotOk() {
        HistoryBuilder h = new HistoryBuilder();
        for (int i = 0; i < 10; i++) {
            h.op(i, put("x", "v" + i), 0, OK, 100);
        }
        h.op(99, get("x"), 101, value("v0"), 102);
        CheckResult small = new LinearizabilityChecker(1_000_000, 4).check(new KvModel(), h.build());
        assertEquals(Verdict.UNKNOWN, small.verdict(), small.explanation());
        assertTrue(small.explanation().contains("memo limit of 4"), small.explanation());
        assertThrows(IllegalArgumentException.class, () -> new LinearizabilityChecker(10, 1));
    }

    /**
     * 6.824's UnreliableOneKey shape: five clients append to one key at once, some appends time
     * out (half of those took effect), and only one read at the end. Each wrong order of two
     * appends is refuted only by that read, so the plain search is exponential; the append-only
     * look-ahead refutes it as soon as the value diverges from what the read saw.
     */
    @Test
    void concurrentAppendersOnOneKeyWithOnlyAFinalRead() {
        Random random = new Random(6824);
        List<Operation<KvInput, KvOutput>> appends = new ArrayList<>();
        StringBuilder applied = new StringBuilder();
        long[] clientFree = new long[5];
        // Time advances in steps; at each step one append that is in flight takes effect.
        record InFlight(int client, int index, long invoke, boolean timesOut, boolean takesEffect) { }
        List<InFlight> inFlight = new ArrayList<>();
        int next = 0;
        for (long time = 0; next < 50 || !inFlight.isEmpty(); time += 10) {
            for (int c = 0; c < 5 && next < 50; c++) {
                if (clientFree[c] <= time) {
                    boolean timesOut = random.nextInt(8) == 0;
                    inFlight.add(new InFlight(c, next++, time, timesOut, !timesOut || random.nextBoolean()));
                    clientFree[c] = Long.MAX_VALUE;
                }
            }
            InFlight done = inFlight.remove(random.nextInt(inFlight.size()));
            KvInput input = append("k", "x" + done.index() + ";");
            if (done.takesEffect()) {
                applied.append("x").append(done.index()).append(';');
            }
            appends.add(done.timesOut()
                    ? Operation.pending(done.client(), input, done.invoke())
                    : Operation.completed(done.client(), input, done.invoke(), OK, time + 5));
            clientFree[done.client()] = time + 10;
        }
        long end = 10_000_000;
        List<Operation<KvInput, KvOutput>> good = new ArrayList<>(appends);
        good.add(Operation.completed(9, get("k"), end, value(applied.toString()), end + 1));
        CheckResult result = checker.check(new KvModel(), good);
        assertOk(result);
        assertTrue(result.steps() < 200_000, "took " + result.steps() + " steps");

        // Without the look-ahead the same history is out of reach of a large budget.
        KvModel plain = new KvModel();
        Model<Map<String, String>, KvInput, KvOutput> noLookahead = new Model<>() {
            @Override
            public Map<String, String> initialState() {
                return plain.initialState();
            }

            @Override
            public Map<String, String> step(Map<String, String> state, KvInput input, KvOutput output) {
                return plain.step(state, input, output);
            }

            @Override
            public java.util.Optional<? extends java.util.Collection<?>> keysOf(KvInput input) {
                return plain.keysOf(input);
            }
        };
        CheckResult blind = new LinearizabilityChecker(1_000_000).check(noLookahead, good);
        assertEquals(Verdict.UNKNOWN, blind.verdict(), blind.explanation());

        // An acknowledged append missing from the final value, or one applied twice, is caught.
        String firstAcked = appends.stream().filter(op -> !op.isPending())
                .map(op -> ((KvInput.Append) op.input()).value()).findFirst().orElseThrow();
        List<Operation<KvInput, KvOutput>> lost = new ArrayList<>(appends);
        lost.add(Operation.completed(9, get("k"), end, value(applied.toString().replace(firstAcked, "")), end + 1));
        assertIllegal(checker.check(new KvModel(), lost));
        List<Operation<KvInput, KvOutput>> twice = new ArrayList<>(appends);
        twice.add(Operation.completed(9, get("k"), end, value(applied + firstAcked), end + 1));
        assertIllegal(checker.check(new KvModel(), twice));
    }

    @Test
    void invalidHistoriesAreRejectedClearly() {
        assertThrows(IllegalArgumentException.class,
                () -> Operation.completed(1, get("x"), 10, absent(), 9));
        assertThrows(NullPointerException.class, () -> Operation.completed(1, get("x"), 0, null, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new Operation<>(1, get("x"), 0, absent(), Operation.PENDING));
        assertThrows(IllegalArgumentException.class, () -> new LinearizabilityChecker(0));
        HistoryBuilder wrongShape = new HistoryBuilder();
        wrongShape.op(1, get("x"), 0, OK, 1);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> check(wrongShape));
        assertTrue(e.getMessage().contains("get(x)"), e.getMessage());
    }
}
