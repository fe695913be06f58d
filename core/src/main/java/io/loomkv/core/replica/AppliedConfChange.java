package io.loomkv.core.replica;

import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;

/**
 * A committed membership change as the driver applied it to the Raft node when handing its entry
 * on: the change, and the membership after it; or, when the core refused it, null and the reason
 * (every replica refuses the same change the same way, since each checks it against the same
 * membership). {@code term} is the entry's: a removed store is told which entry removed it.
 */
public record AppliedConfChange(long index, long term, ConfChange change, ConfState after, String refusal) {
    public AppliedConfChange {
        if ((after == null) == (refusal == null)) {
            throw new IllegalArgumentException("conf change at " + index + " needs exactly one of a membership and a refusal");
        }
    }

    public boolean refused() {
        return after == null;
    }
}
