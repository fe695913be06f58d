package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import io.loomkv.net.frame.FrameType;

/**
 * A frame waiting in a connection's send queue. {@code answersRequest} marks a server RESPONSE,
 * which gives back one in-flight permit once it has been written.
 */
record OutboundFrame(FrameType type, int flags, long requestId, int methodId, MessageLite body,
        boolean answersRequest) {
}
