package io.loomkv.bench.kv;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The proportions of each operation type; they sum to 1. {@link #next} draws one type.
 *
 * @param read fraction of reads
 * @param update fraction of updates (puts of existing keys)
 * @param insert fraction of inserts (puts of new keys)
 * @param scan fraction of short scans
 * @param rmw fraction of read-modify-writes
 */
public record OperationMix(double read, double update, double insert, double scan, double rmw) {
    private static final double TOLERANCE = 1e-9;

    public OperationMix {
        for (double p : new double[] {read, update, insert, scan, rmw}) {
            if (!(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException("every proportion must be in [0, 1], got " + this);
            }
        }
        double sum = read + update + insert + scan + rmw;
        if (Math.abs(sum - 1) > TOLERANCE) {
            throw new IllegalArgumentException("proportions must sum to 1, got " + sum + " for " + this);
        }
    }

    /**
     * This mix with reads at {@code readRatio}; the other types share the rest in their current
     * proportions (a read-only mix gives the rest to updates).
     */
    public OperationMix withReadRatio(double readRatio) {
        if (!(readRatio >= 0 && readRatio <= 1)) {
            throw new IllegalArgumentException("--read-ratio must be in [0, 1], got " + readRatio);
        }
        double others = update + insert + scan + rmw;
        if (others <= 0) {
            return new OperationMix(readRatio, 1 - readRatio, 0, 0, 0);
        }
        double scale = (1 - readRatio) / others;
        double u = update * scale;
        double i = insert * scale;
        double s = scan * scale;
        // The last share takes the rounding remainder so the sum is exactly 1.
        return new OperationMix(readRatio, u, i, s, Math.max(0, 1 - readRatio - u - i - s));
    }

    public OpType next(SplittableRandom random) {
        double u = random.nextDouble();
        if ((u -= read) < 0) {
            return OpType.READ;
        }
        if ((u -= update) < 0) {
            return OpType.UPDATE;
        }
        if ((u -= insert) < 0) {
            return OpType.INSERT;
        }
        if ((u -= scan) < 0) {
            return OpType.SCAN;
        }
        if (rmw > 0) {
            return OpType.RMW;
        }
        // Rounding left u just above the total: give it to the last type with a share.
        return scan > 0 ? OpType.SCAN : insert > 0 ? OpType.INSERT : update > 0 ? OpType.UPDATE : OpType.READ;
    }

    public Map<OpType, Double> asMap() {
        Map<OpType, Double> map = new EnumMap<>(OpType.class);
        map.put(OpType.READ, read);
        map.put(OpType.UPDATE, update);
        map.put(OpType.INSERT, insert);
        map.put(OpType.SCAN, scan);
        map.put(OpType.RMW, rmw);
        return map;
    }
}
