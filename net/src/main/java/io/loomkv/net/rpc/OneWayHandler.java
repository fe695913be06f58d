package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;

/**
 * Receives one-way messages. It runs on the connection's reader thread, so it should hand the
 * message off (e.g. to a bounded inbox) rather than block. An exception is logged and the message
 * dropped; the connection stays open.
 */
@FunctionalInterface
public interface OneWayHandler<Req extends MessageLite> {
    void handle(Req message, CallContext context);
}
