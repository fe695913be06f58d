package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.WAIT;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.assertEcho;
import static io.loomkv.net.rpc.TestRpc.await;
import static io.loomkv.net.rpc.TestRpc.echoRequest;
import static io.loomkv.net.rpc.TestRpc.failure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import io.loomkv.net.proto.ErrorReply;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Deadlines, reconnects and graceful shutdown, seen from the client. */
class RpcClientResilienceTest {
    private static final RpcMethod<EchoRequest, EchoReply> HANG = new RpcMethod<>(
            8, 1, "test.Hang", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);
    private static final RpcMethod<EchoRequest, EchoReply> GATED = new RpcMethod<>(
            8, 2, "test.Gated", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);
    private static final RpcMethod<EchoRequest, EchoReply> SLOW = new RpcMethod<>(
            8, 3, "test.Slow", EchoRequest.parser(), EchoReply.parser(), MethodAccess.ANY);

    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger handlersEntered = new AtomicInteger();

    private RpcHandlers handlers() {
        return EchoService.register(RpcHandlers.builder())
                .add(HANG, (request, context) -> {
                    handlersEntered.incrementAndGet();
                    return new CompletableFuture<>();
                })
                .add(GATED, (request, context) -> CompletableFuture.supplyAsync(() -> {
                    handlersEntered.incrementAndGet();
                    try {
                        gate.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return EchoReply.newBuilder().setPayload(request.getPayload()).build();
                }, r -> Thread.ofVirtual().start(r)))
                .add(SLOW, (request, context) -> CompletableFuture.supplyAsync(
                        () -> EchoReply.newBuilder().setPayload(request.getPayload()).build(),
                        CompletableFuture.delayedExecutor(600, TimeUnit.MILLISECONDS)))
                .build();
    }

    @Test
    void callThatOutlivesItsDeadlineFailsWithAClearTimeoutAndTheLateAnswerIsDropped() throws Exception {
        try (RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers());
                RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1))) {
            RpcEndpoint endpoint = client.endpoint(address(server));
            assertEcho(endpoint, "warm");
            long start = System.nanoTime();
            RpcException hang = failure(endpoint.call(HANG, echoRequest("x"), Duration.ofMillis(150)));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            RpcTimeoutException timeout = assertInstanceOf(RpcTimeoutException.class, hang);
            assertEquals(ErrorReply.Code.CODE_TIMEOUT, timeout.code());
            assertTrue(timeout.getMessage().contains("test.Hang") && timeout.getMessage().contains("150 ms"),
                    timeout.getMessage());
            assertTrue(elapsedMillis >= 150, "failed before its deadline, after " + elapsedMillis + " ms");

            // The slow answer arrives after its caller gave up; it must not be matched to anything else.
            assertInstanceOf(RpcTimeoutException.class, failure(endpoint.call(SLOW, echoRequest("late"),
                    Duration.ofMillis(100))));
            for (int i = 0; i < 20; i++) {
                assertEcho(endpoint, "after timeout " + i);
                Thread.sleep(50);
            }
            assertEquals(1, endpoint.openConnections(), "the connection survived the timeouts");
        }
    }

    @Test
    void theDeadlineThreadSleepsWhileNoCallIsPendingAndStillTimesOutTheNextCall() throws Exception {
        try (RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers());
                RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1))) {
            RpcEndpoint endpoint = client.endpoint(address(server));
            assertEcho(endpoint, "warm");
            // Nothing pending: the deadline thread parks without a timeout (an idle node's peer client
            // is always like this) ...
            TestRpc.waitFor("the deadline thread to go idle", client::deadlineThreadIdle);
            // ... and the next call must still wake it, or this would hang instead of timing out.
            RpcException hang = failure(endpoint.call(HANG, echoRequest("x"), Duration.ofMillis(100)));
            assertInstanceOf(RpcTimeoutException.class, hang);
            TestRpc.waitFor("the deadline thread to go idle again", client::deadlineThreadIdle);
            assertEcho(endpoint, "after");
        }
    }

    @Test
    void clientReconnectsAfterTheServerComesBack() throws Exception {
        RpcServer first = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers());
        int port = first.port();
        RpcClientConfig config = RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1)
                .withReconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
        try (RpcClient client = new RpcClient(config)) {
            RpcEndpoint endpoint = client.endpoint(new InetSocketAddress("127.0.0.1", port));
            assertEcho(endpoint, "before");
            first.shutdown(Duration.ofSeconds(1));
            TestRpc.waitFor("the client to notice", () -> endpoint.openConnections() == 0);
            RpcException down = failure(endpoint.call(EchoService.ECHO, echoRequest("x"), WAIT));
            assertTrue(down.code() == ErrorReply.Code.CODE_UNAVAILABLE, down.getMessage());

            RpcServer second = new RpcServer(RpcServerConfig.defaults(CLUSTER), handlers());
            second.start(new InetSocketAddress("127.0.0.1", port));
            try {
                long deadline = System.nanoTime() + WAIT.toNanos();
                RpcException last = null;
                while (System.nanoTime() < deadline) {
                    try {
                        EchoReply reply = await(endpoint.call(EchoService.ECHO, echoRequest("after"), WAIT));
                        assertEquals("after", reply.getPayload().toStringUtf8());
                        last = null;
                        break;
                    } catch (RpcException e) {
                        // Fails fast while the backoff runs; the next attempt connects.
                        assertEquals(ErrorReply.Code.CODE_UNAVAILABLE, e.code(), e.getMessage());
                        last = e;
                        Thread.sleep(20);
                    }
                }
                assertEquals(null, last, "never reconnected");
                assertEquals(1, endpoint.openConnections());
            } finally {
                second.close();
            }
        }
    }

    @Test
    void shutdownLetsRequestsInFlightFinishAndRefusesNewOnes() throws Exception {
        RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers());
        try (RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1))) {
            RpcEndpoint endpoint = client.endpoint(address(server));
            assertEcho(endpoint, "warm");
            List<CompletableFuture<EchoReply>> inFlight = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                inFlight.add(endpoint.call(GATED, echoRequest("gated " + i), WAIT));
            }
            TestRpc.waitFor("5 requests in the handler", () -> handlersEntered.get() == 5);
            Thread shutdown = Thread.ofVirtual().start(() -> server.shutdown(WAIT));
            TestRpc.waitFor("the server to drain", server::isDraining);
            RpcException refused = failure(endpoint.call(EchoService.ECHO, echoRequest("too late"), WAIT));
            assertEquals(ErrorReply.Code.CODE_SHUTTING_DOWN, refused.code());
            gate.countDown();
            for (int i = 0; i < inFlight.size(); i++) {
                assertEquals("gated " + i, await(inFlight.get(i)).getPayload().toStringUtf8());
            }
            assertTrue(shutdown.join(WAIT), "shutdown finished");
            assertEquals(0, server.openConnections());
            TestRpc.waitFor("the client to see the close", () -> endpoint.openConnections() == 0);
        }
    }

    @Test
    void shutdownFailsRequestsThatOutliveTheGraceWithShuttingDown() throws Exception {
        RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers());
        try (RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER))) {
            RpcEndpoint endpoint = client.endpoint(address(server));
            assertEcho(endpoint, "warm");
            List<CompletableFuture<EchoReply>> hanging = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                hanging.add(endpoint.call(HANG, echoRequest("hang"), WAIT));
            }
            TestRpc.waitFor("4 requests in the handler", () -> handlersEntered.get() == 4);
            server.shutdown(Duration.ofMillis(200));
            for (CompletableFuture<EchoReply> call : hanging) {
                RpcException e = failure(call);
                assertTrue(e.code() == ErrorReply.Code.CODE_SHUTTING_DOWN, e.getMessage());
            }
        }
    }

    @Test
    void closingTheClientFailsItsCallsInFlight() throws Exception {
        try (RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), handlers())) {
            RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER));
            RpcEndpoint endpoint = client.endpoint(address(server));
            assertEcho(endpoint, "warm");
            CompletableFuture<EchoReply> hanging = endpoint.call(HANG, echoRequest("x"), WAIT);
            client.close();
            RpcException e = failure(hanging);
            assertEquals(ErrorReply.Code.CODE_SHUTTING_DOWN, e.code());
            ExecutionException after = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> endpoint.call(EchoService.ECHO, echoRequest("x"), WAIT).get(WAIT.toMillis(),
                            TimeUnit.MILLISECONDS));
            assertEquals(ErrorReply.Code.CODE_SHUTTING_DOWN, ((RpcException) after.getCause()).code());
        }
    }
}
