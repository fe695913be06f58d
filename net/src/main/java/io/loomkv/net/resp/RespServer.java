package io.loomkv.net.resp;

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
 */
public final class RespServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RespServer.class);
    private static final int ACCEPT_BACKLOG = 511;

    private final RespServerConfig config;
    private final RespBackend backend;
    private final RespCommandTable table = RespCommandTable.standard();
    private final ScanCursors cursors;
    private final Set<RespConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong nextClientId = new AtomicLong(1);
    private final ReentrantLock lifecycleLock = new ReentrantLock();
    private final long startedAtMillis = System.currentTimeMillis();
    private ServerSocket serverSocket;
    private Thread acceptThread;
    private volatile boolean stopping;

    public RespServer(RespServerConfig config, RespBackend backend) {
        this.config = config;
        this.backend = backend;
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
            acceptThread = Thread.ofVirtual().name("resp-accept-" + socket.getLocalPort()).start(this::acceptLoop);
            LOG.info("resp server listening on {} ({} commands)", socket.getLocalSocketAddress(), table.size());
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
                refuse(socket, stopping ? "ERR server is shutting down" : "ERR max number of clients reached");
                return;
            }
            RespSession session = new RespSession(nextClientId.getAndIncrement(), socket.getRemoteSocketAddress(),
                    System.currentTimeMillis());
            CommandContext context = new CommandContext(session, backend.forConnection(session::readOnly), config, cursors, table,
                    new CommandContext.ServerFacts(startedAtMillis, socket.getLocalPort(), connections::size));
            RespConnection connection = new RespConnection(this, socket, config, new RespDispatcher(context));
            connections.add(connection);
            connection.start();
        } catch (IOException e) {
            LOG.warn("could not set up resp connection from {}: {}", socket.getRemoteSocketAddress(), e.toString());
            closeQuietly(socket);
        }
    }

    /** One error line (a fresh socket's send buffer takes it at once), then close. */
    private static void refuse(Socket socket, String errorText) {
        LOG.warn("refusing resp connection from {}: {}", socket.getRemoteSocketAddress(), errorText);
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
