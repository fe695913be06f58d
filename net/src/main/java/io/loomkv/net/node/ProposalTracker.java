package io.loomkv.net.node;

import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Requests waiting for their log entry: the Raft loop registers a batch under the index and term
 * its entry got; the apply thread completes it when that index is applied. If another entry (of
 * another term) ends up at that index, the batch was lost in a leader change: its requests get
 * TIMEOUT ("outcome unknown"), and clients retry with the same sequence, which the session table
 * deduplicates.
 */
final class ProposalTracker {
    private record Pending(long term, List<CompletableFuture<KvReply>> replies) {
    }

    private final ConcurrentSkipListMap<Long, Pending> byIndex = new ConcurrentSkipListMap<>();
    /** Counts the entries whose requests got "outcome unknown". */
    private final CounterDataPoint failedProposals;

    ProposalTracker(CounterDataPoint failedProposals) {
        this.failedProposals = failedProposals;
    }

    /** Called by the loop right after proposing. */
    void register(long index, long term, List<CompletableFuture<KvReply>> replies) {
        Pending previous = byIndex.put(index, new Pending(term, List.copyOf(replies)));
        if (previous != null) {
            fail(previous, "the entry at index " + index + " was replaced after a leader change");
        }
    }

    /** Called by the apply thread when the entry at {@code index} of {@code term} was applied. */
    void applied(long index, long term, List<KvReply> replies) {
        Pending pending = byIndex.remove(index);
        if (pending == null) {
            return;
        }
        if (pending.term() != term) {
            fail(pending, "the proposal at index " + index + " was lost in a leader change");
            return;
        }
        if (pending.replies().size() != replies.size()) {
            KvReply internal = KvReplies.error(Status.INTERNAL, "entry " + index + " produced " + replies.size()
                    + " replies for " + pending.replies().size() + " commands");
            pending.replies().forEach(f -> f.complete(internal));
            return;
        }
        for (int i = 0; i < replies.size(); i++) {
            pending.replies().get(i).complete(replies.get(i));
        }
    }

    /** Everything at or below {@code index} was superseded (a snapshot was installed over it). */
    void failUpTo(long index) {
        ConcurrentNavigableMap<Long, Pending> head = byIndex.headMap(index, true);
        for (Map.Entry<Long, Pending> e : head.entrySet()) {
            if (head.remove(e.getKey(), e.getValue())) {
                fail(e.getValue(), "index " + e.getKey() + " was covered by a snapshot from the leader");
            }
        }
    }

    /** Fails everything (shutdown). */
    void failAll(String why) {
        failUpTo(Long.MAX_VALUE);
        byIndex.values().forEach(p -> fail(p, why));
        byIndex.clear();
    }

    int size() {
        return byIndex.size();
    }

    private void fail(Pending pending, String why) {
        failedProposals.inc();
        KvReply unknown = KvReplies.error(Status.TIMEOUT, "outcome unknown: " + why + "; retry with the same sequence");
        pending.replies().forEach(f -> f.complete(unknown));
    }
}
