package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.WAIT;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.assertEcho;
import static io.loomkv.net.rpc.TestRpc.await;
import static io.loomkv.net.rpc.TestRpc.echoRequest;
import static io.loomkv.net.rpc.TestRpc.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import io.loomkv.net.proto.ErrorReply;
import io.loomkv.net.proto.Hello;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RpcServerClientTest {
    /** A second service for the tests: an async echo, a failing method, a peer-only method, one-ways. */
    static final RpcMethod<EchoRequest, EchoReply> ASYNC_ECHO = new RpcMethod<>(
            7, 1, "test.AsyncEcho", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);
    static final RpcMethod<EchoRequest, EchoReply> FAILING = new RpcMethod<>(
            7, 2, "test.Failing", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);
    static final RpcMethod<EchoRequest, EchoReply> PEER_ECHO = new RpcMethod<>(
            7, 3, "test.PeerEcho", EchoRequest.parser(), EchoReply.parser(), MethodAccess.PEER_ONLY);
    static final OneWayMethod<EchoRequest> NOTE = new OneWayMethod<>(
            7, 4, "test.Note", EchoRequest.parser(), MethodAccess.ANY);
    static final OneWayMethod<EchoRequest> PEER_NOTE = new OneWayMethod<>(
            7, 5, "test.PeerNote", EchoRequest.parser(), MethodAccess.PEER_ONLY);
    static final RpcMethod<EchoRequest, EchoReply> UNREGISTERED = new RpcMethod<>(
            7, 99, "test.Unregistered", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final BlockingQueue<String> notes = new LinkedBlockingQueue<>();
    private final BlockingQueue<CallContext> noteContexts = new LinkedBlockingQueue<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(closeables);
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private RpcServer server(RpcServerConfig config) throws Exception {
        RpcHandlers handlers = EchoService.register(RpcHandlers.builder())
                .add(ASYNC_ECHO, (request, context) -> CompletableFuture.supplyAsync(
                        () -> EchoReply.newBuilder().setPayload(request.getPayload()).build()))
                .add(FAILING, (request, context) -> {
                    if (request.getPayload().toStringUtf8().equals("throw")) {
                        throw new IllegalStateException("handler blew up");
                    }
                    return CompletableFuture.failedFuture(
                            new RpcException(ErrorReply.Code.CODE_BAD_REQUEST, "no such key"));
                })
                .add(PEER_ECHO, (request, context) -> CompletableFuture.completedFuture(
                        EchoReply.newBuilder().setPayload(ByteString.copyFromUtf8("peer " + context.peerNodeId()))
                                .build()))
                .addOneWay(NOTE, (message, context) -> {
                    notes.add(message.getPayload().toStringUtf8());
                    noteContexts.add(context);
                })
                .addOneWay(PEER_NOTE, (message, context) -> notes.add("peer:" + message.getPayload().toStringUtf8()))
                .build();
        RpcServer server = TestRpc.startServer(config, handlers);
        closeables.add(server);
        return server;
    }

    private RpcServer server() throws Exception {
        return server(RpcServerConfig.defaults(CLUSTER));
    }

    private RpcEndpoint endpoint(RpcServer server, RpcClientConfig config) {
        RpcClient client = new RpcClient(config);
        closeables.add(client);
        return client.endpoint(address(server));
    }

    private RpcEndpoint clientEndpoint(RpcServer server) {
        return endpoint(server, RpcClientConfig.client(CLUSTER));
    }

    @Test
    void anAddressUnresolvedWhenGivenIsLookedUpWhenConnecting() throws Exception {
        // As a peer's DNS name that did not resolve yet when the config was loaded.
        RpcServer server = server();
        RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER));
        closeables.add(client);
        assertEcho(client.endpoint(InetSocketAddress.createUnresolved("localhost", server.port())), "resolved");
    }

    @Test
    void echoRoundTrip() throws Exception {
        RpcEndpoint endpoint = clientEndpoint(server());
        assertEcho(endpoint, "hello");
        assertEcho(endpoint, "");
    }

    @Test
    void manyRequestsInFlightOnOneConnectionAreMatchedById() throws Exception {
        RpcServer server = server();
        RpcEndpoint endpoint = endpoint(server,
                RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1).withMaxInFlightPerConnection(4096));
        // The async handler completes on other threads, so answers come back out of order.
        List<CompletableFuture<EchoReply>> calls = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            RpcMethod<EchoRequest, EchoReply> method = i % 2 == 0 ? ASYNC_ECHO : EchoService.ECHO;
            calls.add(endpoint.call(method, echoRequest("request " + i), WAIT));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertEquals("request " + i, await(calls.get(i)).getPayload().toStringUtf8());
        }
        assertEquals(1, endpoint.openConnections());
        assertEquals(1, server.openConnections());
    }

    @Test
    void errorsCarryTheirCodeAndTheConnectionStaysUsable() throws Exception {
        RpcEndpoint endpoint = clientEndpoint(server());
        RpcException badRequest = failure(endpoint.call(FAILING, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_BAD_REQUEST, badRequest.code());
        assertEquals("no such key", badRequest.detail(), "the detail travels once, without the code");

        RpcException internal = failure(endpoint.call(FAILING, echoRequest("throw"), WAIT));
        assertEquals(ErrorReply.Code.CODE_INTERNAL, internal.code());
        assertTrue(internal.getMessage().contains("handler blew up"), internal.getMessage());

        RpcException unknown = failure(endpoint.call(UNREGISTERED, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_UNKNOWN_METHOD, unknown.code());
        assertEcho(endpoint, "still fine");
    }

    @Test
    void peerOnlyMethodsAreRefusedOnClientConnectionsAndServedToPeers() throws Exception {
        RpcServer server = server();
        RpcException denied = failure(clientEndpoint(server).call(PEER_ECHO, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_PERMISSION_DENIED, denied.code());

        RpcEndpoint peer = endpoint(server, RpcClientConfig.peer(CLUSTER, 42));
        assertEquals("peer 42", await(peer.call(PEER_ECHO, echoRequest("x"), WAIT)).getPayload().toStringUtf8());
    }

    @Test
    void peerWithTheWrongClusterIdIsRefused() throws Exception {
        RpcServer server = server();
        RpcEndpoint intruder = endpoint(server, RpcClientConfig.peer("other-cluster", 9));
        RpcException refused = failure(intruder.call(PEER_ECHO, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_PERMISSION_DENIED, refused.code());
        assertTrue(refused.getMessage().contains("other-cluster"), refused.getMessage());
        // A client that names the wrong cluster is refused as well; one that names none is not.
        RpcException wrongClient = failure(endpoint(server, RpcClientConfig.client("other-cluster"))
                .call(EchoService.ECHO, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_PERMISSION_DENIED, wrongClient.code());
        assertEcho(endpoint(server, RpcClientConfig.client("")), "anonymous client");
    }

    @Test
    void oneWayMessagesArriveWithTheirContext() throws Exception {
        RpcServer server = server();
        RpcEndpoint peer = endpoint(server, RpcClientConfig.peer(CLUSTER, 3).withConnectionsPerEndpoint(1));
        await(peer.connectAll());
        assertTrue(peer.send(NOTE, echoRequest("one")));
        assertTrue(peer.send(PEER_NOTE, echoRequest("two")));
        assertEquals("one", notes.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals("peer:two", notes.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        CallContext context = noteContexts.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(Hello.Role.ROLE_PEER, context.role());
        assertEquals(3, context.peerNodeId());
    }

    @Test
    void oneWayMessagesKeepTheirOrderAcrossAPool() throws Exception {
        RpcServer server = server();
        RpcEndpoint peer = endpoint(server, RpcClientConfig.peer(CLUSTER, 3).withConnectionsPerEndpoint(3));
        await(peer.connectAll());
        for (int i = 0; i < 500; i++) {
            assertTrue(peer.send(NOTE, echoRequest("m" + i)));
        }
        for (int i = 0; i < 500; i++) {
            assertEquals("m" + i, notes.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void peerOnlyOneWayFromAClientClosesThatConnectionOnly() throws Exception {
        RpcServer server = server();
        RpcEndpoint client = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        RpcEndpoint other = clientEndpoint(server);
        await(client.connectAll());
        assertTrue(client.send(PEER_NOTE, echoRequest("injected")));
        TestRpc.waitFor("the client connection to be closed", () -> client.openConnections() == 0);
        assertEcho(other, "others carry on");
        assertEquals(null, notes.poll(100, TimeUnit.MILLISECONDS), "the injected message was not delivered");
    }

    @Test
    void largeBodiesTravelCompressedAndIntactByDefault() throws Exception {
        RpcServer server = server();
        AtomicLong received = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        server.observeTraffic(TrafficObserver.of(received::addAndGet, sent::addAndGet));
        RpcEndpoint endpoint = clientEndpoint(server);
        byte[] compressible = compressiblePayload();
        byte[] random = new byte[200_000];
        new Random(5).nextBytes(random);
        for (byte[] payload : List.of(compressible, random)) {
            EchoRequest request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
            EchoReply reply = await(endpoint.call(EchoService.ECHO, request, WAIT));
            assertEquals(ByteString.copyFrom(payload), reply.getPayload());
        }
        // The 1 MiB of 64 repeated bytes shrink to a few KB each way; the random 200 KB cannot shrink.
        assertTrue(received.get() < random.length + 100_000, "bytes received " + received.get());
        assertTrue(sent.get() < random.length + 100_000, "bytes sent " + sent.get());
    }

    @Test
    void bodiesTravelRawWhenCompressionIsOff() throws Exception {
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withCompressThresholdBytes(RpcServerConfig.COMPRESSION_OFF));
        AtomicLong received = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        server.observeTraffic(TrafficObserver.of(received::addAndGet, sent::addAndGet));
        byte[] compressible = compressiblePayload();
        EchoRequest request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(compressible)).build();
        RpcEndpoint rawClient = endpoint(server, RpcClientConfig.client(CLUSTER)
                .withCompressThresholdBytes(RpcServerConfig.COMPRESSION_OFF));
        assertEquals(ByteString.copyFrom(compressible), await(rawClient.call(EchoService.ECHO, request, WAIT)).getPayload());
        assertTrue(received.get() > compressible.length, "bytes received " + received.get());
        // The server counts a write once it returned; the client may have read the reply before that.
        TestRpc.waitFor("the reply's bytes to be counted", () -> sent.get() > compressible.length);
        // A sender with LZ4 on is still understood: compression is each sender's own choice.
        RpcEndpoint lz4Client = clientEndpoint(server);
        long receivedBefore = received.get();
        assertEquals(ByteString.copyFrom(compressible), await(lz4Client.call(EchoService.ECHO, request, WAIT)).getPayload());
        assertTrue(received.get() - receivedBefore < 100_000, "compressed request bytes " + (received.get() - receivedBefore));
    }

    private static byte[] compressiblePayload() {
        byte[] bytes = new byte[1024 * 1024];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i % 64);
        }
        return bytes;
    }

    @Test
    void requestAboveTheFrameLimitFailsLocallyWithTooLarge() throws Exception {
        RpcServer server = server();
        RpcEndpoint endpoint = endpoint(server, RpcClientConfig.client(CLUSTER).withMaxFrameSizeBytes(4096));
        EchoRequest big = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[5000])).build();
        assertEcho(endpoint, "connect first");
        RpcException e = failure(endpoint.call(EchoService.ECHO, big, WAIT));
        assertEquals(ErrorReply.Code.CODE_TOO_LARGE, e.code());
        assertEcho(endpoint, "connection unharmed");
    }

    @Test
    void responseAboveTheServersFrameLimitBecomesTooLarge() throws Exception {
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withMaxFrameSizeBytes(4096));
        RpcEndpoint endpoint = clientEndpoint(server);
        // Random bytes do not compress, and the server may not send what its own limit forbids.
        byte[] payload = new byte[3000];
        new Random(1).nextBytes(payload);
        EchoRequest request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
        assertEquals(ByteString.copyFrom(payload), await(endpoint.call(EchoService.ECHO, request, WAIT)).getPayload());
        RpcServer small = server(RpcServerConfig.defaults(CLUSTER).withMaxFrameSizeBytes(2048));
        RpcException e = failure(clientEndpoint(small).call(EchoService.ECHO, request, WAIT));
        // The request itself exceeds the small server's limit: it closes that connection.
        assertEquals(ErrorReply.Code.CODE_UNAVAILABLE, e.code());
    }

    @Test
    void connectionsBeyondTheLimitAreRefusedWithOverloaded() throws Exception {
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withMaxConnections(2));
        RpcEndpoint two = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(2));
        await(two.connectAll());
        RpcEndpoint third = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        RpcException refused = failure(third.call(EchoService.ECHO, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_OVERLOADED, refused.code());
        assertEcho(two, "the first two still work");
    }

    @Test
    void clientInFlightLimitFailsFastWithOverloaded() throws Exception {
        RpcHandlers handlers = RpcHandlers.builder()
                .add(ASYNC_ECHO, (request, context) -> new CompletableFuture<>()).build();
        RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers);
        closeables.add(server);
        RpcEndpoint endpoint = endpoint(server,
                RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1).withMaxInFlightPerConnection(3));
        await(endpoint.connectAll());
        for (int i = 0; i < 3; i++) {
            endpoint.call(ASYNC_ECHO, echoRequest("hang"), WAIT);
        }
        RpcException e = failure(endpoint.call(ASYNC_ECHO, echoRequest("one too many"), WAIT));
        assertEquals(ErrorReply.Code.CODE_OVERLOADED, e.code());
    }

    @Test
    void serverInFlightLimitAppliesBackPressureWithoutLosingRequests() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        RpcHandlers handlers = RpcHandlers.builder().add(ASYNC_ECHO, (request, context) -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            return CompletableFuture.supplyAsync(() -> {
                running.decrementAndGet();
                return EchoReply.newBuilder().setPayload(request.getPayload()).build();
            }, CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS));
        }).build();
        RpcServer server = TestRpc.startServer(
                RpcServerConfig.defaults(CLUSTER).withMaxInFlightPerConnection(4), handlers);
        closeables.add(server);
        RpcEndpoint endpoint = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        List<CompletableFuture<EchoReply>> calls = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            calls.add(endpoint.call(ASYNC_ECHO, echoRequest("r" + i), WAIT));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertEquals("r" + i, await(calls.get(i)).getPayload().toStringUtf8());
        }
        assertTrue(maxRunning.get() <= 4, "the server ran " + maxRunning.get() + " calls at once, limit 4");
        assertTrue(maxRunning.get() >= 2, "pipelining reached the server: max " + maxRunning.get());
    }

    @Test
    void serverInFlightLimitWithSynchronousHandlersDoesNotStall() throws Exception {
        // The reader queues answers without waking the writer while it works through a batch; at
        // the in-flight limit it must wake the writer before it waits for permits.
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withMaxInFlightPerConnection(2));
        RpcEndpoint endpoint = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        List<CompletableFuture<EchoReply>> calls = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            calls.add(endpoint.call(EchoService.ECHO, echoRequest("s" + i), WAIT));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertEquals("s" + i, await(calls.get(i)).getPayload().toStringUtf8());
        }
    }

    @Test
    void poolSpreadsCallsOverItsConnections() throws Exception {
        ConcurrentHashMap<String, Integer> callsByConnection = new ConcurrentHashMap<>();
        RpcHandlers handlers = RpcHandlers.builder().add(ASYNC_ECHO, (request, context) -> {
            callsByConnection.merge(String.valueOf(context.remoteAddress()), 1, Integer::sum);
            return CompletableFuture.completedFuture(EchoReply.newBuilder().setPayload(request.getPayload()).build());
        }).build();
        RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers);
        closeables.add(server);
        RpcEndpoint endpoint = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(3));
        await(endpoint.connectAll());
        assertEquals(3, endpoint.openConnections());
        TestRpc.waitFor("3 server-side connections", () -> server.openConnections() == 3);
        for (int i = 0; i < 30; i++) {
            await(endpoint.call(ASYNC_ECHO, echoRequest("x"), WAIT));
        }
        assertEquals(3, callsByConnection.size(), "calls by connection: " + callsByConnection);
        callsByConnection.values().forEach(count -> assertEquals(10, count, "round-robin: " + callsByConnection));
    }

    @Test
    void poolReplacesABrokenConnection() throws Exception {
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withReadIdleTimeout(Duration.ofMillis(300)));
        RpcEndpoint endpoint = endpoint(server, RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(2));
        await(endpoint.connectAll());
        // The server closes idle connections; the pool opens new ones on the next calls.
        TestRpc.waitFor("idle connections closed", () -> endpoint.openConnections() == 0);
        assertEcho(endpoint, "after idle close");
        assertEcho(endpoint, "again");
    }

    @Test
    void invalidMethodDefinitionsAndDuplicateRegistrationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RpcMethod<>(
                1, 0, "bad", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY));
        assertThrows(IllegalArgumentException.class, () -> new RpcMethod<>(
                70_000, 1, "bad", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY));
        RpcHandlers.Builder builder = EchoService.register(RpcHandlers.builder());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder.add(EchoService.ECHO, EchoService.handler()));
        assertTrue(e.getMessage().contains("registered twice"), e.getMessage());
    }

    @Test
    void rawClientThatNeverSaysHelloIsDisconnected() throws Exception {
        RpcServer server = server(RpcServerConfig.defaults(CLUSTER).withPartialFrameTimeout(Duration.ofMillis(300)));
        try (Socket silent = new Socket("127.0.0.1", server.port())) {
            assertTrue(TestRpc.closedByServer(silent));
        }
        assertEcho(clientEndpoint(server), "fine");
    }

    @Test
    void callsToAnUnreachableEndpointFailWithUnavailable() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER));
        closeables.add(client);
        RpcEndpoint endpoint = client.endpoint(new InetSocketAddress("127.0.0.1", port));
        RpcException e = failure(endpoint.call(EchoService.ECHO, echoRequest("x"), WAIT));
        assertEquals(ErrorReply.Code.CODE_UNAVAILABLE, e.code());
        assertFalse(endpoint.send(NOTE, echoRequest("dropped")), "one-way without a connection is dropped");
        ExecutionException during = assertThrows(ExecutionException.class,
                () -> endpoint.call(EchoService.ECHO, echoRequest("x"), WAIT).get());
        assertTrue(during.getCause().getMessage().contains("unreachable")
                || during.getCause().getMessage().contains("cannot connect"), during.getCause().getMessage());
    }
}
