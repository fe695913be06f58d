package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's limits and lifecycle: a breach is answered with an error after every earlier reply
 * and closes that connection only; connections over the limit are refused; shutdown closes all.
 */
class RespServerTest {
    private final MemoryBackend backend = new MemoryBackend();
    private RespServer server;

    private RespServer start(RespServerConfig config) throws IOException {
        server = new RespServer(config, backend);
        server.start(new InetSocketAddress("127.0.0.1", 0));
        return server;
    }

    @AfterEach
    void stop() {
        backend.release();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aProtocolErrorIsAnsweredAfterEarlierRepliesAndClosesOnlyThatConnection() throws IOException {
        start(RespServerConfig.defaults());
        try (RespTestClient bad = new RespTestClient(server.port()); RespTestClient good = new RespTestClient(server.port())) {
            bad.send("*1\r\n$4\r\nPING\r\n*1\r\n$-7\r\n");
            assertEquals("PONG", bad.read());
            assertEquals("-ERR Protocol error: invalid bulk length", bad.read());
            assertTrue(bad.closedByServer());
            assertEquals("PONG", good.call("PING"));
        }
    }

    @Test
    void everyParserLimitIsEnforcedOnTheWire() throws IOException {
        start(RespServerConfig.defaults().withParserLimits(16, 4, 64, 32));
        for (String[] breach : new String[][] {
                {"*1\r\n$17\r\n", "-ERR Protocol error: invalid bulk length"},
                {"*5\r\n", "-ERR Protocol error: invalid multibulk length"},
                {"PING " + "x".repeat(100) + "\r\n", "-ERR Protocol error: too big inline request"},
                {"*3\r\n$16\r\n" + "a".repeat(16) + "\r\n$16\r\n" + "b".repeat(16) + "\r\n$1\r\n",
                        "-ERR Protocol error: request of more than 32 bytes"}}) {
            try (RespTestClient client = new RespTestClient(server.port())) {
                client.send(breach[0]);
                assertEquals(breach[1], client.read());
                assertTrue(client.closedByServer(), breach[1]);
            }
        }
    }

    @Test
    void connectionsOverTheLimitAreRefusedWithRedisText() throws IOException {
        start(RespServerConfig.defaults().withMaxConnections(2));
        try (RespTestClient first = new RespTestClient(server.port()); RespTestClient second = new RespTestClient(server.port())) {
            assertEquals("PONG", first.call("PING"));
            assertEquals("PONG", second.call("PING"));
            try (RespTestClient third = new RespTestClient(server.port())) {
                assertEquals("-ERR max number of clients reached", third.read());
                assertTrue(third.closedByServer());
            }
            assertEquals("PONG", first.call("PING"));
        }
        awaitOpenConnections(0);
        try (RespTestClient again = new RespTestClient(server.port())) {
            assertEquals("PONG", again.call("PING"), "closed connections free their places");
        }
    }

    @Test
    void aPipelineThatStaysFullIsClosedWithAnError() throws IOException {
        start(RespServerConfig.defaults().withMaxInFlightPerConnection(4, Duration.ofMillis(300)));
        backend.hold();
        try (RespTestClient client = new RespTestClient(server.port()); RespTestClient other = new RespTestClient(server.port())) {
            StringBuilder pipeline = new StringBuilder();
            for (int i = 0; i < 6; i++) {
                pipeline.append(new String(RespTestClient.encode("GET", "k" + i)));
            }
            client.send(pipeline.toString());
            assertEquals("PONG", other.call("PING"), "another connection is served meanwhile");
            sleep(700); // The reader gives up on the fifth request after 300 ms without a free place.
            long started = System.nanoTime();
            backend.release();
            List<Object> replies = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                replies.add(client.read());
            }
            assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos());
            assertEquals(java.util.Arrays.asList(null, null, null, null,
                    "-ERR Protocol error: more than 4 requests in flight for 300 ms"), replies);
            assertTrue(client.closedByServer());
        }
    }

    @Test
    void aClientThatReadsNoRepliesIsCutOff() throws IOException {
        start(RespServerConfig.defaults().withMaxInFlightPerConnection(4, Duration.ofMillis(300)));
        try (RespTestClient client = new RespTestClient(server.port()); RespTestClient other = new RespTestClient(server.port())) {
            client.send(RespTestClient.encode("SET", "big", "x".repeat(1 << 20)));
            StringBuilder pipeline = new StringBuilder();
            for (int i = 0; i < 64; i++) {
                pipeline.append(new String(RespTestClient.encode("GET", "big")));
            }
            // 64 MiB of replies, far more than the socket buffers hold: the writer blocks, the pipeline fills.
            client.send(pipeline.toString());
            awaitOpenConnections(1);
            assertEquals("PONG", other.call("PING"));
        }
    }

    @Test
    void aFullPipelineThatDrainsInTimeGoesOn() throws IOException {
        start(RespServerConfig.defaults().withMaxInFlightPerConnection(2, Duration.ofSeconds(30)));
        try (RespTestClient client = new RespTestClient(server.port())) {
            StringBuilder pipeline = new StringBuilder();
            for (int i = 0; i < 200; i++) {
                pipeline.append(new String(RespTestClient.encode("INCR", "n")));
            }
            client.send(pipeline.toString());
            for (long i = 1; i <= 200; i++) {
                assertEquals(i, client.read());
            }
        }
    }

    @Test
    void aReplyOverTheReplyTimeoutIsAnsweredWithAnErrorAndTheRepliesAfterItGoOn() throws IOException {
        start(RespServerConfig.defaults().withReplyTimeout(Duration.ofMillis(200)));
        backend.hold();
        try (RespTestClient client = new RespTestClient(server.port())) {
            client.send(new String(RespTestClient.encode("GET", "k")) + new String(RespTestClient.encode("PING")));
            assertEquals("-ERR no answer within 200 ms (a write may or may not have been applied)", client.read());
            assertEquals("PONG", client.read());
            backend.release();
            assertEquals("OK", client.call("SET", "k", "v"), "the connection goes on");
            assertEquals("v", client.call("GET", "k"));
        }
    }

    @Test
    void aClientThatClosesItsSideStillGetsItsReplies() throws IOException {
        start(RespServerConfig.defaults());
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write("SET k v\r\nGET k\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            String replies = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertEquals("+OK\r\n$1\r\nv\r\n", replies);
        }
    }

    @Test
    void aClientThatLeavesInsideARequestGetsTheRepliesBeforeIt() throws IOException {
        start(RespServerConfig.defaults());
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write("PING\r\n*2\r\n$3\r\nGET".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.shutdownOutput();
            assertEquals("+PONG\r\n", new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    @Test
    void shutdownClosesEveryConnection() throws IOException {
        start(RespServerConfig.defaults());
        try (RespTestClient client = new RespTestClient(server.port())) {
            assertEquals("PONG", client.call("PING"));
            server.shutdown(Duration.ofSeconds(2));
            assertTrue(client.closedByServer());
            assertEquals(0, server.openConnections());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private void awaitOpenConnections(int expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.openConnections() != expected && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(expected, server.openConnections());
    }
}
