package io.loomkv.core.raft.sim;

/**
 * What a simulation exercised, so that a randomized run can prove it did not silently stop
 * exercising the orderings it exists for: store crashes (and those that hit an fsync in flight),
 * output the driver sent while a persist was in flight, entries applied ahead of the replica's
 * own persist, pauses.
 */
public final class SimStats {

    private long steps;
    private long crashes;
    private long crashesDuringFsync;
    private long recordsKeptByTornFsyncs;
    private long earlyMessages;
    private long earlyReads;
    private long appliedAheadOfPersist;
    private long pauses;

    void countStep() {
        steps++;
    }

    void countCrash(SimWal.CrashLoss loss) {
        crashes++;
        if (loss.midFsync()) {
            crashesDuringFsync++;
            recordsKeptByTornFsyncs += loss.keptRecords();
        }
    }

    void countEarlyOutput(int messages, int reads) {
        earlyMessages += messages;
        earlyReads += reads;
    }

    void countAppliedAheadOfPersist() {
        appliedAheadOfPersist++;
    }

    void countPause() {
        pauses++;
    }

    /** Events run on stores (turns, fsync completions, client calls). */
    public long steps() {
        return steps;
    }

    /** Stores that crashed (all their groups at once). */
    public long crashes() {
        return crashes;
    }

    /** Crashes that hit a store while an fsync was in flight: a random prefix of its records survived. */
    public long crashesDuringFsync() {
        return crashesDuringFsync;
    }

    /** Records that such torn fsyncs still got to the disk. */
    public long recordsKeptByTornFsyncs() {
        return recordsKeptByTornFsyncs;
    }

    /** Messages sent while the sender's persist was in flight (appends, heartbeats and their responses). */
    public long earlyMessages() {
        return earlyMessages;
    }

    /** Reads confirmed while the confirming replica's persist was in flight. */
    public long earlyReads() {
        return earlyReads;
    }

    /** Hand-offs of committed entries (durable earlier) while the replica's own latest persist was not yet durable. */
    public long appliedAheadOfPersist() {
        return appliedAheadOfPersist;
    }

    public long pauses() {
        return pauses;
    }
}
