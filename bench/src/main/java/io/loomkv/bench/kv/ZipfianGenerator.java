package io.loomkv.bench.kv;

import java.util.SplittableRandom;

/**
 * YCSB's zipfian generator (Gray et al., "Quickly Generating Billion-Record Synthetic Databases",
 * SIGMOD 1994, as in YCSB's {@code ZipfianGenerator}): draws ranks in {@code [0, items)} where
 * rank 0 is the most popular and rank {@code i} has probability {@code (1/(i+1)^theta) / zeta(n)}.
 * The constant setup cost is one {@code zeta(n)} sum, O(n).
 */
public final class ZipfianGenerator {
    /** YCSB's default skew. */
    public static final double YCSB_THETA = 0.99;

    private final long items;
    private final double theta;
    private final double zetan;
    private final double alpha;
    private final double eta;
    private final double halfPowTheta;

    public ZipfianGenerator(long items, double theta) {
        if (items < 1) {
            throw new IllegalArgumentException("items must be >= 1, got " + items);
        }
        if (!(theta > 0 && theta < 1)) {
            throw new IllegalArgumentException("theta must be in (0, 1), got " + theta);
        }
        this.items = items;
        this.theta = theta;
        this.zetan = zeta(items, theta);
        double zeta2 = zeta(2, theta);
        this.alpha = 1.0 / (1.0 - theta);
        this.eta = (1 - Math.pow(2.0 / items, 1 - theta)) / (1 - zeta2 / zetan);
        this.halfPowTheta = Math.pow(0.5, theta);
    }

    /** sum_{i=1..n} 1/i^theta. */
    static double zeta(long n, double theta) {
        double sum = 0;
        for (long i = 1; i <= n; i++) {
            sum += 1 / Math.pow(i, theta);
        }
        return sum;
    }

    /** The probability of rank {@code rank} (0 = most popular) in theory. */
    public double probability(long rank) {
        return 1 / Math.pow(rank + 1, theta) / zetan;
    }

    public long items() {
        return items;
    }

    public long next(SplittableRandom random) {
        double u = random.nextDouble();
        double uz = u * zetan;
        if (uz < 1.0) {
            return 0;
        }
        if (uz < 1.0 + halfPowTheta) {
            return Math.min(1, items - 1);
        }
        long rank = (long) (items * Math.pow(eta * u - eta + 1, alpha));
        return Math.min(rank, items - 1);
    }
}
