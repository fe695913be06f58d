package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.proto.ErrorReply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One remote address and its small pool of connections. Calls are spread round-robin over the
 * open connections. A broken connection is replaced on demand; after failed attempts the next
 * one waits an exponential backoff with jitter, and calls that arrive during that wait fail at
 * once with {@code CODE_UNAVAILABLE} rather than queueing without bound.
 */
public final class RpcEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(RpcEndpoint.class);

    /** One pooled connection and its reconnect state. */
    private final class Slot {
        private final int index;
        private final ReentrantLock lock = new ReentrantLock();
        private volatile ClientConnection connection;
        private CompletableFuture<ClientConnection> connecting;
        private int consecutiveFailures;
        private long nextAttemptNanos;
        private String lastFailure = "";

        Slot(int index) {
            this.index = index;
        }

        ClientConnection openConnection() {
            ClientConnection current = connection;
            return current != null && current.isOpen() ? current : null;
        }

        CompletableFuture<ClientConnection> connect() {
            lock.lock();
            try {
                ClientConnection current = openConnection();
                if (current != null) {
                    return CompletableFuture.completedFuture(current);
                }
                if (closed) {
                    return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_SHUTTING_DOWN,
                            "client is closed"));
                }
                if (connecting != null) {
                    return connecting;
                }
                long waitNanos = nextAttemptNanos - System.nanoTime();
                if (consecutiveFailures > 0 && waitNanos > 0) {
                    return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_UNAVAILABLE,
                            address + " is unreachable (" + lastFailure + "); next attempt in "
                                    + TimeUnit.NANOSECONDS.toMillis(waitNanos) + " ms"));
                }
                CompletableFuture<ClientConnection> attempt = new CompletableFuture<>();
                connecting = attempt;
                Thread.ofVirtual().name("rpc-connect-" + address + "#" + index).start(LogContext.inheritNode(() -> attempt(attempt)));
                return attempt;
            } finally {
                lock.unlock();
            }
        }

        private void attempt(CompletableFuture<ClientConnection> attempt) {
            ClientConnection opened = null;
            Throwable failure = null;
            try {
                opened = ClientConnection.open(address, config, compression, onCallPending, traffic);
            } catch (IOException | RuntimeException e) {
                failure = e;
            }
            lock.lock();
            try {
                connecting = null;
                if (opened != null && closed) {
                    opened.close(new RpcException(ErrorReply.Code.CODE_SHUTTING_DOWN, "client is closed"),
                            "client closed", false);
                    failure = new RpcException(ErrorReply.Code.CODE_SHUTTING_DOWN, "client is closed");
                    opened = null;
                }
                if (opened != null) {
                    connection = opened;
                    if (consecutiveFailures > 0) {
                        LOG.info("reconnected to {} after {} failed attempts", address, consecutiveFailures);
                    }
                    consecutiveFailures = 0;
                } else {
                    consecutiveFailures++;
                    lastFailure = String.valueOf(failure.getMessage());
                    long delayNanos = backoff.delayNanos(consecutiveFailures, ThreadLocalRandom.current().nextDouble());
                    nextAttemptNanos = System.nanoTime() + delayNanos;
                    LOG.debug("connect to {} failed ({} in a row): {}; next attempt in {} ms", address,
                            consecutiveFailures, lastFailure, TimeUnit.NANOSECONDS.toMillis(delayNanos));
                }
            } finally {
                lock.unlock();
            }
            if (opened != null) {
                attempt.complete(opened);
            } else {
                attempt.completeExceptionally(failure instanceof RpcException ? failure
                        : new RpcException(ErrorReply.Code.CODE_UNAVAILABLE,
                                "cannot connect to " + address + ": " + failure.getMessage(), failure));
            }
        }

        void resetBackoff() {
            lock.lock();
            try {
                consecutiveFailures = 0;
                nextAttemptNanos = 0;
            } finally {
                lock.unlock();
            }
        }

        void close() {
            lock.lock();
            try {
                ClientConnection current = connection;
                if (current != null) {
                    current.close(new RpcException(ErrorReply.Code.CODE_SHUTTING_DOWN,
                            "client closed with the request in flight"), "client closed", false);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private final InetSocketAddress address;
    private final RpcClientConfig config;
    private final FrameCompression compression;
    private final TrafficObserver traffic;
    private final ReconnectBackoff backoff;
    private final Slot[] slots;
    private final Runnable onCallPending;
    private final AtomicInteger nextSlot = new AtomicInteger();
    private volatile boolean closed;

    RpcEndpoint(InetSocketAddress address, RpcClientConfig config, FrameCompression compression, Runnable onCallPending,
            TrafficObserver traffic) {
        this.traffic = traffic;
        this.address = address;
        this.onCallPending = onCallPending;
        this.config = config;
        this.compression = compression;
        this.backoff = new ReconnectBackoff(config.reconnectBackoffInitial(), config.reconnectBackoffMax());
        this.slots = new Slot[config.connectionsPerEndpoint()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i);
        }
    }

    public InetSocketAddress address() {
        return address;
    }

    /**
     * Calls {@code method}; the future fails with {@link RpcTimeoutException} when no answer came
     * within {@code timeout}, and with {@link RpcException} for every other failure.
     */
    public <Req extends MessageLite, Resp extends MessageLite> CompletableFuture<Resp> call(
            RpcMethod<Req, Resp> method, Req request, Duration timeout) {
        long timeoutMillis = timeout.toMillis();
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        long deadlineNanos = System.nanoTime() + timeout.toNanos();
        Slot slot = slots[Math.floorMod(nextSlot.getAndIncrement(), slots.length)];
        ClientConnection connection = slot.openConnection();
        if (connection == null) {
            connection = anyOpenConnection();
            if (connection != null) {
                slot.connect(); // Replace the broken one in the background.
            }
        }
        if (connection != null) {
            return connection.call(method, request, deadlineNanos, timeoutMillis);
        }
        return slot.connect()
                .thenCompose(opened -> opened.call(method, request, deadlineNanos, timeoutMillis))
                .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .exceptionallyCompose(failure -> CompletableFuture.failedFuture(translate(failure, method,
                        timeoutMillis)));
    }

    private RuntimeException translate(Throwable failure, RpcMethod<?, ?> method, long timeoutMillis) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof TimeoutException) {
            return new RpcTimeoutException("no response to " + method.name() + " from " + address
                    + " within its deadline of " + timeoutMillis + " ms (the connection was being opened)");
        }
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        return new RpcException(ErrorReply.Code.CODE_UNAVAILABLE, String.valueOf(cause), cause);
    }

    /**
     * Queues a one-way message on the first open connection of the pool, so messages to one
     * endpoint keep their order while that connection lasts (Raft replication relies on it).
     * Returns false, dropping the message, when no connection is open (a reconnect is started)
     * or the send queue is full; Raft-style callers simply send again later.
     */
    public <Req extends MessageLite> boolean send(OneWayMethod<Req> method, Req message) {
        ClientConnection connection = anyOpenConnection();
        if (connection == null) {
            slots[0].connect();
            return false;
        }
        return connection.send(method, message);
    }

    /**
     * Forgets the failed attempts, so the next call or send connects at once instead of waiting out
     * the backoff: for when we learn that the remote end is back (it connected to us).
     */
    public void resetBackoff() {
        for (Slot slot : slots) {
            slot.resetBackoff();
        }
    }

    /** Opens every pooled connection now; the future completes when all are open. */
    public CompletableFuture<Void> connectAll() {
        CompletableFuture<?>[] attempts = new CompletableFuture<?>[slots.length];
        for (int i = 0; i < slots.length; i++) {
            attempts[i] = slots[i].connect();
        }
        return CompletableFuture.allOf(attempts);
    }

    /** Connections open right now. */
    public int openConnections() {
        int open = 0;
        for (Slot slot : slots) {
            if (slot.openConnection() != null) {
                open++;
            }
        }
        return open;
    }

    private ClientConnection anyOpenConnection() {
        for (Slot slot : slots) {
            ClientConnection connection = slot.openConnection();
            if (connection != null) {
                return connection;
            }
        }
        return null;
    }

    /** Fails the calls whose deadline has passed; true when calls are still pending. */
    boolean expire(long nowNanos) {
        boolean pending = false;
        for (Slot slot : slots) {
            ClientConnection connection = slot.connection;
            if (connection != null) {
                pending |= connection.expire(nowNanos);
            }
        }
        return pending;
    }

    boolean hasPendingCalls() {
        for (Slot slot : slots) {
            ClientConnection connection = slot.connection;
            if (connection != null && connection.hasPendingCalls()) {
                return true;
            }
        }
        return false;
    }

    void close() {
        closed = true;
        for (Slot slot : slots) {
            slot.close();
        }
    }
}
