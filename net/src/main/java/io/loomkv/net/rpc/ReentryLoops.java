package io.loomkv.net.rpc;

/**
 * Why the store's endless loops (connection readers, Raft workers, apply threads) do their work in
 * a method that returns after a bounded batch and is called again, rather than in one loop that
 * never returns.
 *
 * <p>A loop that never returns keeps running whatever compiled version of its method it entered:
 * when the JIT replaces that version (the method's callees were recompiled, or a profile changed),
 * the old one keeps running in the loop's frame, and HotSpot does not repoint such a replaced
 * method's call sites at its callees' newer code, so those calls go through the interpreter: for
 * {@code ServerConnection.onRequest}, 1.5% of the stores' CPU in a warmed profile of 16 groups
 * (docs/performance.md, seventeenth session; the fourteenth found the cause). A method that returns
 * every {@link #ITERATIONS_PER_CALL} iterations is entered afresh from a caller that runs too few
 * iterations to be compiled (its loop stays interpreted, and an interpreted call always enters the
 * newest code), so old code lasts one batch at most.
 */
public final class ReentryLoops {
    /**
     * Large enough that the call is nothing next to a batch's work, and that the caller's loop
     * reaches the JIT's on-stack-replacement threshold (60,000 back-edges) only after about 245
     * million iterations, hours of a busy connection; small enough that a batch ends soon.
     */
    public static final int ITERATIONS_PER_CALL = 4096;

    private ReentryLoops() {
    }
}
