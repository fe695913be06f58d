package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * A method that takes a message and sends nothing back (ONE_WAY frames), such as Raft messages,
 * whose answers travel as messages of their own.
 */
public record OneWayMethod<Req extends MessageLite>(
        int serviceId, int methodIndex, String name, Parser<Req> requestParser, MethodAccess access) {
    public OneWayMethod {
        MethodIds.of(serviceId, methodIndex);
        if (name == null || name.isBlank() || requestParser == null || access == null) {
            throw new IllegalArgumentException("method " + name + ": name, parser and access are required");
        }
    }

    /** The id on the wire. */
    public int id() {
        return MethodIds.of(serviceId, methodIndex);
    }
}
