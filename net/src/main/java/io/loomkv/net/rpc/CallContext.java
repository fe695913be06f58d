package io.loomkv.net.rpc;

import io.loomkv.net.proto.Hello;
import java.net.SocketAddress;

/**
 * Who is calling: the role and node id the connection presented in its handshake, and its
 * address. One instance per connection.
 */
public record CallContext(Hello.Role role, long peerNodeId, SocketAddress remoteAddress) {
    public boolean isPeer() {
        return role == Hello.Role.ROLE_PEER;
    }
}
