package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.tls.TlsFailures;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One RESP connection: a reader virtual thread parses requests and starts them (they may run
 * concurrently, see {@link PipelineOrder}); a writer virtual thread takes their replies in request
 * order as they complete ({@link ReplyQueue}), encodes them into one buffer and writes it when no
 * further reply is ready, so a pipeline's replies leave in few socket writes. A protocol error is
 * answered, after every reply before it, with {@code -ERR Protocol error: ...}, and the connection
 * closes; nothing else is affected.
 */
final class RespConnection {
    private static final Logger LOG = LoggerFactory.getLogger(RespConnection.class);
    /** Encoded replies beyond this are written even when more are ready, to bound the buffer. */
    private static final int FLUSH_THRESHOLD_BYTES = 64 * 1024;

    private final RespServer server;
    private final Socket socket;
    /** The TCP socket under {@code socket} (the same one without TLS): closed first, see {@link #close}. */
    private final Socket transport;
    private final RespServerConfig config;
    private final RespDispatcher dispatcher;
    private final String description;
    private final ReplyQueue replies = new ReplyQueue();
    /** Requests read and not yet answered; the reader takes one per request, the writer gives it back. */
    private final Semaphore inFlightPermits;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread readerThread;
    private final Thread writerThread;
    /** When the writer's current socket write started (System.nanoTime()), or 0 while it is not writing. */
    private volatile long writeStartedNanos;

    RespConnection(RespServer server, Socket socket, Socket transport, RespServerConfig config, RespDispatcher dispatcher) {
        this.server = server;
        this.socket = socket;
        this.transport = transport;
        this.config = config;
        this.dispatcher = dispatcher;
        this.description = RespArgs.hostPort(socket.getRemoteSocketAddress());
        this.inFlightPermits = new Semaphore(config.maxInFlightPerConnection());
        this.readerThread = Thread.ofVirtual().name("resp-read-" + description).unstarted(LogContext.inheritNode(this::readLoop));
        this.writerThread = Thread.ofVirtual().name("resp-write-" + description).unstarted(LogContext.inheritNode(this::writeLoop));
        replies.writerIs(writerThread);
    }

    void start() {
        writerThread.start();
        readerThread.start();
    }

