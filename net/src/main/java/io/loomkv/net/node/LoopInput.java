package io.loomkv.net.node;

import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.raft.RaftNode;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** What other threads hand to the Raft loop through its bounded MPSC queue. */
sealed interface LoopInput {
    /** A validated write to propose; {@code reply} completes when it is applied (or is lost). */
    record Propose(Command command, CompletableFuture<KvReply> reply) implements LoopInput {
    }

    /** A read (get, multi-get, scan) at the request's consistency. */
    record Read(KvRequest request, CompletableFuture<KvReply> reply) implements LoopInput {
    }

    /** Anything else that must run on the loop thread with the node (status, membership, compaction). */
    record Control(Consumer<RaftNode> action) implements LoopInput {
    }
}
