package io.loomkv.net.rpc;

import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.proto.ErrorReply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RPC server: an accept loop on a virtual thread, and per connection a reader virtual thread
 * and a coalescing writer (see {@link ServerConnection}). Handlers are registered up front in an
 * {@link RpcHandlers}. One watchdog virtual thread enforces every connection's read limits (idle
 * and partial-frame) by sweeping them every {@link #watchdogIntervalNanos}, so a limit fires at
 * most that much late; see {@link io.loomkv.net.frame.ReadDeadline} for why not socket timeouts.
 *
 * <pre>{@code
 * RpcHandlers handlers = RpcHandlers.builder().add(EchoService.ECHO, EchoService.handler()).build();
 * RpcServer server = new RpcServer(RpcServerConfig.defaults("cluster-1"), handlers);
 * int port = server.start(new InetSocketAddress("127.0.0.1", 0));
 * ...
 * server.shutdown(Duration.ofSeconds(5));
 * }</pre>
 */
public final class RpcServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RpcServer.class);
    private static final int ACCEPT_BACKLOG = 256;
    private static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(5);

    private final RpcServerConfig config;
    private final RpcHandlers handlers;
    private final FrameCompression compression;
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    /**
     * WARN lines about bad connections (protocol errors, refused handshakes, refusals at the
     * connection limit): at most this many a minute per server; the rest at DEBUG, counted.
     */
    static final int PROTOCOL_WARNINGS_PER_MINUTE = 20;
    private final WarningRateLimit protocolWarnings = new WarningRateLimit(PROTOCOL_WARNINGS_PER_MINUTE, Duration.ofMinutes(1));
    private final ReentrantLock lifecycleLock = new ReentrantLock();
    private ServerSocket serverSocket;
    private Thread acceptThread;
    private Thread watchdogThread;
    private final SweeperSleep watchdogSleep;
    private volatile boolean stopping;
    private volatile boolean draining;
    private boolean stopped;
    private volatile boolean watching = true;
    private volatile TrafficObserver traffic = TrafficObserver.NONE;

    public RpcServer(RpcServerConfig config, RpcHandlers handlers) {
        this(config, handlers, FrameCompression.standard());
    }

    public RpcServer(RpcServerConfig config, RpcHandlers handlers, FrameCompression compression) {
        this.config = config;
        this.handlers = handlers;
        this.compression = compression;
        this.watchdogSleep = new SweeperSleep(watchdogIntervalNanos(config));
    }

    /**
     * An eighth of the shortest read limit (the handshake runs under the partial-frame limit),
     * between 5 ms and 1 s: with the defaults (5 min idle, 10 s partial) the watchdog wakes once a second.
     */
    static long watchdogIntervalNanos(RpcServerConfig config) {
        long shortest = config.partialFrameTimeout().toNanos();
        if (!config.readIdleTimeout().isZero()) {
            shortest = Math.min(shortest, config.readIdleTimeout().toNanos());
        }
        return Math.clamp(shortest / 8, TimeUnit.MILLISECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(1));
    }

    /** Reports the bytes of the connections accepted from now on to {@code observer} (metrics). */
    public void observeTraffic(TrafficObserver observer) {
        this.traffic = java.util.Objects.requireNonNull(observer, "observer");
    }

    /** Binds and starts accepting; returns the bound port (useful with port 0). */
    public int start(InetSocketAddress bindAddress) throws IOException {
        lifecycleLock.lock();
        try {
            if (serverSocket != null || stopped) {
                throw new IllegalStateException("server already started or stopped");
            }
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(bindAddress, ACCEPT_BACKLOG);
            serverSocket = socket;
            acceptThread = Thread.ofVirtual().name("rpc-accept-" + socket.getLocalPort()).start(LogContext.inheritNode(this::acceptLoop));
            watchdogThread = Thread.ofVirtual().name("rpc-read-watchdog-" + socket.getLocalPort()).start(LogContext.inheritNode(this::watchReads));
            LOG.info("rpc server listening on {} (cluster '{}', {} methods)", socket.getLocalSocketAddress(),
                    config.clusterId(), handlers.size());
            return socket.getLocalPort();
        } finally {
            lifecycleLock.unlock();
        }
    }

    public int port() {
        ServerSocket socket = serverSocket;
        if (socket == null) {
            throw new IllegalStateException("server not started");
        }
        return socket.getLocalPort();
    }

    /** Connections currently open (handshaking or established). */
    public int openConnections() {
        return connections.size();
    }

    /** True once shutdown has told every connection to refuse new requests. */
    boolean isDraining() {
        return draining;
    }

    public boolean isRunning() {
        return serverSocket != null && !stopping;
    }

    private void acceptLoop() {
        ServerSocket socket = serverSocket;
        while (!stopping) {
            Socket accepted;
            try {
                accepted = socket.accept();
            } catch (IOException e) {
                if (stopping) {
                    break;
                }
                LOG.warn("accept failed on port {}: {}", socket.getLocalPort(), e.toString());
                pauseAfterAcceptFailure();
                continue;
            }
            onAccepted(accepted);
        }
    }

    private static void pauseAfterAcceptFailure() {
        // Out of file descriptors and the like: don't spin while the condition lasts.
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watchReads() {
        while (watching) {
            long now = System.nanoTime();
            for (ServerConnection connection : connections) {
                connection.expireReadIfDue(now);
            }
            watchdogSleep.sleep(!connections.isEmpty(), () -> !connections.isEmpty());
        }
    }

    private void onAccepted(Socket socket) {
        try {
            socket.setTcpNoDelay(true);
            if (stopping || connections.size() >= config.maxConnections()) {
                String reason = stopping ? "server is shutting down"
                        : "server is at its limit of " + config.maxConnections() + " connections";
                if (config.tls() != null) {
                    // The refusal frame would need a TLS handshake first, on this accept thread:
                    // a client that stalls it would stall every accept. Just close.
                    LOG.warn("refusing connection from {}: {} (closed without a reply: TLS)", socket.getRemoteSocketAddress(), reason);
                    closeQuietly(socket);
                    return;
                }
                refuse(socket, stopping ? ErrorReply.Code.CODE_SHUTTING_DOWN : ErrorReply.Code.CODE_OVERLOADED, reason);
                return;
            }
            // With TLS the handshake happens on the connection's reader thread, at its first read.
            Socket secured = config.tls() == null ? socket : config.tls().wrapAccepted(socket);
            ServerConnection connection = new ServerConnection(this, secured, socket, config, handlers, compression, traffic);
            connections.add(connection);
            watchdogSleep.workAdded();
            connection.start();
        } catch (IOException e) {
            warnRateLimited(LOG, "could not set up connection from {}: {}", socket.getRemoteSocketAddress(), e.toString());
            closeQuietly(socket);
        }
    }

    /** Tells the peer why with one error frame (a fresh socket's send buffer takes it at once). */
    private void refuse(Socket socket, ErrorReply.Code code, String reason) {
        warnRateLimited(LOG, "refusing connection from {}: {}", socket.getRemoteSocketAddress(), reason);
        ErrorReply error = ErrorReply.newBuilder().setCode(code).setMessage(reason).build();
        try {
            socket.getOutputStream().write(FrameCodec.encodeToArray(FrameType.RESPONSE, FrameFlags.ERROR, 0, 0, error));
        } catch (IOException e) {
            LOG.debug("could not send the refusal to {}", socket.getRemoteSocketAddress(), e);
        }
        closeQuietly(socket);
    }

    /**
     * Logs a warning about a bad connection ({@code format} with two arguments) to {@code log} at WARN within
     * {@link #PROTOCOL_WARNINGS_PER_MINUTE}, else at DEBUG; {@link ServerConnection} logs its
     * protocol errors through here too.
     */
    void warnRateLimited(Logger log, String format, Object first, Object second) {
        long leftOut = protocolWarnings.admit();
        if (leftOut < 0) {
            log.debug(format, first, second);
        } else {
            log.warn(format + "{}", first, second, WarningRateLimit.suffix(leftOut));
        }
    }

    /** Bad connections seen (protocol errors, refused handshakes, refusals), whether logged at WARN or not. */
    public long protocolErrors() {
        return protocolWarnings.events();
    }

    /** Warnings about bad connections left out of the log by the rate limit. */
    public long protocolWarningsSuppressed() {
        return protocolWarnings.suppressed();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("error closing socket", e);
        }
    }

    void onConnectionClosed(ServerConnection connection) {
        connections.remove(connection);
    }

    /**
     * Stops accepting, answers new requests with {@code CODE_SHUTTING_DOWN}, lets requests in flight
     * finish for up to {@code grace}, fails the rest with {@code CODE_SHUTTING_DOWN}, writes every
     * queued answer and closes all connections. Idempotent.
     */
    public void shutdown(Duration grace) {
        lifecycleLock.lock();
        try {
            if (stopped) {
                return;
            }
            stopped = true;
            stopping = true;
            shutdownLocked(grace);
        } finally {
            lifecycleLock.unlock();
        }
    }

    private void shutdownLocked(Duration grace) {
        if (serverSocket != null) {
            closeQuietlyServer(serverSocket);
            joinQuietly(acceptThread, grace.toMillis() + 1000);
        }
        List<ServerConnection> open = List.copyOf(connections);
        open.forEach(ServerConnection::beginDrain);
        draining = true;
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            while (System.nanoTime() < deadline && open.stream().anyMatch(c -> c.callsInFlight() > 0)) {
                Thread.sleep(5);
            }
            int unfinished = open.stream().mapToInt(ServerConnection::callsInFlight).sum();
            if (unfinished > 0) {
                LOG.info("shutdown grace of {} ms over: failing {} requests still in flight", grace.toMillis(),
                        unfinished);
            }
            for (ServerConnection connection : open) {
                connection.finishShutdown(1000);
            }
            for (ServerConnection connection : open) {
                connection.awaitReader(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            open.forEach(c -> c.close("server shutdown interrupted", false));
        }
        watching = false; // Every connection is closed by now.
        if (watchdogThread != null) {
            watchdogThread.interrupt();
        }
        LOG.info("rpc server on port {} stopped", serverSocket == null ? -1 : serverSocket.getLocalPort());
    }

    private static void closeQuietlyServer(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("error closing server socket", e);
        }
    }

    private static void joinQuietly(Thread thread, long millis) {
        try {
            thread.join(Duration.ofMillis(millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link #shutdown} with a 5 second grace. */
    @Override
    public void close() {
        shutdown(DEFAULT_SHUTDOWN_GRACE);
    }
}
