package io.loomkv.tools.chaos;

/**
 * What the proxy does to the frames of one directed peer link (node {@code from} to node
 * {@code to}): nothing, drop every frame (a partition, one direction), drop some, or hold them
 * back for a random time (order within a connection is kept, as TCP would).
 *
 * @param blocked every frame after the handshake is dropped
 * @param dropProbability chance that one frame is dropped, 0..1
 * @param delayMaxMillis each frame is held back a uniform 0..delayMaxMillis
 */
record LinkFaults(boolean blocked, double dropProbability, int delayMaxMillis) {
    static final LinkFaults NONE = new LinkFaults(false, 0, 0);
    static final LinkFaults BLOCKED = new LinkFaults(true, 0, 0);

    LinkFaults {
        if (dropProbability < 0 || dropProbability > 1) {
            throw new IllegalArgumentException("dropProbability must be in 0..1, got " + dropProbability);
        }
        if (delayMaxMillis < 0 || delayMaxMillis > 60_000) {
            throw new IllegalArgumentException("delayMaxMillis must be in 0..60000, got " + delayMaxMillis);
        }
    }

    boolean isNone() {
        return !blocked && dropProbability == 0 && delayMaxMillis == 0;
    }
}
