package io.loomkv.core.raft;

import io.loomkv.core.raft.proto.Message;
import java.util.List;

/**
 * Output of a node that needs no local durability, so a runtime may act on it while a Ready's
 * persist is still in flight (see {@link RaftNode#takeEarlyOutput()}).
 *
 * @param messages to send now: a leader's appends and heartbeats, heartbeat responses, forwarded
 *     requests (never append or vote responses, which wait for durability)
 * @param readStates ReadIndex reads confirmed by a quorum, to serve once applied covers them
 */
public record EarlyOutput(List<Message> messages, List<ReadState> readStates) {
    public EarlyOutput {
        messages = List.copyOf(messages);
        readStates = List.copyOf(readStates);
    }

    public boolean isEmpty() {
        return messages.isEmpty() && readStates.isEmpty();
    }
}
