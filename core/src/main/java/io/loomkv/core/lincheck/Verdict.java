package io.loomkv.core.lincheck;

/** The outcome of a linearizability check. */
public enum Verdict {
    /** Some real-time-respecting order of the history is a legal sequential run of the model. */
    OK,
    /** No such order exists: the history proves a linearizability violation. */
    ILLEGAL,
    /** The search ran out of its step budget before deciding. Not a pass. */
    UNKNOWN
}
