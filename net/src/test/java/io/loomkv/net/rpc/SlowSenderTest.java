package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.assertEcho;
import static io.loomkv.net.rpc.TestRpc.echoRequest;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A peer that starts a frame and never finishes it, or trickles it byte by byte, is cut off by the
 * partial-frame timeout (short here; seconds in production); an idle one by the idle timeout.
 */
class SlowSenderTest {
    private static final Duration PARTIAL_FRAME_TIMEOUT = Duration.ofMillis(400);
    private RpcServer server;
    private RpcClient goodClient;
    private RpcEndpoint good;

    @BeforeEach
    void start() throws Exception {
        server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER).withPartialFrameTimeout(PARTIAL_FRAME_TIMEOUT)
                .withReadIdleTimeout(Duration.ofMinutes(10)), EchoService.register(RpcHandlers.builder()).build());
        goodClient = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        good = goodClient.endpoint(address(server));
        assertEcho(good, "before");
    }

    @AfterEach
    void stop() {
        goodClient.close();
        server.close();
    }

    @Test
    void halfAHeaderThenSilenceIsCutOffByThePartialFrameTimeout() throws Exception {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, EchoService.ECHO.id(), echoRequest("x"));
        try (Socket socket = TestRpc.rawClient(server)) {
            long start = System.nanoTime();
            socket.getOutputStream().write(frame, 0, 10);
            assertTrue(TestRpc.closedByServer(socket), "a stalled header must not hold the connection");
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(elapsedMillis >= PARTIAL_FRAME_TIMEOUT.toMillis() - 50,
                    "closed after " + elapsedMillis + " ms, before the timeout");
        }
        assertEcho(good, "still served");
    }

    @Test
    void bodyTrickledOneByteAtATimeIsCutOffEvenThoughEachByteArrivesInTime() throws Exception {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, EchoService.ECHO.id(),
                echoRequest("x".repeat(500)));
        try (Socket socket = TestRpc.rawClient(server)) {
            OutputStream out = socket.getOutputStream();
            // Each byte comes well within the timeout; the frame as a whole would take about 50 s.
            Thread trickler = Thread.ofVirtual().start(() -> {
                try {
                    for (byte b : frame) {
                        out.write(b);
                        out.flush();
                        Thread.sleep(PARTIAL_FRAME_TIMEOUT.toMillis() / 4);
                    }
                } catch (IOException | InterruptedException e) {
                    // The server closed the connection: what the test expects.
                }
            });
            assertTrue(TestRpc.closedByServer(socket), "a trickling sender must not hold the connection");
            trickler.interrupt();
            trickler.join();
        }
        assertEcho(good, "still served");
        TestRpc.waitFor("the slow connection to be cleaned up", () -> server.openConnections() == 1);
    }

    @Test
    void manySlowSendersDoNotStarveAWellBehavedClient() throws Exception {
        byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, EchoService.ECHO.id(), echoRequest("x"));
        Socket[] slow = new Socket[20];
        try {
            for (int i = 0; i < slow.length; i++) {
                slow[i] = TestRpc.rawClient(server);
                slow[i].getOutputStream().write(frame, 0, FrameCodec.HEADER_SIZE_BYTES + 1);
            }
            for (int i = 0; i < 50; i++) {
                assertEcho(good, "while others stall " + i);
            }
            for (Socket socket : slow) {
                assertTrue(TestRpc.closedByServer(socket));
            }
        } finally {
            for (Socket socket : slow) {
                if (socket != null) {
                    socket.close();
                }
            }
        }
        TestRpc.waitFor("slow connections cleaned up", () -> server.openConnections() == 1);
    }

    @Test
    void idleConnectionIsClosedByTheIdleTimeout() throws Exception {
        try (RpcServer idleServer = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER)
                .withReadIdleTimeout(Duration.ofMillis(300)), EchoService.register(RpcHandlers.builder()).build());
                Socket socket = TestRpc.rawClient(idleServer)) {
            assertTrue(TestRpc.closedByServer(socket), "an idle connection is closed");
        }
    }
}
