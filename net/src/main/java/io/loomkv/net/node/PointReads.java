package io.loomkv.net.node;

import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-key GETs answered on the thread that decides they may be answered, instead of being
 * queued for the apply stage: a stale read on the connection's reader, a confirmed ReadIndex or
 * lease read on the replica's turn once the applied index covers it. Each thread handoff costs tens of
 * microseconds on a virtualised host (a parked platform thread is woken through the kernel), and
 * a read that waited for the apply thread paid one more of them for a lookup of about a
 * microsecond. Multi-key reads still go to the apply thread, which gives them one point in time.
 */
final class PointReads {
    private static final Logger LOG = LoggerFactory.getLogger(PointReads.class);

    private final String name;
    private final KvStateMachine stateMachine;
    private final ReplicaState state;

    PointReads(String name, KvStateMachine stateMachine, ReplicaState state) {
        this.name = name;
        this.stateMachine = stateMachine;
        this.state = state;
    }

    static boolean isPointRead(KvRequest request) {
        return request.getOpCase() == KvRequest.OpCase.GET;
    }

    /** Whether a read at {@code readIndex} may be answered now: the published applied index covers it. */
    boolean applied(long readIndex) {
        return state.appliedIndex() >= readIndex;
    }

    /** Answers a validated single-key GET now; an engine failure becomes an INTERNAL reply, never a thrown exception. */
    KvReply read(KvRequest request) {
        try {
            return stateMachine.getConcurrently(request, System.currentTimeMillis());
        } catch (RuntimeException e) {
            LOG.warn("{}: read failed", name, e);
            return KvReplies.error(Status.INTERNAL, "read failed: " + e);
        }
    }
}
