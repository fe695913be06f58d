package io.loomkv.net.node;

import io.loomkv.core.kv.proto.KvReply;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.util.concurrent.CompletableFuture;

/**
 * The future a KV request's reply completes, which also records the request's latency into its
 * operation's histogram when it completes (whoever completes it: the apply stage, a read, the
 * deadline sweeper or a refusal). Being the reply future itself, it costs no allocation beyond
 * the one the request needed anyway, and no callback.
 */
final class TimedReply extends CompletableFuture<KvReply> {
    private final DistributionDataPoint latencySeconds;
    private final long startNanos;

    TimedReply(DistributionDataPoint latencySeconds, long startNanos) {
        this.latencySeconds = latencySeconds;
        this.startNanos = startNanos;
    }

    @Override
    public boolean complete(KvReply reply) {
        if (!super.complete(reply)) {
            return false;
        }
        latencySeconds.observe((System.nanoTime() - startNanos) / 1e9);
        return true;
    }

    @Override
    public boolean completeExceptionally(Throwable failure) {
        if (!super.completeExceptionally(failure)) {
            return false;
        }
        latencySeconds.observe((System.nanoTime() - startNanos) / 1e9);
        return true;
    }

    /** The future for a new, different stage (CompletableFuture's chaining): a plain one, so only the request is timed. */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>();
    }
}
