package io.loomkv.core.raft.sim;

/**
 * Unwinds the call chain of a store that an armed {@link CrashPoint} just crashed, from inside one
 * of its replicas' I/O calls up to the simulator event that started the chain (the driver lets it
 * through: it is not a refused message, and a failed write propagates). The store is already down
 * when this is thrown; whoever catches it does nothing more with the store.
 */
final class SimCrash extends RuntimeException {
    SimCrash(int storeId, CrashPoint point) {
        super("store " + storeId + " crashed at " + point, null, false, false);
    }
}
