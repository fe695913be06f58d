package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * A request/response method: one REQUEST frame answered by one RESPONSE frame with the same
 * request id. Both sides share the same constant, typically a {@code static final} in the service.
 */
public record RpcMethod<Req extends MessageLite, Resp extends MessageLite>(
        int serviceId, int methodIndex, String name, Parser<Req> requestParser, Parser<Resp> responseParser,
        MethodAccess access) {
    public RpcMethod {
        MethodIds.of(serviceId, methodIndex);
        if (name == null || name.isBlank() || requestParser == null || responseParser == null || access == null) {
            throw new IllegalArgumentException("method " + name + ": name, parsers and access are required");
        }
    }

    /** The id on the wire. */
    public int id() {
        return MethodIds.of(serviceId, methodIndex);
    }
}
