package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.OpenSession;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The proxy's limits, in front of an "upstream" that accepts connections and never answers, so
 * every forwarded request stays in flight for the upstream deadline: one request over the
 * per-connection limit and one over the total are answered UNAVAILABLE with a message naming the
 * limit, while the same connection still gets answers to what is within the limits; a request over
 * the size limit is answered INVALID_ARGUMENT; a connection over the connection limit is refused.
 * No cluster is needed.
 */
class ProxyLimitsTest {
    private static final String CLUSTER_ID = "limits-test";
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);

    @Test
    void breachesAreAnsweredClearlyAndNothingElseIsAffected() throws Exception {
        ProxyConfig limits = ProxyConfig.defaults().withMaxInFlight(2, 3).withMaxRequestBytes(1024).withMaxConnections(2)
                .withUpstreamClients(1);
        AtomicBoolean running = new AtomicBoolean(true);
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread accepter = Thread.ofVirtual().start(() -> holdConnections(silent, running));
            KvClientConfig upstream = KvClientConfig.of(List.of(new InetSocketAddress("127.0.0.1", silent.getLocalPort())),
                    CLUSTER_ID).withDeadline(Duration.ofSeconds(8), Duration.ofSeconds(2));
            try (KvProxy proxy = KvProxy.start(new InetSocketAddress("127.0.0.1", 0), upstream, limits);
                    RpcClient first = oneConnection();
                    RpcClient second = oneConnection();
                    RpcClient third = oneConnection()) {
                InetSocketAddress at = new InetSocketAddress("127.0.0.1", proxy.port());
                // Calls made while a connection opens may go out in any order: open both first. Then one
                // connection's requests are read in order, and the third arrives after the first two are admitted.
                assertEquals(Status.OK, first.call(at, NodeMethods.KV, openSession(), CALL_TIMEOUT).get().getStatus());
                assertEquals(Status.OK, second.call(at, NodeMethods.KV, openSession(), CALL_TIMEOUT).get().getStatus());
                CompletableFuture<KvReply> stuck1 = first.call(at, NodeMethods.KV, get("a"), CALL_TIMEOUT);
                CompletableFuture<KvReply> stuck2 = first.call(at, NodeMethods.KV, get("b"), CALL_TIMEOUT);
                KvReply perConnection = first.call(at, NodeMethods.KV, get("c"), CALL_TIMEOUT).get();
                assertEquals(Status.UNAVAILABLE, perConnection.getStatus());
                assertTrue(perConnection.getMessage().contains("per connection"), perConnection.getMessage());

                CompletableFuture<KvReply> stuck3 = second.call(at, NodeMethods.KV, get("d"), CALL_TIMEOUT);
                KvReply total = second.call(at, NodeMethods.KV, get("e"), CALL_TIMEOUT).get();
                assertEquals(Status.UNAVAILABLE, total.getStatus());
                assertTrue(total.getMessage().contains("over all connections"), total.getMessage());
                assertEquals(3, proxy.requestsInFlight());

                KvReply opened = first.call(at, NodeMethods.KV, openSession(), CALL_TIMEOUT).get();
                assertEquals(Status.OK, opened.getStatus(), "a full connection still gets what needs no upstream");
                KvReply large = second.call(at, NodeMethods.KV, KvRequest.newBuilder().setPut(Put.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k")).setValue(ByteString.copyFrom(new byte[2000]))).build(), CALL_TIMEOUT).get();
                assertEquals(Status.INVALID_ARGUMENT, large.getStatus());
                assertTrue(large.getMessage().contains("maxRequestBytes 1024"), large.getMessage());

                ExecutionException refused = assertThrows(ExecutionException.class,
                        () -> third.call(at, NodeMethods.KV, get("f"), CALL_TIMEOUT).get());
                assertTrue(refused.getCause().getMessage().contains("2 connections"), refused.getCause().getMessage());

                KvReply gaveUp = stuck1.get();
                assertEquals(Status.UNAVAILABLE, gaveUp.getStatus(), "the upstream never answered: " + gaveUp.getMessage());
                assertTrue(gaveUp.getMessage().startsWith("proxy: "), gaveUp.getMessage());
                assertFalse(stuck2.get().getMessage().isEmpty());
                assertEquals(Status.UNAVAILABLE, stuck3.get().getStatus());
                assertEquals(0, proxy.requestsInFlight(), "every place given back");
            } finally {
                running.set(false);
                silent.close();
                accepter.join(Duration.ofSeconds(5));
            }
        }
    }

    private static RpcClient oneConnection() {
        return new RpcClient(RpcClientConfig.client(CLUSTER_ID).withConnectionsPerEndpoint(1));
    }

    private static KvRequest openSession() {
        return KvRequest.newBuilder().setOpenSession(OpenSession.getDefaultInstance()).build();
    }

    private static KvRequest get(String key) {
        return KvRequest.newBuilder().setGet(Get.newBuilder().setKey(ByteString.copyFromUtf8(key))).build();
    }

    /** Accepts connections and never reads or writes them, until stopped. */
    private static void holdConnections(ServerSocket server, AtomicBoolean running) {
        List<Socket> held = new java.util.ArrayList<>();
        try {
            while (running.get()) {
                held.add(server.accept());
            }
        } catch (java.io.IOException e) {
            // closed: the test is over
        } finally {
            for (Socket socket : held) {
                try {
                    socket.close();
                } catch (java.io.IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
