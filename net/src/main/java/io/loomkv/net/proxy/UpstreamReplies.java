package io.loomkv.net.proxy;

import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClientException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What the proxy answers for an outcome of its upstream client. A caller of the proxy sees one
 * store leading one group (see {@link VirtualLayout}), so a redirect from a real store must never
 * reach it: the upstream client follows {@code NOT_LEADER} and {@code WRONG_GROUP} itself, and
 * when it runs out of time its failure comes back as {@code TIMEOUT} (a write's outcome unknown)
 * or {@code UNAVAILABLE}, with the last problem it saw in the message.
 */
final class UpstreamReplies {
    private UpstreamReplies() {
    }

    /** The reply for a failed upstream call. */
    static KvReply fromFailure(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof KvClientException k) {
            return KvReplies.error(callerStatus(k.status()), "proxy: " + k.getMessage());
        }
        return KvReplies.error(Status.INTERNAL, "proxy: " + cause);
    }

    /** A reply of the upstream client as the caller may see it. */
    static KvReply fromReply(KvReply reply) {
        Status status = callerStatus(reply.getStatus());
        if (status == reply.getStatus()) {
            return reply;
        }
        return KvReplies.error(status, "proxy: upstream answered " + reply.getStatus() + ": " + reply.getMessage());
    }

    private static Status callerStatus(Status upstream) {
        return switch (upstream) {
            // Redirects name real stores and groups, which mean nothing in the caller's view of one group.
            case NOT_LEADER, WRONG_GROUP -> Status.UNAVAILABLE;
            case STATUS_UNSPECIFIED, UNRECOGNIZED -> Status.INTERNAL;
            default -> upstream;
        };
    }
}
