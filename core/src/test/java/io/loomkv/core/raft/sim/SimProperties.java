package io.loomkv.core.raft.sim;

/**
 * The system properties that steer simulator runs:
 * <ul>
 *   <li>{@code loomkv.sim.seed=S}: run only seed S (scenario tests use S instead of their fixed seed);
 *   <li>{@code loomkv.sim.seeds=N}: the randomized run covers N seeds instead of its default;
 *   <li>{@code loomkv.sim.firstSeed=F}: the randomized run starts at seed F instead of 1;
 *   <li>{@code loomkv.sim.chaosTicks=T}: each randomized seed runs T ticks of faults instead of
 *       {@link RandomRun#CHAOS_TICKS} (longer soaks);
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

    public static long firstSeed() {
        String value = System.getProperty("loomkv.sim.firstSeed");
        return value == null || value.isBlank() ? 1 : Long.parseLong(value.trim());
    }

    public static int chaosTicks() {
        String value = System.getProperty("loomkv.sim.chaosTicks");
        if (value == null || value.isBlank()) {
            return RandomRun.CHAOS_TICKS;
        }
        int ticks = Integer.parseInt(value.trim());
        if (ticks < 1) {
            throw new IllegalArgumentException("loomkv.sim.chaosTicks must be >= 1, got " + ticks);
        }
        return ticks;
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
