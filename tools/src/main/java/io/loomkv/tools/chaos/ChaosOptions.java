package io.loomkv.tools.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * One chaos run's settings.
 *
 * @param duration how long clients run while faults are injected (the last fault started before
 *     the end still finishes; recovery and checking come after)
 * @param seed drives the fault schedule, the fault targets and the clients' choices
 * @param clients concurrent clients, each with its own connection and session
 * @param keys keys in use: half are registers (put, compare-and-set, get), half are append logs
 *     (append, get), so that every acknowledged append can be looked for at the end
 * @param nodes servers at the start, 3 or 5
 * @param runDirectory configs, data, logs and pid files of the run
 * @param keepData keep the data directories after a clean run (they are always kept after a failure)
 * @param leaseReads servers run with {@code lease-reads=true} and clients read with LEASE consistency
 *     (linearizable only while the lease's clock assumptions hold)
 * @param faults the kinds of fault to inject (all of them by default)
 * @param groups data groups of the cluster ({@code data-groups}), each replicated on every server;
 *     faults hit servers, so every group of a killed or paused server is hit at once
 */
public record ChaosOptions(Duration duration, long seed, int clients, int keys, int nodes, Path runDirectory, boolean keepData,
        boolean leaseReads, Set<FaultKind> faults, int groups) {
    /** More would measure how a 2-core machine copes with the elections, not the code. */
    public static final int MAX_GROUPS = 256;

    /** Every fault kind, with linearizable reads, one data group. */
    public ChaosOptions(Duration duration, long seed, int clients, int keys, int nodes, Path runDirectory) {
        this(duration, seed, clients, keys, nodes, runDirectory, false, false, EnumSet.allOf(FaultKind.class), 1);
    }

    /** One data group. */
    public ChaosOptions(Duration duration, long seed, int clients, int keys, int nodes, Path runDirectory, boolean keepData,
            boolean leaseReads, Set<FaultKind> faults) {
        this(duration, seed, clients, keys, nodes, runDirectory, keepData, leaseReads, faults, 1);
    }

    public ChaosOptions {
        faults = faults.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(faults));
        if (faults.isEmpty()) {
            throw new IllegalArgumentException("at least one kind of fault is needed");
        }
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(runDirectory, "runDirectory");
        if (duration.toSeconds() < 5 || duration.toHours() > 72) {
            throw new IllegalArgumentException("duration must be between 5 s and 72 h, got " + duration);
        }
        if (clients < 1 || clients > 256) {
            throw new IllegalArgumentException("clients must be in 1..256, got " + clients);
        }
        if (keys < 2 || keys > 1000) {
            throw new IllegalArgumentException("keys must be in 2..1000 (half registers, half append logs), got " + keys);
        }
        if (nodes != 3 && nodes != 5) {
            throw new IllegalArgumentException("nodes must be 3 or 5, got " + nodes);
        }
        if (groups < 1 || groups > MAX_GROUPS) {
            throw new IllegalArgumentException("groups must be in 1.." + MAX_GROUPS + ", got " + groups);
        }
    }
}
