package io.loomkv.net.proxy;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiPutResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClient;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one caller request on through a slot-aware {@link KvClient}, which does all the routing:
 * a single-key request goes to its key's group, a multi-get, multi-put or scan is split over the
 * groups and merged by the client's own code (multi-get in request order, scan in key order). The
 * caller's group id and session fields are dropped: the first means the proxy's one virtual
 * group, the second the proxy's sessions, which {@link ProxySessions} has already dealt with.
 */
final class ProxyForwarder {
    private ProxyForwarder() {
    }

    /** The reply to {@code request} (an operation other than OpenSession); never fails, errors become replies. */
    static CompletableFuture<KvReply> forward(KvClient client, KvRequest request) {
        CompletableFuture<KvReply> call;
        try {
            call = start(client, request);
        } catch (RuntimeException e) {
            call = CompletableFuture.failedFuture(e);
        }
        return call.handle((reply, failure) -> failure != null ? UpstreamReplies.fromFailure(failure)
                : UpstreamReplies.fromReply(reply));
    }

    private static CompletableFuture<KvReply> start(KvClient client, KvRequest request) {
        KvRequest plain = request.toBuilder().clearGroupId().clearClientId().clearSequence().clearAcknowledgedBelow().build();
        return switch (plain.getOpCase()) {
            case GET, PUT, APPEND, DELETE, COMPARE_AND_SET, EXPIRE, CONTROLLER -> client.executeAsync(plain);
            case MULTI_GET -> client.multiGetAsync(plain.getMultiGet().getKeysList(), plain.getConsistency())
                    .thenApply(result -> ok().setMultiGet(result).build());
            case MULTI_PUT -> multiPut(client, plain);
            case SCAN -> client.scanAsync(plain.getScan(), plain.getConsistency()).thenApply(page -> ok().setScan(page).build());
            case OPEN_SESSION -> throw new IllegalStateException("OpenSession is answered by the proxy's sessions, not forwarded");
            case MIGRATION_READ, MIGRATION_WRITE -> CompletableFuture.completedFuture(KvReplies.invalidArgument(
                    "slot migration requests come from the stores, on the peer port; a proxy does not forward them"));
            case OP_NOT_SET -> CompletableFuture.completedFuture(KvReplies.invalidArgument("request has no operation"));
        };
    }

    /**
     * A multi-put, one request per group: atomic within each group only. Keys must be distinct, as
     * a store demands; the proxy checks it first because the split goes through a map, which would
     * silently keep only the last value of a repeated key.
     */
    private static CompletableFuture<KvReply> multiPut(KvClient client, KvRequest request) {
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        for (KeyValue entry : request.getMultiPut().getEntriesList()) {
            if (entries.putIfAbsent(entry.getKey(), entry.getValue()) != null) {
                return CompletableFuture.completedFuture(KvReplies.invalidArgument("multi_put lists key '"
                        + entry.getKey().toStringUtf8() + "' twice; keys must be distinct"));
            }
        }
        int written = entries.size();
        return client.multiPutAsync(entries).thenApply(done -> ok().setMultiPut(MultiPutResult.newBuilder().setWritten(written))
                .build());
    }

    private static KvReply.Builder ok() {
        return KvReply.newBuilder().setStatus(Status.OK);
    }
}
