package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.SnapshotMetadata;
import io.loomkv.core.replica.Durability;
import java.util.List;

/**
 * One simulated store: a server process hosting one replica of every group ({@link SimReplica},
 * Raft node id = this store's id) over one {@link SimWal}. It runs its replicas' turns as the
 * simulator hands it ticks and messages, schedules the WAL's fsyncs (at most one in flight, each
 * taking a random 0..{@link SimOptions#maxPersistDelayTicks()} ticks) and, when one completes,
 * wakes its replicas as the runtime's WAL completion wakes a replica's loop.
 *
 * <p>A crash takes the whole store down: every replica's volatile state, and whatever the WAL had
 * not made durable (see {@link SimWal}). An armed {@link CrashPoint} crashes it in the middle of
 * a replica's Ready; the call chain that was running is unwound by a {@link SimCrash}, caught in
 * {@link #run}, the one entry point of every simulator event on this store.
 *
 * <p>A pause freezes the process (a long GC pause, a stopped VM): no turns, no fsync completions
 * seen, while messages pile up in the replicas' inboxes. The first turn after it gets every tick
 * that passed meanwhile (bounded as the runtime bounds it), before the messages.
 */
public final class SimStore {

    /** Wake rounds after one event: each round lets every replica finish the Readies its durable writes allow. */
    private static final int MAX_WAKE_ROUNDS = 1_000;

    private final int id;
    private final Simulator sim;
    private final SimWal wal;
    private final SimReplica[] replicas;
    private boolean alive;
    private long incarnation;
    private CrashPoint armedCrash;
    /** A scenario stalls the store's fsync (see {@link SimReplica#holdReadyWhen}). */
    private boolean fsyncHeld;
    private long fsyncDueTick;
    private long pausedUntilTick;
    /** Ticks that passed while paused, handed to the first turn after the pause. */
    private long ticksOwed;

    SimStore(int id, Simulator sim, List<Long> initialVoters) {
        this.id = id;
        this.sim = sim;
        int groups = sim.options().groups();
        this.wal = new SimWal(groups, initialVoters);
        this.replicas = new SimReplica[groups + 1];
        for (int group = 1; group <= groups; group++) {
            replicas[group] = new SimReplica(this, sim.group(group));
        }
    }

    public int id() {
        return id;
    }

    public boolean alive() {
        return alive;
    }

    /** Alive and not paused: it runs turns and serves client calls. */
    public boolean running() {
        return alive && sim.nowTick() >= pausedUntilTick;
    }

    public long incarnation() {
        return incarnation;
    }

    /** This store's replica of {@code group}. */
    public SimReplica replica(int group) {
        if (group < 1 || group >= replicas.length) {
            throw new IllegalArgumentException("group must be in [1, " + (replicas.length - 1) + "], got " + group);
        }
        return replicas[group];
    }

    /** Crashes the store at {@code point} of a coming Ready (null disarms). */
    public void armCrash(CrashPoint point) {
        armedCrash = point;
    }

    Simulator sim() {
        return sim;
    }

    SimWal wal() {
        return wal;
    }

    // ---- lifecycle ----

    void start() {
        if (alive) {
            throw new IllegalStateException("store " + id + " is already running");
        }
        incarnation++;
        if (sim.options().runtimeFault() == SimOptions.RuntimeFault.FORGET_VOTE_ON_CRASH && incarnation > 1) {
            wal.forgetVotes();
        }
        wal.restart();
        alive = true;
        armedCrash = null;
        fsyncHeld = false;
        pausedUntilTick = 0;
        ticksOwed = 0;
        run("restart", () -> {
            for (int group = 1; group < replicas.length; group++) {
                replicas[group].start();
            }
        });
    }

    /** Crashes the store now: volatile state and what was not durable are lost. */
    void crash() {
        if (!alive) {
            return;
        }
        if (sim.options().runtimeFault() == SimOptions.RuntimeFault.LOSE_LAST_APPEND_ON_CRASH) {
            wal.loseLastDurableAppends();
        }
        SimWal.CrashLoss loss = wal.crash(sim.random());
        for (int group = 1; group < replicas.length; group++) {
            replicas[group].stop();
        }
        alive = false;
        armedCrash = null;
        fsyncHeld = false;
        pausedUntilTick = 0;
        ticksOwed = 0;
        sim.onStoreCrashed(this, loss);
    }

    private SimCrash crashAt(CrashPoint point) {
        sim.trace("crash " + id + " inside a Ready, " + point);
        crash();
        return new SimCrash(id, point);
    }

    /** Freezes the store for {@code ticks} ticks. */
    void pause(long ticks) {
        if (alive) {
            pausedUntilTick = Math.max(pausedUntilTick, sim.nowTick() + ticks);
        }
    }

    /** Ends a pause now: the next tick's turn gets the ticks that passed, then what piled up in the inboxes. */
    void resume() {
        pausedUntilTick = Math.min(pausedUntilTick, sim.nowTick());
    }

    // ---- the WAL, for the replicas ----

