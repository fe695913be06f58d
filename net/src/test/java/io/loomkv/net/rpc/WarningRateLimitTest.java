package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Warnings about bad connections: at most N a window, the rest counted and mentioned by the next one logged. */
class WarningRateLimitTest {
    @Test
    void admitsNPerWindowThenCountsAndReportsTheRest() {
        AtomicLong clock = new AtomicLong(1_000);
        WarningRateLimit limit = new WarningRateLimit(3, Duration.ofSeconds(60), clock::get);
        assertEquals(0, limit.admit());
        assertEquals(0, limit.admit());
        assertEquals(0, limit.admit());
        assertEquals(-1, limit.admit());
        assertEquals(-1, limit.admit());
        clock.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(-1, limit.admit(), "still the same window");
        clock.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(3, limit.admit(), "the first line of the next window reports the three left out");
        assertEquals(0, limit.admit());
        assertEquals(8, limit.events());
        assertEquals(3, limit.suppressed());
        assertEquals(" (3 similar warnings left out before this one)", WarningRateLimit.suffix(3));
        assertEquals("", WarningRateLimit.suffix(0));
        assertThrows(IllegalArgumentException.class, () -> new WarningRateLimit(0, Duration.ofSeconds(1)));
    }

    @Test
    void aFloodOfJunkConnectionsWritesAtMostTheLimitOfWarnings() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger connectionLogger = (Logger) LoggerFactory.getLogger(ServerConnection.class);
        logged.start();
        connectionLogger.addAppender(logged);
        int junk = 3 * RpcServer.PROTOCOL_WARNINGS_PER_MINUTE;
        try (RpcServer server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER), EchoService.register(RpcHandlers.builder()).build())) {
            for (int i = 0; i < junk; i++) {
                try (Socket socket = TestRpc.rawClient(server)) {
                    socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    assertTrue(TestRpc.closedByServer(socket));
                }
            }
            TestRpc.waitFor("every junk connection counted", () -> server.protocolErrors() == junk);
            long warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
            // One window of a minute unless this loop took longer on a loaded machine: then the
            // limit applies per window, and every line left out is still counted.
            assertEquals(junk, warnings + server.protocolWarningsSuppressed());
            assertTrue(server.protocolWarningsSuppressed() > 0, "nothing was left out of " + warnings + " warnings");
            assertTrue(warnings < junk, warnings + " warnings for " + junk + " junk connections");
        } finally {
            connectionLogger.detachAppender(logged);
        }
    }
}
