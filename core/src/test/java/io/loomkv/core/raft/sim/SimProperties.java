package io.loomkv.core.raft.sim;

/**
 * The system properties that steer simulator runs:
 * <ul>
 *   <li>{@code loomkv.sim.seed=S}: run only seed S (scenario tests use S instead of their fixed seed);
 *   <li>{@code loomkv.sim.seeds=N}: the randomized run covers N seeds instead of its default;
 *   <li>{@code loomkv.sim.trace=true}: print every simulator event (to the surefire output file).
 * </ul>
 */
public final class SimProperties {

    private SimProperties() {}

    public static boolean trace() {
        return Boolean.parseBoolean(System.getProperty("loomkv.sim.trace", "false"));
    }

    /** The seed to replay, or {@code defaultSeed} when none is given. */
    public static long seedOr(long defaultSeed) {
        String value = System.getProperty("loomkv.sim.seed");
        return value == null || value.isBlank() ? defaultSeed : Long.parseLong(value.trim());
    }

    /** Whether a single seed was asked for. */
    public static boolean replaying() {
        String value = System.getProperty("loomkv.sim.seed");
        return value != null && !value.isBlank();
    }

    public static int seedsOr(int defaultSeeds) {
        String value = System.getProperty("loomkv.sim.seeds");
        if (value == null || value.isBlank()) {
            return defaultSeeds;
        }
        int seeds = Integer.parseInt(value.trim());
        if (seeds < 1) {
            throw new IllegalArgumentException("loomkv.sim.seeds must be >= 1, got " + seeds);
        }
        return seeds;
    }
}
