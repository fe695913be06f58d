package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OperationMixTest {
    private static final int DRAWS = 200_000;

    private static Map<OpType, Double> observed(OperationMix mix, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<OpType, Integer> counts = new EnumMap<>(OpType.class);
        for (int i = 0; i < DRAWS; i++) {
            counts.merge(mix.next(random), 1, Integer::sum);
        }
        Map<OpType, Double> fractions = new EnumMap<>(OpType.class);
        for (OpType type : OpType.values()) {
            fractions.put(type, counts.getOrDefault(type, 0) / (double) DRAWS);
        }
        return fractions;
    }

    @Test
    void everyWorkloadDrawsItsProportions() {
        for (Workload workload : Workload.values()) {
            Map<OpType, Double> seen = observed(workload.mix(), 42);
            workload.mix().asMap().forEach((type, expected) ->
                    // 200k draws: the standard deviation of a fraction is at most ~0.0011.
                    assertEquals(expected, seen.get(type), 0.006, workload + " " + type));
        }
    }

    @Test
    void ycsbMixesAreTheDocumentedOnes() {
        assertEquals(new OperationMix(0.5, 0.5, 0, 0, 0), Workload.A.mix());
        assertEquals(new OperationMix(0.95, 0.05, 0, 0, 0), Workload.B.mix());
        assertEquals(1.0, Workload.C.mix().read());
        assertEquals(0.05, Workload.D.mix().insert());
        assertEquals(KeyDistribution.LATEST, Workload.D.distribution());
        assertEquals(0.95, Workload.E.mix().scan());
        assertEquals(0.5, Workload.F.mix().rmw());
        // Key and value together 4 KB, as in the design notes.
        assertEquals(4096 - KeySpace.KEY_SIZE_BYTES, Workload.SEED.valueSizeBytes());
        assertEquals(KeyDistribution.UNIFORM, Workload.SEED.distribution());
    }

    @Test
    void readRatioOverrideSharesTheRestProportionally() {
        OperationMix e = Workload.E.mix().withReadRatio(0.5);
        assertEquals(0.5, e.read(), 1e-12);
        assertEquals(0.025, e.insert(), 1e-12);
        assertEquals(0.475, e.scan(), 1e-12);
        OperationMix c = Workload.C.mix().withReadRatio(0.8);
        assertEquals(0.8, c.read(), 1e-12);
        assertEquals(0.2, c.update(), 1e-12);
        Map<OpType, Double> seen = observed(Workload.B.mix().withReadRatio(0.3), 7);
        assertEquals(0.3, seen.get(OpType.READ), 0.006);
        assertEquals(0.7, seen.get(OpType.UPDATE), 0.006);
    }

    @Test
    void badMixesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new OperationMix(0.5, 0.4, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new OperationMix(-0.1, 1.1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Workload.A.mix().withReadRatio(1.5));
        assertThrows(IllegalArgumentException.class, () -> Workload.A.mix().withReadRatio(Double.NaN));
    }
}