    Durability persist(int group, HardState hardState, List<Entry> entries, boolean mustSync) {
        if (armedCrash == CrashPoint.BEFORE_PERSIST
                || (armedCrash == CrashPoint.BEFORE_PERSISTING_ENTRIES && !entries.isEmpty())) {
            throw crashAt(armedCrash);
        }
        Durability durable = wal.append(group, hardState, entries, mustSync);
        maybeStartFsync();
        if (sim.options().runtimeFault() == SimOptions.RuntimeFault.DURABLE_BEFORE_FSYNC) {
            return Durability.DONE;
        }
        return durable;
    }

    void installSnapshot(int group, SnapshotMetadata metadata, ByteString data) {
        if (armedCrash == CrashPoint.BEFORE_PERSIST) {
            throw crashAt(armedCrash);
        }
        wal.installSnapshot(group, metadata, data);
        if (armedCrash == CrashPoint.AFTER_PERSIST) {
            throw crashAt(armedCrash);
        }
    }

    void snapshotAndCompact(int group, long index, ConfState confState, ByteString data) {
        wal.snapshotAndCompact(group, index, confState, data);
    }

    private void maybeStartFsync() {
        if (wal.fsyncInFlight() || !wal.needsFsync()) {
            return;
        }
        wal.startFsync();
        int maxDelay = sim.options().maxPersistDelayTicks();
        long delay = maxDelay == 0 ? 0 : sim.random().nextInt(maxDelay + 1);
        fsyncDueTick = sim.nowTick() + delay;
        if (delay == 0 && !fsyncHeld) {
            completeFsync();
        }
    }

    private void completeFsync() {
        int records = wal.completeFsync();
        if (records > 0 && armedCrash == CrashPoint.AFTER_PERSIST) {
            throw crashAt(armedCrash);
        }
        maybeStartFsync();
    }

    /** The tick loop: completes the fsync in flight if it is due, and wakes the replicas. */
    void completeDueFsync() {
        if (running() && wal.fsyncInFlight() && !fsyncHeld && sim.nowTick() >= fsyncDueTick) {
            run("completing an fsync", this::completeFsync);
        }
    }

    void holdFsync() {
        fsyncHeld = true;
    }

    boolean fsyncHeld() {
        return fsyncHeld;
    }

    /** Lets a held fsync complete now (and the replicas act on it). */
    void releaseFsync() {
        if (!fsyncHeld) {
            throw new IllegalStateException("store " + id + " holds no fsync");
        }
        fsyncHeld = false;
        run("releasing a held fsync", () -> {
            if (wal.fsyncInFlight()) {
                completeFsync();
            } else {
                maybeStartFsync();
            }
        });
    }

    // ---- running ----

    /**
     * One turn for each replica that has ticks due or messages waiting: the tick loop's turn
     * ({@code dueTicks} 1, or 0 for a clock that missed the tick) or a delivery round's (0).
     */
    void runTurns(long dueTicks) {
        if (!alive) {
            return;
        }
        if (!running()) {
            ticksOwed += dueTicks;
            return;
        }
        long ticks = dueTicks;
        if (ticksOwed > 0 && dueTicks > 0) {
            // As the runtime's loop after a stall: every tick that passed, bounded (past two
            // election timeouts every timer has expired anyway), before the turn's messages.
            ticks = Math.min(ticksOwed + dueTicks, 2L * sim.options().electionTimeoutTicks());
            sim.trace("store " + id + " resumes with " + ticks + " ticks due");
            ticksOwed = 0;
        }
        for (int group = 1; group < replicas.length && alive; group++) {
            SimReplica replica = replicas[group];
            if (ticks > 0 || replica.hasInput()) {
                long turnTicks = ticks;
                run("a turn of group " + group, () -> replica.turn(turnTicks));
            }
        }
    }

    /**
     * Runs one event on this store: {@code action}, then every replica whose persist became
     * durable finishes its Ready; a crash point unwinds here; any other exception fails the run,
     * naming the seed. Then the invariants are checked.
     */
    void run(String what, Runnable action) {
        try {
            action.run();
            wakeReplicas();
        } catch (SimCrash crashed) {
            // The store is down; what its replicas were doing died with it.
        } catch (AssertionError e) {
            throw e;
        } catch (RuntimeException e) {
            AssertionError failure = sim.fail("store " + id + " threw during " + what + ": " + e);
            failure.initCause(e);
            throw failure;
        }
        sim.afterStep(this);
    }

    private void wakeReplicas() {
        for (int round = 0; alive; round++) {
            if (round == MAX_WAKE_ROUNDS) {
                throw sim.fail("store " + id + " still had work after " + MAX_WAKE_ROUNDS + " wake rounds");
            }
            boolean worked = false;
            for (int group = 1; group < replicas.length && alive; group++) {
                worked |= replicas[group].wake();
            }
            if (!worked) {
                return;
            }
        }
    }

    void checkInvariants() {
        if (!alive) {
            return;
        }
        for (int group = 1; group < replicas.length; group++) {
            replicas[group].checkInvariants();
        }
    }
}
