package io.loomkv.net.resp;

import io.loomkv.net.log.LogContext;
import io.loomkv.net.rpc.WarningRateLimit;
import io.loomkv.net.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server that speaks the Redis protocol (RESP2, and RESP3 after {@code HELLO 3}) on blocking
 * sockets: an accept loop on a virtual thread and two virtual threads per connection (see
 * {@link RespConnection}), answering from a {@link RespBackend}. Connections over the limit are
 * told {@code -ERR max number of clients reached} and closed, as Redis does.
 *
 * <p>With a {@link TlsContext} every connection speaks TLS (what {@code redis-cli --tls}, Jedis
 * with {@code ssl=true} and Lettuce with SSL expect); the handshake runs on the connection's
 * reader thread, bounded by {@link #HANDSHAKE_TIMEOUT_MILLIS}, so a stalled client never holds up
 * the accept loop. Bad connections (protocol errors, failed handshakes) are logged at WARN at most
 * {@link #BAD_CONNECTION_WARNINGS_PER_MINUTE} times a minute, the rest at DEBUG.
 */
public final class RespServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RespServer.class);
    private static final int ACCEPT_BACKLOG = 511;
    /** A TLS client that has not finished its handshake by then is cut off. */
    static final int HANDSHAKE_TIMEOUT_MILLIS = 10_000;
    static final int BAD_CONNECTION_WARNINGS_PER_MINUTE = 20;
    /** The reply-timeout sweep runs at least this often (more often for timeouts under 8 s: an eighth of the timeout). */
    private static final long MAX_REPLY_SWEEP_INTERVAL_MILLIS = 1_000;

    private final RespServerConfig config;
    private final RespBackend backend;
    /** Null: plain TCP. */
    private final TlsContext tls;
    private final WarningRateLimit badConnections = new WarningRateLimit(BAD_CONNECTION_WARNINGS_PER_MINUTE,
            Duration.ofMinutes(1));
    private final RespCommandTable table = RespCommandTable.standard();
    private final ScanCursors cursors;
    private final Set<RespConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextClientId = new AtomicLong(1);
    private final ReentrantLock lifecycleLock = new ReentrantLock();
    private final long startedAtMillis = System.currentTimeMillis();
    private ServerSocket serverSocket;
    private Thread acceptThread;
    private Thread replySweepThread;
    private volatile boolean stopping;

    public RespServer(RespServerConfig config, RespBackend backend) {
        this(config, backend, null);
    }

    /** A server whose connections speak TLS with {@code tls} (null: plain TCP). */
    public RespServer(RespServerConfig config, RespBackend backend, TlsContext tls) {
        this.config = config;
        this.backend = backend;
        this.tls = tls;
        this.cursors = new ScanCursors(config.maxScanCursors());
    }

    /** Binds and starts accepting; returns the bound port (useful with port 0). */
    public int start(InetSocketAddress bindAddress) throws IOException {
        lifecycleLock.lock();
        try {
            if (serverSocket != null || stopping) {
                throw new IllegalStateException("resp server already started or stopped");
            }
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(bindAddress, ACCEPT_BACKLOG);
            serverSocket = socket;
            acceptThread = Thread.ofVirtual().name("resp-accept-" + socket.getLocalPort()).start(LogContext.inheritNode(this::acceptLoop));
            replySweepThread = Thread.ofVirtual().name("resp-reply-timeouts-" + socket.getLocalPort())
                    .start(LogContext.inheritNode(this::expireOverdueReplies));
            LOG.info("resp server listening on {} ({} commands{})", socket.getLocalSocketAddress(), table.size(),
                    tls == null ? "" : tls.files().requireClientCert() ? ", TLS with client certificates" : ", TLS");
            return socket.getLocalPort();
        } finally {
            lifecycleLock.unlock();
        }
    }

    public int port() {
        ServerSocket socket = serverSocket;
        if (socket == null) {
            throw new IllegalStateException("resp server not started");
        }
        return socket.getLocalPort();
    }

    /** Connections currently open. */
    public int openConnections() {
        return connections.size();
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
                LOG.warn("resp accept failed on port {}: {}", socket.getLocalPort(), e.toString());
                pauseAfterAcceptFailure();
                continue;
            }
            onAccepted(accepted);
        }
    }

    /**
     * Answers an error in place of each reply the backend has not given within the reply timeout,
     * checking every connection's oldest reply a few times per timeout. One sweep for the server
     * instead of a timer per request: a connection's writer then waits for a reply without a
     * deadline of its own, which a virtual thread pays for with a scheduled task per wait.
     */
    private void expireOverdueReplies() {
        long intervalMillis = Math.clamp(config.replyTimeout().toMillis() / 8, 1, MAX_REPLY_SWEEP_INTERVAL_MILLIS);
        while (!stopping) {
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                return; // Shutdown.
            }
            long nowNanos = System.nanoTime();
            for (RespConnection connection : connections) {
                connection.expireOverdueReply(nowNanos);
            }
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

    private void onAccepted(Socket socket) {
        try {
            socket.setTcpNoDelay(true);
            if (stopping || connections.size() >= config.maxConnections()) {
                String reason = stopping ? "ERR server is shutting down" : "ERR max number of clients reached";
                if (tls != null) {
                    // The error would need a TLS handshake first, on this accept thread: a stalled client would stall every accept.
                    warnBadConnection("refusing resp connection from {}: {} (closed without a reply: TLS)",
                            socket.getRemoteSocketAddress(), reason);
                    closeQuietly(socket);
                    return;
                }
                refuse(socket, reason);
                return;
            }
            // With TLS the handshake happens on the connection's reader thread, at its start.
            Socket secured = tls == null ? socket : tls.wrapAccepted(socket);
            RespSession session = new RespSession(nextClientId.getAndIncrement(), socket.getRemoteSocketAddress(),
                    System.currentTimeMillis());
            CommandContext context = new CommandContext(session, backend.forConnection(session::readOnly), config, cursors, table,
                    new CommandContext.ServerFacts(startedAtMillis, socket.getLocalPort(), connections::size));
            RespConnection connection = new RespConnection(this, secured, socket, config, new RespDispatcher(context));
            connections.add(connection);
            connection.start();
        } catch (IOException e) {
            LOG.warn("could not set up resp connection from {}: {}", socket.getRemoteSocketAddress(), e.toString());
            closeQuietly(socket);
        }
    }

    /**
     * Logs a bad connection ({@code format} with two arguments) at WARN within
     * {@link #BAD_CONNECTION_WARNINGS_PER_MINUTE}, else at DEBUG: a flood of junk connections must not flood the log.
     */
    void warnBadConnection(String format, Object first, Object second) {
        long leftOut = badConnections.admit();
        if (leftOut < 0) {
            LOG.debug(format, first, second);
        } else {
            LOG.warn(format + "{}", first, second, WarningRateLimit.suffix(leftOut));
        }
    }

    /** Bad connections seen (protocol errors, failed TLS handshakes, refusals), logged at WARN or not. */
    public long badConnections() {
        return badConnections.events();
    }

    /** One error line (a fresh socket's send buffer takes it at once), then close. */
    private void refuse(Socket socket, String errorText) {
        warnBadConnection("refusing resp connection from {}: {}", socket.getRemoteSocketAddress(), errorText);
        try {
            socket.getOutputStream().write(("-" + errorText + "\r\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.debug("could not send the refusal to {}", socket.getRemoteSocketAddress(), e);
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("error closing socket", e);
        }
    }

    void onConnectionClosed(RespConnection connection) {
        connections.remove(connection);
    }

    /**
     * Stops accepting and closes every connection (replies not yet written are dropped, as when
     * Redis shuts down; the writes under them complete or not in the cluster as they would for a
     * client that disconnected). Idempotent.
     */
    public void shutdown(Duration grace) {
        lifecycleLock.lock();
        try {
            if (stopping) {
                return;
            }
            stopping = true;
            if (serverSocket != null) {
                try {
                    serverSocket.close();
                } catch (IOException e) {
                    LOG.debug("error closing the resp server socket", e);
                }
                acceptThread.join(grace);
                replySweepThread.interrupt();
                replySweepThread.join(grace);
            }
            List<RespConnection> open = List.copyOf(connections);
            open.forEach(c -> c.close("server shutdown"));
            for (RespConnection connection : open) {
                connection.awaitExit(grace.toMillis());
            }
            LOG.info("resp server on port {} stopped", serverSocket == null ? -1 : serverSocket.getLocalPort());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lifecycleLock.unlock();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(5));
    }
}
