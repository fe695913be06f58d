package io.loomkv.core.raft.sim;

/**
 * How unreliable the simulated network is. Probabilities are in per mille so that the numbers
 * match MIT 6.824's labrpc, which drops a request or a reply with probability 100/1000 when
 * unreliable and, with "long reordering", delays 600/900 of the replies by 200-2200 ms.
 *
 * <p>A request is any message that starts an exchange (append, heartbeat, vote, snapshot chunk,
 * ...); a response is a {@code *_RESP} message. Delays are in ticks (see {@link Simulator} for the
 * tick-to-time mapping).
 *
 * @param dropRequestPerMille probability that a request is lost
 * @param dropResponsePerMille probability that a response is lost
 * @param duplicatePerMille probability that a message is delivered twice (labrpc never does this;
 *     Raft must tolerate it, so the unreliable profiles add it)
 * @param minDelayTicks smallest delivery delay
 * @param maxDelayTicks largest ordinary delivery delay; different delays reorder messages
 * @param longReorderPerMille probability that a response is held back for a long time
 * @param longReorderMinTicks shortest long delay
 * @param longReorderMaxExtraTicks longest extra long delay on top of {@code longReorderMinTicks}
 */
public record NetworkFaults(
        int dropRequestPerMille,
        int dropResponsePerMille,
        int duplicatePerMille,
        int minDelayTicks,
        int maxDelayTicks,
        int longReorderPerMille,
        int longReorderMinTicks,
        int longReorderMaxExtraTicks) {

    /** labrpc's reliable network: nothing lost, delivered within the next tick. */
    public static final NetworkFaults RELIABLE = new NetworkFaults(0, 0, 0, 0, 1, 0, 0, 0);

    /** labrpc's unreliable network: 10% of requests and replies lost, 0-27 ms delay; plus 1% duplicates. */
    public static final NetworkFaults UNRELIABLE = new NetworkFaults(100, 100, 10, 0, 3, 0, 0, 0);

    /** {@link #UNRELIABLE} plus labrpc's long reordering: 600/900 replies delayed 200-2200 ms. */
    public static final NetworkFaults UNRELIABLE_LONG_REORDER =
            new NetworkFaults(100, 100, 10, 0, 3, 667, 20, 200);

    public NetworkFaults {
        checkPerMille("dropRequestPerMille", dropRequestPerMille);
        checkPerMille("dropResponsePerMille", dropResponsePerMille);
        checkPerMille("duplicatePerMille", duplicatePerMille);
        checkPerMille("longReorderPerMille", longReorderPerMille);
        if (minDelayTicks < 0 || maxDelayTicks < minDelayTicks) {
            throw new IllegalArgumentException(
                    "need 0 <= minDelayTicks <= maxDelayTicks, got " + minDelayTicks + ", " + maxDelayTicks);
        }
        if (longReorderMinTicks < 0 || longReorderMaxExtraTicks < 0) {
            throw new IllegalArgumentException("long reorder delays must be >= 0, got "
                    + longReorderMinTicks + ", " + longReorderMaxExtraTicks);
        }
    }

    public boolean reliable() {
        return dropRequestPerMille == 0 && dropResponsePerMille == 0 && duplicatePerMille == 0
                && longReorderPerMille == 0;
    }

    private static void checkPerMille(String name, int value) {
        if (value < 0 || value > 1000) {
            throw new IllegalArgumentException(name + " must be in [0, 1000], got " + value);
        }
    }
}
