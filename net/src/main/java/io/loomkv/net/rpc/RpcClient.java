package io.loomkv.net.rpc;

import com.google.protobuf.MessageLite;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.log.LogContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The RPC client: one {@link RpcEndpoint} (a small connection pool) per remote address, and one
 * virtual thread that fails calls whose deadline has passed (checked every
 * {@value #DEADLINE_CHECK_INTERVAL_MILLIS} ms while calls are pending, so a deadline fires at most
 * that much late; while none is pending, as on a node's peer client, which only sends one-way
 * messages, it sleeps until the next call: see {@link SweeperSleep}).
 *
 * <pre>{@code
 * try (RpcClient client = new RpcClient(RpcClientConfig.client("cluster-1"))) {
 *     EchoReply reply = client.endpoint(address)
 *             .call(EchoService.ECHO, request, Duration.ofSeconds(1))
 *             .get();
 * }
 * }</pre>
 */
public final class RpcClient implements AutoCloseable {
    static final long DEADLINE_CHECK_INTERVAL_MILLIS = 5;

    private final RpcClientConfig config;
    private final FrameCompression compression;
    private final ConcurrentHashMap<InetSocketAddress, RpcEndpoint> endpoints = new ConcurrentHashMap<>();
    private final SweeperSleep deadlineSleep = new SweeperSleep(TimeUnit.MILLISECONDS.toNanos(DEADLINE_CHECK_INTERVAL_MILLIS));
    private final Thread deadlineThread;
    private volatile TrafficObserver traffic = TrafficObserver.NONE;
    private volatile boolean closed;

    public RpcClient(RpcClientConfig config) {
        this(config, FrameCompression.standard());
    }

    public RpcClient(RpcClientConfig config, FrameCompression compression) {
        this.config = config;
        this.compression = compression;
        this.deadlineThread = Thread.ofVirtual().name("rpc-client-deadlines").start(LogContext.inheritNode(this::checkDeadlines));
    }

    /** The endpoint for {@code address}, created on first use. */
    public RpcEndpoint endpoint(InetSocketAddress address) {
        if (closed) {
            throw new IllegalStateException("client is closed");
        }
        return endpoints.computeIfAbsent(address, a -> new RpcEndpoint(a, config, compression, deadlineSleep::workAdded, traffic));
    }

    /** Reports the bytes of the endpoints created from now on to {@code observer} (metrics); call before the first use. */
    public void observeTraffic(TrafficObserver observer) {
        this.traffic = java.util.Objects.requireNonNull(observer, "observer");
    }

    /** Shorthand for {@code endpoint(address).call(method, request, timeout)}. */
    public <Req extends MessageLite, Resp extends MessageLite> CompletableFuture<Resp> call(InetSocketAddress address,
            RpcMethod<Req, Resp> method, Req request, Duration timeout) {
        return endpoint(address).call(method, request, timeout);
    }

    private void checkDeadlines() {
        while (!closed) {
            long now = System.nanoTime();
            boolean pending = false;
            for (RpcEndpoint endpoint : endpoints.values()) {
                pending |= endpoint.expire(now);
            }
            deadlineSleep.sleep(pending, this::anyCallPending);
        }
    }

    private boolean anyCallPending() {
        for (RpcEndpoint endpoint : endpoints.values()) {
            if (endpoint.hasPendingCalls()) {
                return true;
            }
        }
        return false;
    }

    /** True while the deadline thread sleeps without a timeout because no call is pending (for tests). */
    boolean deadlineThreadIdle() {
        return deadlineSleep.isParkedIdle();
    }

    /** Closes every connection; calls still in flight fail with {@code CODE_SHUTTING_DOWN}. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        deadlineThread.interrupt();
        for (RpcEndpoint endpoint : endpoints.values()) {
            endpoint.close();
        }
    }
}
