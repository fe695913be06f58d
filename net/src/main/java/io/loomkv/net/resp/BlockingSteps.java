package io.loomkv.net.resp;

import io.loomkv.net.log.LogContext;
import java.util.concurrent.Executor;

/**
 * Where a command's later steps run: each on a fresh virtual thread. A step that starts a write may
 * block in the client until its group has a free session slot ({@code KvClientConfig.maxWritesInFlight}),
 * and without this it would run on the thread that completed the step before it, which can be the
 * RPC reader whose next reply is the one that frees the slot: a stall until the deadline.
 */
final class BlockingSteps {
    static final Executor EXECUTOR = task -> Thread.ofVirtual().name("resp-step").start(LogContext.inheritNode(task));

    private BlockingSteps() {}
}
