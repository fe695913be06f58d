package io.loomkv.net.proxy;

import io.loomkv.core.kv.KvCommands;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSessionResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.proto.ErrorReply;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.rpc.RpcException;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import io.loomkv.net.store.proto.StoreReportsReply;
import io.loomkv.net.store.proto.StoreReportsRequest;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The methods a proxy serves on its client port, the same a store serves to clients: KV requests
 * (checked against the limits, OpenSession and the session table answered here, the rest
 * forwarded), the virtual layout and status, and clear refusals of administration, which belongs
 * on the stores. Runs on connection reader threads, which must not wait: forwarding is handed to a
 * virtual thread, since it may wait for a connection to a store to open or for a free write slot
 * of an upstream session (a reader that waited there would stall every request behind it).
 */
final class ProxyService {
    static final String ADMIN_REFUSAL = "loomkv proxy: membership and leadership are changed on the stores, not through"
            + " a proxy; point ctl at the cluster (--cluster FOLDER|STORE_ADDRESSES)";

    private final ProxyConfig config;
    private final UpstreamClients upstream;
    private final ProxySessions sessions;
    private final InFlightLimits limits;
    private final Executor forwardThreads;
    /** Until the proxy knows its bound address, a layout that names none (a client then uses the address it was given). */
    private volatile VirtualLayout layout = new VirtualLayout(null);

    ProxyService(ProxyConfig config, UpstreamClients upstream, Executor forwardThreads) {
        this.config = config;
        this.upstream = upstream;
        this.forwardThreads = forwardThreads;
        this.sessions = new ProxySessions(config);
        this.limits = new InFlightLimits(config.maxInFlightPerConnection(), config.maxInFlightTotal());
    }

    /** Callers are told to reach the proxy at {@code address} (null: at the address they were given). */
    void advertise(InetSocketAddress address) {
        layout = new VirtualLayout(address);
    }

    RpcHandlers build() {
        return RpcHandlers.builder()
                .add(NodeMethods.KV, this::execute)
                .add(NodeMethods.STATUS, this::status)
                .add(NodeMethods.LAYOUT, this::layout)
                .add(NodeMethods.STORE_REPORTS, this::storeReports)
                .add(NodeMethods.MEMBER_CHANGE, (MemberChangeRequest request, CallContext context) -> refuseAdmin())
                .add(NodeMethods.TRANSFER_LEADER, (TransferLeaderRequest request, CallContext context) -> refuseAdmin())
                .build();
    }

    CompletionStage<KvReply> execute(KvRequest request, CallContext context) {
        String refusal = check(request);
        if (refusal != null) {
            return done(KvReplies.invalidArgument(refusal));
        }
        if (request.getOpCase() == KvRequest.OpCase.OPEN_SESSION) {
            return done(KvReply.newBuilder().setStatus(Status.OK).setGroupId(VirtualLayout.GROUP_ID)
                    .setOpenSession(OpenSessionResult.newBuilder().setClientId(sessions.open())).build());
        }
        String overload = limits.tryAcquire(context);
        if (overload != null) {
            return done(KvReplies.error(Status.UNAVAILABLE, "proxy: " + overload));
        }
        CompletableFuture<KvReply> reply;
        try {
            reply = KvCommands.isWrite(request) ? write(request) : offload(upstream.forRead(), request);
        } catch (RuntimeException e) {
            reply = CompletableFuture.completedFuture(UpstreamReplies.fromFailure(e));
        }
        return reply.handle((answer, failure) -> {
            limits.release(context);
            return failure == null ? answer : UpstreamReplies.fromFailure(failure);
        });
    }

    private CompletableFuture<KvReply> write(KvRequest request) {
        long clientId = request.getClientId();
        return sessions.write(clientId, request.getSequence(), request.getAcknowledgedBelow(),
                () -> offload(upstream.forSession(clientId), request));
    }

    private CompletableFuture<KvReply> offload(KvClient client, KvRequest request) {
        return CompletableFuture.supplyAsync(() -> ProxyForwarder.forward(client, request), forwardThreads)
                .thenCompose(Function.identity());
    }

    /** Why the proxy refuses {@code request} before doing anything, or null. */
    private String check(KvRequest request) {
        int sizeBytes = request.getSerializedSize();
        if (sizeBytes > config.maxRequestBytes()) {
            return "request of " + sizeBytes + " bytes exceeds the proxy's maxRequestBytes " + config.maxRequestBytes();
        }
        if (request.getGroupId() != 0 && request.getGroupId() != VirtualLayout.GROUP_ID) {
            return "group_id " + request.getGroupId() + " means nothing at a proxy: its clients see one group ("
                    + VirtualLayout.GROUP_ID + "); send 0 and the proxy routes by key";
        }
        if (request.getOpCase() == KvRequest.OpCase.MIGRATION_READ || request.getOpCase() == KvRequest.OpCase.MIGRATION_WRITE) {
            return "slot migration requests come from the stores, on the peer port; a proxy does not forward them";
        }
        if (request.getOpCase() == KvRequest.OpCase.OPEN_SESSION || !KvCommands.isWrite(request)) {
            return null;
        }
        if (request.getClientId() <= 0 || request.getSequence() <= 0 || request.getAcknowledgedBelow() <= 0) {
            return "a write needs client_id (from an OpenSession sent to this proxy), sequence and acknowledged_below, all"
                    + " positive and below 2^63; got " + Long.toUnsignedString(request.getClientId()) + ", "
                    + Long.toUnsignedString(request.getSequence()) + ", " + Long.toUnsignedString(request.getAcknowledgedBelow());
        }
        if (request.getAcknowledgedBelow() > request.getSequence()) {
            return "acknowledged_below " + request.getAcknowledgedBelow() + " is above the write's own sequence "
                    + request.getSequence();
        }
        return null;
    }

    private CompletionStage<NodeStatusReply> status(NodeStatusRequest request, CallContext context) {
        return done(layout.statusReply());
    }

    private CompletionStage<LayoutReply> layout(LayoutRequest request, CallContext context) {
        return done(layout.layoutReply());
    }

    private CompletionStage<StoreReportsReply> storeReports(StoreReportsRequest request, CallContext context) {
        return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_BAD_REQUEST,
                "loomkv proxy: store reports come from the shard controller's leader; ask the stores (ctl --cluster ...)"));
    }

    private static CompletionStage<AdminReply> refuseAdmin() {
        return done(AdminReply.newBuilder().setOk(false).setMessage(ADMIN_REFUSAL).build());
    }

    /** Requests in flight now (for tests and logs). */
    int requestsInFlight() {
        return limits.total();
    }

    /** Client sessions kept now. */
    int sessions() {
        return sessions.size();
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
