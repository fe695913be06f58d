package io.loomkv.core.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.lincheck.SimulatedKvHistory.Simulated;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Large seeded histories from a store that is linearizable by construction must pass; the same
 * histories with one read mutated into a provably impossible one must fail, naming that read's key.
 */
class RandomHistoryTest {

    private static final List<String> KEYS = List.of("k0", "k1", "k2", "k3");
    private static final int CLIENTS = 6;
    private static final int OPERATIONS = 4000;
    /** Refuting a history means exhausting every order up to the violation: keep those smaller. */
    private static final int MUTATED_OPERATIONS = 2000;
    /**
     * One operation in 50 times out. The search is exponential in the number of pending writes
     * alive at once (as in Porcupine and Knossos), so an illegal history with many timeouts can end
     * UNKNOWN; legal ones stay fast because the first good order is found greedily.
     */
    private static final int TIMEOUT_ONE_IN = 50;

    private final LinearizabilityChecker checker = LinearizabilityChecker.withDefaults();

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void simulatedLinearizableStorePasses(long seed) {
        List<Simulated> history = SimulatedKvHistory.generate(seed, CLIENTS, OPERATIONS, KEYS, TIMEOUT_ONE_IN);
        CheckResult result = checker.check(new KvModel(), SimulatedKvHistory.operations(history));
        assertEquals(Verdict.OK, result.verdict(), result.explanation());
        assertEquals(KEYS.size(), result.partitions());
    }

    @ParameterizedTest
    @ValueSource(longs = {7, 8})
    void legalHistoryWithManyTimeoutsPasses(long seed) {
        List<Simulated> history = SimulatedKvHistory.generate(seed, CLIENTS, OPERATIONS, KEYS, 10);
        long pending = history.stream().filter(s -> s.operation().isPending()).count();
        assertTrue(pending > OPERATIONS / 20, "only " + pending + " pending operations");
        CheckResult result = checker.check(new KvModel(), SimulatedKvHistory.operations(history));
        assertEquals(Verdict.OK, result.verdict(), result.explanation());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void readOfAValueNeverWrittenFails(long seed) {
        List<Simulated> history =
                SimulatedKvHistory.generate(seed, CLIENTS, MUTATED_OPERATIONS, KEYS, TIMEOUT_ONE_IN);
        List<Operation<KvInput, KvOutput>> operations = SimulatedKvHistory.operations(history);
        Random random = new Random(seed);
        int target = pickCompletedGet(operations, random);
        Operation<KvInput, KvOutput> read = operations.get(target);
        operations.set(target, Operation.completed(read.clientId(), read.input(), read.invokeTime(),
                new KvOutput.Value("never-written"), read.completeTime()));
        assertIllegalOnKeyOf(operations, read);
    }

    /**
     * Stale read: a get that returns the value of a put P although another completed write W
     * happened strictly after P and strictly before the get. Values are unique, so every order
     * puts P before W before the get, and P's value cannot be seen there.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 2026})
    void staleReadFails(long seed) {
        List<Simulated> history =
                SimulatedKvHistory.generate(seed, CLIENTS, MUTATED_OPERATIONS, KEYS, TIMEOUT_ONE_IN);
        List<Operation<KvInput, KvOutput>> operations = SimulatedKvHistory.operations(history);
        int mutated = 0;
        for (int g = operations.size() - 1; g >= 0 && mutated == 0; g--) {
            Operation<KvInput, KvOutput> read = operations.get(g);
            if (!(read.input() instanceof KvInput.Get get) || read.isPending()) {
                continue;
            }
            String staleValue = staleValueFor(operations, read, get.key());
            if (staleValue != null) {
                operations.set(g, Operation.completed(read.clientId(), read.input(), read.invokeTime(),
                        new KvOutput.Value(staleValue), read.completeTime()));
                mutated++;
                assertIllegalOnKeyOf(operations, read);
            }
        }
        assertEquals(1, mutated, "no stale-read candidate found in seed " + seed);
    }

    /** Many more seeds; run with {@code -Dloomkv.soak=true}. */
    @Test
    @EnabledIfSystemProperty(named = "loomkv.soak", matches = "true")
    void soakManySeeds() {
        for (long seed = 100; seed < 160; seed++) {
            simulatedLinearizableStorePasses(seed);
            readOfAValueNeverWrittenFails(seed);
            staleReadFails(seed);
        }
    }

    private void assertIllegalOnKeyOf(
            List<Operation<KvInput, KvOutput>> operations, Operation<KvInput, KvOutput> read) {
        CheckResult result = checker.check(new KvModel(), operations);
        assertEquals(Verdict.ILLEGAL, result.verdict(), result.explanation());
        String key = ((KvInput.Get) read.input()).key();
        assertEquals(List.of(key), result.violation().orElseThrow().partitionKeys(), result.explanation());
    }

    /** The value of a put P such that some completed put W on the key lies strictly between P and read. */
    private static String staleValueFor(
            List<Operation<KvInput, KvOutput>> operations, Operation<KvInput, KvOutput> read, String key) {
        List<Operation<KvInput, KvOutput>> puts = new ArrayList<>();
        for (Operation<KvInput, KvOutput> op : operations) {
            if (!op.isPending() && op.input() instanceof KvInput.Put put && put.key().equals(key)) {
                puts.add(op);
            }
        }
        for (Operation<KvInput, KvOutput> p : puts) {
            for (Operation<KvInput, KvOutput> w : puts) {
                if (p.completeTime() < w.invokeTime() && w.completeTime() < read.invokeTime()) {
                    String stale = ((KvInput.Put) p.input()).value();
                    if (!stale.equals(((KvOutput.Value) read.output()).value())) {
                        return stale;
                    }
                }
            }
        }
        return null;
    }

    private static int pickCompletedGet(List<Operation<KvInput, KvOutput>> operations, Random random) {
        List<Integer> gets = new ArrayList<>();
        for (int i = 0; i < operations.size(); i++) {
            if (operations.get(i).input() instanceof KvInput.Get && !operations.get(i).isPending()) {
                gets.add(i);
            }
        }
        assertTrue(gets.size() > 100, "generator made only " + gets.size() + " completed gets");
        return gets.get(random.nextInt(gets.size()));
    }
}
