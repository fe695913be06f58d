package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.HardState;
import java.util.Objects;

/** What a node reads from storage when it starts: its last hard state and membership. */
public record InitialState(HardState hardState, ConfState confState) {
    public InitialState {
        Objects.requireNonNull(hardState, "hardState");
        Objects.requireNonNull(confState, "confState");
    }
}
