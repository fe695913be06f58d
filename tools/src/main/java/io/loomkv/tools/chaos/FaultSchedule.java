package io.loomkv.tools.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The seeded fault schedule: rounds in which every chosen {@link FaultKind} appears once, in a shuffled
 * order, with random hold and quiet times. The runner takes steps in order while the run's
 * duration lasts, one fault at a time (so that each fault's effect is clear, and no fault is
 * stacked on a node that is still catching up from a torn WAL).
 */
final class FaultSchedule {
    static final long MIN_HOLD_MILLIS = 1_500;
    static final long MAX_HOLD_MILLIS = 4_000;
    static final long MIN_QUIET_MILLIS = 500;
    static final long MAX_QUIET_MILLIS = 1_500;

    private FaultSchedule() {
    }

    /** Enough steps for {@code durationMillis} even if every step took only its minimum time. */
    static List<FaultStep> generate(long seed, long durationMillis) {
        return generate(seed, durationMillis, EnumSet.allOf(FaultKind.class));
    }

    /** As {@link #generate(long, long)}, with only the given kinds in each round. */
    static List<FaultStep> generate(long seed, long durationMillis, Set<FaultKind> kinds) {
        Random random = new Random(seed);
        int steps = (int) Math.min(100_000, durationMillis / (MIN_HOLD_MILLIS + MIN_QUIET_MILLIS) + 1);
        List<FaultStep> schedule = new ArrayList<>(steps);
        while (schedule.size() < steps) {
            List<FaultKind> round = new ArrayList<>(kinds);
            Collections.shuffle(round, random);
            for (FaultKind kind : round) {
                if (schedule.size() == steps) {
                    break;
                }
                long hold = MIN_HOLD_MILLIS + random.nextLong(MAX_HOLD_MILLIS - MIN_HOLD_MILLIS + 1);
                long quiet = MIN_QUIET_MILLIS + random.nextLong(MAX_QUIET_MILLIS - MIN_QUIET_MILLIS + 1);
                schedule.add(new FaultStep(schedule.size() + 1, kind, hold, quiet, random.nextLong()));
            }
        }
        return schedule;
    }
}
