package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import io.loomkv.net.proto.Hello;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Shared helpers for the RPC tests: servers on ephemeral ports, raw sockets, waiting. */
final class TestRpc {
    static final String CLUSTER = "test-cluster";
    /** Generous: the box is shared and slow; waits end as soon as their condition holds. */
    static final Duration WAIT = Duration.ofSeconds(30);

    private TestRpc() {
    }

    static RpcServer startServer(RpcServerConfig config, RpcHandlers handlers) throws IOException {
        RpcServer server = new RpcServer(config, handlers);
        server.start(new InetSocketAddress("127.0.0.1", 0));
        return server;
    }

    static RpcServer startEchoServer() throws IOException {
        return startServer(RpcServerConfig.defaults(CLUSTER), EchoService.register(RpcHandlers.builder()).build());
    }

    static InetSocketAddress address(RpcServer server) {
        return new InetSocketAddress("127.0.0.1", server.port());
    }

    static EchoRequest echoRequest(String text) {
        return EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8(text)).build();
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** The RpcException a future failed with. */
    static RpcException failure(CompletableFuture<?> future) throws InterruptedException, TimeoutException {
        try {
            Object value = future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return fail("expected a failure, got " + value);
        } catch (ExecutionException e) {
            return assertInstanceOf(RpcException.class, e.getCause());
        }
    }

    static void assertEcho(RpcEndpoint endpoint, String text) throws Exception {
        EchoReply reply = await(endpoint.call(EchoService.ECHO, echoRequest(text), WAIT));
        assertEquals(text, reply.getPayload().toStringUtf8());
    }

    static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** A raw socket that has completed the client handshake. */
    static Socket rawClient(RpcServer server) throws IOException {
        Socket socket = new Socket("127.0.0.1", server.port());
        socket.setTcpNoDelay(true);
        Hello hello = Hello.newBuilder().setRole(Hello.Role.ROLE_CLIENT).build();
        socket.getOutputStream().write(FrameCodec.encodeToArray(FrameType.HELLO, 0, 0, 0, hello));
        byte[] header = socket.getInputStream().readNBytes(FrameCodec.HEADER_SIZE_BYTES);
        if (header.length != FrameCodec.HEADER_SIZE_BYTES || header[5] != FrameType.HELLO.code()) {
            throw new IOException("no Hello reply");
        }
        int bodyLength = java.nio.ByteBuffer.wrap(header).getInt(20);
        socket.getInputStream().readNBytes(bodyLength);
        return socket;
    }

    /** True when the server closed {@code socket}: reads reach end of stream (or reset) within the wait. */
    static boolean closedByServer(Socket socket) throws IOException {
        socket.setSoTimeout((int) WAIT.toMillis());
        InputStream in = socket.getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (true) {
                if (in.read(sink) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // Connection reset: closed too.
        }
    }

}
