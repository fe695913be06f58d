package io.loomkv.net.client;

/**
 * Whether any attempt of one numbered write may have been applied. An attempt answered
 * {@code NOT_LEADER} (refused before proposing) or {@code WRONG_GROUP} (refused before proposing,
 * or applied as a refusal that is not cached, so it executed nothing) leaves no copy of the write
 * behind; one that timed out, lost its connection or got {@code UNAVAILABLE}/{@code TIMEOUT} may
 * have left one in a log, to be applied later. While no attempt is in doubt, the client may give
 * the write's sequence up and send its operations again under new sequences (a multi-put whose
 * keys now span groups is split again); once one is, only the same sequence may be sent, so that
 * the session table applies it at most once.
 *
 * <p>Attempts of one write run one after another (each starts when the previous one finished), so
 * a volatile flag is enough.
 */
final class WriteDoubt {
    private volatile boolean mayHaveApplied;

    /** An attempt ended without a definite "nothing was applied". */
    void attemptInDoubt() {
        mayHaveApplied = true;
    }

    boolean mayHaveApplied() {
        return mayHaveApplied;
    }
}