    private void readLoop() {
        try {
            if (socket instanceof SSLSocket tls && !handshake(tls)) {
                return;
            }
            RespParser parser = RespParser.of(socket.getInputStream(), config);
            while (true) {
                List<ByteString> request = parser.next();
                if (request == null) {
                    replies.add(ReplyQueue.Entry.endOfInput()); // Answer what was read, then close.
                    return;
                }
                if (request.isEmpty()) {
                    continue;
                }
                if (!inFlightPermits.tryAcquire(config.inFlightWait().toMillis(), TimeUnit.MILLISECONDS)) {
                    finishWith("ERR Protocol error: more than " + config.maxInFlightPerConnection()
                            + " requests in flight for " + config.inFlightWait().toMillis() + " ms");
                    return;
                }
                CompletableFuture<RespReply> reply = dispatcher.dispatch(request);
                RespSession session = dispatcher.session();
                replies.add(ReplyQueue.Entry.of(reply, session.protocol(), session.closeRequested()));
                if (session.closeRequested()) {
                    return;
                }
            }
        } catch (RespProtocolException e) {
            server.warnBadConnection("resp connection {}: protocol error: {}", description, e.getMessage());
            finishWithQuietly(e.errorText());
        } catch (EOFException e) {
            // The client went away inside a request: answer the whole ones before it, as at a clean end.
            LOG.debug("resp connection {}: {}", description, e.getMessage());
            replies.add(ReplyQueue.Entry.endOfInput());
        } catch (IOException e) {
            close(closed.get() ? "closed" : "read failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close("reader interrupted");
        }
    }

    /** Runs the TLS handshake within a bound: a client that connects and stalls must not hold two threads for ever. */
    private boolean handshake(SSLSocket tls) throws IOException {
        try {
            tls.setSoTimeout(RespServer.HANDSHAKE_TIMEOUT_MILLIS);
            tls.startHandshake();
            tls.setSoTimeout(0); // Redis clients may idle as long as they like.
            return true;
        } catch (SSLException e) {
            server.warnBadConnection("resp connection {}: {}", description, TlsFailures.describe(e));
            close("TLS handshake failed");
            return false;
        } catch (SocketTimeoutException e) {
            server.warnBadConnection("resp connection {}: {}", description,
                    "no TLS handshake within " + RespServer.HANDSHAKE_TIMEOUT_MILLIS + " ms");
            close("TLS handshake timed out");
            return false;
        }
    }

    /**
     * Queues a last error reply (after every reply before it); the writer closes the connection
     * after it. A client that reads no replies keeps the writer blocked in its socket write: once one
     * write has been blocked for {@code inFlightWait}, the connection is cut off without the error.
     */
    private void finishWith(String errorText) throws InterruptedException {
        replies.add(ReplyQueue.Entry.of(CompletableFuture.completedFuture(RespReply.error(errorText)),
                dispatcher.session().protocol(), true));
        long waitNanos = config.inFlightWait().toNanos();
        while (!writerThread.join(config.inFlightWait())) {
            long started = writeStartedNanos;
            if (started != 0 && System.nanoTime() - started > waitNanos) {
                close("the client read no replies for " + config.inFlightWait().toMillis() + " ms, after: " + errorText);
                return;
            }
            // Otherwise the writer waits for the backend's replies, each bounded by the reply timeout.
        }
    }

    /** Writes the encoded replies, noting when a write started so a client that reads nothing can be told apart. */
    private void flush(RespEncoder encoder, OutputStream out) throws IOException {
        if (encoder.length() == 0) {
            return;
        }
        writeStartedNanos = System.nanoTime() | 1; // Never 0, which means "not writing".
        try {
            encoder.flushTo(out);
        } finally {
            writeStartedNanos = 0;
        }
    }

    private void finishWithQuietly(String errorText) {
        try {
            finishWith(errorText);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close("reader interrupted");
        }
    }

    private void writeLoop() {
        RespEncoder encoder = new RespEncoder();
        try {
            OutputStream out = socket.getOutputStream();
            while (true) {
                ReplyQueue.Entry entry = replies.pollReady();
                if (entry == null) {
                    // Nothing more to add to this write: send what is encoded, then wait for the next reply.
                    flush(encoder, out);
                    entry = replies.takeReady();
                }
                if (entry.isEndOfInput()) {
                    flush(encoder, out);
                    close("peer closed its side");
                    return;
                }
                encoder.write(replyOf(entry), entry.protocol());
                if (entry.last()) {
                    flush(encoder, out);
                    close("answered its last request");
                    return;
                }
                inFlightPermits.release();
                if (encoder.length() >= FLUSH_THRESHOLD_BYTES) {
                    flush(encoder, out);
                }
            }
        } catch (IOException e) {
            close(closed.get() ? "closed" : "write failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close("writer interrupted");
        }
    }

    /** The entry's reply (done), or an error in its place when it is overdue or failed. */
    private RespReply replyOf(ReplyQueue.Entry entry) {
        CompletableFuture<RespReply> reply = entry.reply();
        if (!reply.isDone()) {
            return RespReply.error("ERR no answer within " + config.replyTimeout().toMillis()
                    + " ms (a write may or may not have been applied)");
        }
        try {
            return reply.join();
        } catch (CompletionException | CancellationException e) {
            return RespDispatcher.errorReply("?", e);
        }
    }

    /** Called by the server's sweep: an error goes out in place of a reply overdue by the reply timeout. */
    void expireOverdueReply(long nowNanos) {
        replies.expireOldest(nowNanos, config.replyTimeout().toNanos());
    }

    /**
     * Closes the socket (which ends the other thread's blocking call) once. The TCP socket goes
     * first: closing a TLS socket sends close_notify under the lock a writer stuck on a client that
     * reads nothing holds, so it would wait for that writer for ever.
     */
    void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.debug("resp connection {} closed: {}", description, reason);
        try {
            if (transport != socket) {
                transport.close();
            }
            socket.close();
        } catch (IOException e) {
            LOG.debug("resp connection {}: error closing: {}", description, e.toString());
        }
        readerThread.interrupt();
        writerThread.interrupt();
        dispatcher.connectionClosed();
        server.onConnectionClosed(this);
    }

    boolean awaitExit(long millis) throws InterruptedException {
        return readerThread.join(java.time.Duration.ofMillis(millis)) && writerThread.join(java.time.Duration.ofMillis(millis));
    }
}
