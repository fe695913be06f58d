package io.loomkv.net.rpc;

import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import java.util.concurrent.CompletableFuture;

/** The transport's own echo method (service 0): health checks, tests and the rpc bench. */
public final class EchoService {
    public static final int SERVICE_ID = 0;

    public static final RpcMethod<EchoRequest, EchoReply> ECHO = new RpcMethod<>(
            SERVICE_ID, 1, "loomkv.rpc.Echo", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);

    private EchoService() {
    }

    /** Answers with the request's payload, at once. */
    public static RequestHandler<EchoRequest, EchoReply> handler() {
        return (request, context) -> CompletableFuture.completedFuture(
                EchoReply.newBuilder().setPayload(request.getPayload()).build());
    }

    /** Registers {@link #ECHO} with {@link #handler()}. */
    public static RpcHandlers.Builder register(RpcHandlers.Builder builder) {
        return builder.add(ECHO, handler());
    }
}
