package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.proto.Hello;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The server tells its handshake listener of every accepted handshake, with the role and node id
 * presented (a store resets its backoff towards a peer that connects to it), and of no refused one.
 */
class HandshakeListenerTest {
    @Test
    void listenerHearsEveryAcceptedHandshakeAndNoRefusedOne() throws Exception {
        List<CallContext> heard = new CopyOnWriteArrayList<>();
        try (RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(TestRpc.CLUSTER).withNodeId(1),
                EchoService.register(RpcHandlers.builder()).onHandshake(heard::add).build())) {
            try (RpcClient peer = new RpcClient(RpcClientConfig.peer(TestRpc.CLUSTER, 7))) {
                TestRpc.assertEcho(peer.endpoint(TestRpc.address(server)), "from a peer");
            }
            TestRpc.waitFor("the peer's handshake is heard", () -> heard.size() == 1);
            assertTrue(heard.get(0).isPeer());
            assertEquals(7, heard.get(0).peerNodeId());
            try (RpcClient client = new RpcClient(RpcClientConfig.client(TestRpc.CLUSTER))) {
                TestRpc.assertEcho(client.endpoint(TestRpc.address(server)), "from a client");
            }
            TestRpc.waitFor("the client's handshake is heard", () -> heard.size() == 2);
            assertEquals(Hello.Role.ROLE_CLIENT, heard.get(1).role());
            assertFalse(heard.get(1).isPeer());
            try (RpcClient stranger = new RpcClient(RpcClientConfig.peer("another-cluster", 8))) {
                RpcException refused = TestRpc.failure(stranger.endpoint(TestRpc.address(server))
                        .call(EchoService.ECHO, TestRpc.echoRequest("x"), TestRpc.WAIT));
                assertTrue(refused.getMessage().contains("another-cluster"), refused.getMessage());
            }
            assertEquals(2, heard.size(), "a refused handshake reached the listener: " + heard);
        }
    }
}
