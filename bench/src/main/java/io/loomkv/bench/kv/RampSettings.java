package io.loomkv.bench.kv;

import java.nio.file.Path;
import java.util.List;

/**
 * The validated ramp of a run.
 *
 * @param spec the {@code --ramp} value as given
 * @param openLoop whether the levels are target rates in ops/s (else numbers of clients)
 * @param levels the levels the run will hold, rising, at least one
 * @param p99BoundNanos {@code --p99-bound}, or {@link RampReport#NO_BOUND}
 * @param plotFile where the SVG of throughput and p99 against the level goes
 */
public record RampSettings(RampSpec spec, boolean openLoop, List<Long> levels, long p99BoundNanos, Path plotFile) {
    public RampSettings {
        if (levels.isEmpty() || p99BoundNanos < 0 || plotFile == null) {
            throw new IllegalArgumentException("bad ramp settings: levels " + levels + ", bound " + p99BoundNanos + " ns, plot " + plotFile);
        }
        levels = List.copyOf(levels);
    }

    public long lastLevel() {
        return levels.get(levels.size() - 1);
    }

    public long durationNanos() {
        return levels.size() * spec.everyNanos();
    }
}
