package io.loomkv.bench.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfianGeneratorTest {
    private static final int SAMPLES = 400_000;

    @Test
    void rankFrequenciesFollowTheory() {
        ZipfianGenerator zipfian = new ZipfianGenerator(1000, ZipfianGenerator.YCSB_THETA);
        long[] counts = new long[1000];
        SplittableRandom random = new SplittableRandom(123);
        for (int i = 0; i < SAMPLES; i++) {
            long rank = zipfian.next(random);
            assertTrue(rank >= 0 && rank < 1000, "rank " + rank);
            counts[(int) rank]++;
        }
        // Ranks 0 and 1 are exact in the algorithm; the tail is approximated, so looser there.
        assertEquals(zipfian.probability(0), counts[0] / (double) SAMPLES, zipfian.probability(0) * 0.03, "rank 1");
        assertEquals(zipfian.probability(1), counts[1] / (double) SAMPLES, zipfian.probability(1) * 0.05, "rank 2");
        double top10 = 0;
        double top10Theory = 0;
        for (int r = 0; r < 10; r++) {
            top10 += counts[r] / (double) SAMPLES;
            top10Theory += zipfian.probability(r);
        }
        assertEquals(top10Theory, top10, top10Theory * 0.1, "top 10 ranks");
        // Skewed: rank 1 is far more popular than the median rank.
        assertTrue(counts[0] > 50 * Math.max(1, counts[500]), "rank 1 " + counts[0] + " vs rank 501 " + counts[500]);
    }

    @Test
    void seededDrawsRepeat() {
        ZipfianGenerator zipfian = new ZipfianGenerator(10_000, ZipfianGenerator.YCSB_THETA);
        SplittableRandom a = new SplittableRandom(5);
        SplittableRandom b = new SplittableRandom(5);
        for (int i = 0; i < 1000; i++) {
            assertEquals(zipfian.next(a), zipfian.next(b));
        }
    }

    @Test
    void zetaMatchesTheSum() {
        assertEquals(1 + 1 / Math.pow(2, 0.99), ZipfianGenerator.zeta(2, 0.99), 1e-12);
    }

    @Test
    void badParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ZipfianGenerator(0, 0.99));
        assertThrows(IllegalArgumentException.class, () -> new ZipfianGenerator(10, 1.0));
    }

    @Test
    void scrambledZipfianKeysStayInRangeAndKeepTheHotKey() {
        KeySpace keys = new KeySpace(1000, KeyDistribution.ZIPFIAN);
        SplittableRandom random = new SplittableRandom(9);
        long[] counts = new long[1000];
        for (int i = 0; i < 100_000; i++) {
            counts[(int) keys.nextExistingIndex(random)]++;
        }
        long max = 0;
        for (long c : counts) {
            max = Math.max(max, c);
        }
        ZipfianGenerator theory = new ZipfianGenerator(1000, ZipfianGenerator.YCSB_THETA);
        // The scramble is a bijection: the hottest key gets rank 1's share.
        assertEquals(theory.probability(0), max / 100_000.0, theory.probability(0) * 0.06);
    }

    @Test
    void keysAreSixteenBytesAndSortByIndex() {
        assertEquals(KeySpace.KEY_SIZE_BYTES, KeySpace.key(0).size());
        assertEquals(KeySpace.KEY_SIZE_BYTES, KeySpace.key(KeySpace.MAX_INDEX).size());
        assertTrue(KeySpace.key(9).toStringUtf8().compareTo(KeySpace.key(10).toStringUtf8()) < 0);
        assertTrue(KeySpace.key(KeySpace.MAX_INDEX).toStringUtf8().compareTo(KeySpace.keySpaceEnd().toStringUtf8()) < 0);
        assertThrows(IllegalArgumentException.class, () -> KeySpace.key(-1));
    }

    @Test
    void latestFavoursTheNewestInserts() {
        KeySpace keys = new KeySpace(1000, KeyDistribution.LATEST);
        for (int i = 0; i < 100; i++) {
            keys.nextInsertIndex();
        }
        SplittableRandom random = new SplittableRandom(3);
        int newest = 0;
        for (int i = 0; i < 10_000; i++) {
            long index = keys.nextExistingIndex(random);
            assertTrue(index >= 0 && index <= 1099, "index " + index);
            if (index == 1099) {
                newest++;
            }
        }
        assertTrue(newest > 1000, "the newest key was drawn " + newest + " times of 10000");
    }
}
