package io.loomkv.net.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The proxy's session table on its own: dedup by sequence, acknowledgement, the window, eviction and expiry. */
class ProxySessionsTest {
    private static final KvReply OK = KvReply.newBuilder().setStatus(Status.OK).build();

    private static ProxyConfig config(int maxSessions, Duration idle, int window) {
        ProxyConfig defaults = ProxyConfig.defaults();
        return new ProxyConfig(defaults.maxConnections(), defaults.maxInFlightPerConnection(), defaults.maxInFlightTotal(),
                defaults.maxRequestBytes(), defaults.maxFrameSizeBytes(), maxSessions, idle, window, defaults.upstreamClients());
    }

    @Test
    void aSequenceIsForwardedOnceAndItsCopiesGetTheFirstReply() {
        ProxySessions sessions = new ProxySessions(config(10, Duration.ofHours(1), 4));
        long id = sessions.open();
        AtomicInteger forwarded = new AtomicInteger();
        CompletableFuture<KvReply> pending = new CompletableFuture<>();
        Supplier<CompletableFuture<KvReply>> forward = () -> {
            forwarded.incrementAndGet();
            return pending;
        };
        CompletableFuture<KvReply> first = sessions.write(id, 1, 1, forward);
        CompletableFuture<KvReply> copy = sessions.write(id, 1, 1, forward);
        assertSame(first, copy, "a copy in flight joins the first");
        pending.complete(OK);
        assertEquals(OK, sessions.write(id, 1, 1, forward).join(), "a copy after the answer gets it");
        assertEquals(1, forwarded.get());

        assertEquals(OK, sessions.write(id, 2, 2, () -> CompletableFuture.completedFuture(OK)).join());
        assertEquals(Status.STALE_SEQUENCE, sessions.write(id, 1, 1, forward).join().getStatus(), "1 was acknowledged");
        assertEquals(1, forwarded.get());
    }

    @Test
    void theWindowOfUnacknowledgedWritesIsBounded() {
        ProxySessions sessions = new ProxySessions(config(10, Duration.ofHours(1), 2));
        long id = sessions.open();
        sessions.write(id, 1, 1, CompletableFuture::new);
        sessions.write(id, 2, 1, CompletableFuture::new);
        KvReply full = sessions.write(id, 3, 1, () -> CompletableFuture.completedFuture(OK)).join();
        assertEquals(Status.RESOURCE_EXHAUSTED, full.getStatus());
        assertTrue(full.getMessage().contains("not applied"), full.getMessage());
        assertEquals(OK, sessions.write(id, 3, 3, () -> CompletableFuture.completedFuture(OK)).join(), "acknowledging frees the window");
    }

    @Test
    void leastRecentlyUsedSessionsAreForgottenAndIdleOnesExpire() throws Exception {
        ProxySessions bounded = new ProxySessions(config(2, Duration.ofHours(1), 4));
        long first = bounded.open();
        long second = bounded.open();
        bounded.write(first, 1, 1, () -> CompletableFuture.completedFuture(OK)); // first is now the most recent
        long third = bounded.open();
        assertEquals(2, bounded.size());
        assertEquals(Status.SESSION_EXPIRED, bounded.write(second, 1, 1, () -> CompletableFuture.completedFuture(OK)).join().getStatus());
        assertEquals(OK, bounded.write(third, 1, 1, () -> CompletableFuture.completedFuture(OK)).join());

        ProxySessions idle = new ProxySessions(config(10, Duration.ofMillis(1), 4));
        long gone = idle.open();
        Thread.sleep(5);
        assertEquals(Status.SESSION_EXPIRED, idle.write(gone, 1, 1, () -> CompletableFuture.completedFuture(OK)).join().getStatus());
        assertNotEquals(gone, idle.open(), "ids are not reused");
    }
}
