package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import java.util.concurrent.CompletionStage;

/**
 * Serves one request/response method. It runs on the connection's reader thread and must not
 * block for long: work that waits (a Raft commit, a disk write) returns an incomplete stage and
 * completes it later from any thread, so one connection can carry many requests in flight.
 * Completing exceptionally with an {@link RpcException} sends its code; any other exception is
 * sent as {@code CODE_INTERNAL}.
 */
@FunctionalInterface
public interface RequestHandler<Req extends MessageLite, Resp extends MessageLite> {
    CompletionStage<Resp> handle(Req request, CallContext context);
}
