package io.loomkv.net.rpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameFormatException;
import io.loomkv.net.frame.FrameHeader;
import io.loomkv.net.frame.FrameReader;
import io.loomkv.net.frame.ReadDeadline;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.frame.IdleTimeoutException;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.proto.ErrorReply;
import io.loomkv.net.proto.Hello;
import io.loomkv.net.tls.TlsFailures;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted connection: a virtual thread reads frames and dispatches them, a {@link FrameWriter}
 * sends the answers. Whatever goes wrong on it closes this connection only, with one log line.
 */
final class ServerConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerConnection.class);
    /** Room in the send queue beyond the in-flight limit, for the handshake reply. */
    private static final int CONTROL_FRAME_SLACK = 16;

    /** A request being served; answered at most once (by its handler or by shutdown). */
    private static final class ServerCall {
        final long requestId;
        final int methodId;
        final AtomicBoolean answered = new AtomicBoolean();

        ServerCall(long requestId, int methodId) {
            this.requestId = requestId;
            this.methodId = methodId;
        }
    }

    private final RpcServer server;
    private final Socket socket;
    /** The TCP socket under {@link #socket}: the same one without TLS. */
    private final Socket transport;
    private final RpcServerConfig config;
    private final RpcHandlers handlers;
    private final String description;
    private final FrameReader reader;
    private final FrameWriter writer;
    private final Semaphore inFlightPermits;
    private final ConcurrentHashMap<Long, ServerCall> calls = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread readerThread;
    private volatile boolean draining;
    private volatile CallContext context;
    private final ReadDeadline readDeadline;

    ServerConnection(RpcServer server, Socket socket, Socket transport, RpcServerConfig config, RpcHandlers handlers,
            FrameCompression compression, TrafficObserver traffic) throws IOException {
        this.server = server;
        this.socket = socket;
        this.transport = transport;
        this.config = config;
        this.handlers = handlers;
        this.description = String.valueOf(socket.getRemoteSocketAddress());
        this.readDeadline = new ReadDeadline(this::shutInput);
        this.reader = new FrameReader(TrafficObserver.counting(socket.getInputStream(), traffic), readDeadline, config.maxFrameSizeBytes(),
                config.partialFrameTimeout().toMillis(), config.partialFrameTimeout().toMillis(),
                compression.decoder());
        this.inFlightPermits = new Semaphore(config.maxInFlightPerConnection());
        this.writer = new FrameWriter(TrafficObserver.counting(socket.getOutputStream(), traffic), config.maxInFlightPerConnection() + CONTROL_FRAME_SLACK,
                compression.encoder(), config.compressThresholdBytes(), inFlightPermits::release,
                e -> close("write failed: " + e.getMessage(), false), "rpc-write-" + description);
        this.readerThread = Thread.ofVirtual().name("rpc-read-" + description).unstarted(LogContext.inheritNode(this));
    }

    void start() {
        writer.batchOffersFrom(readerThread);
        writer.start();
        readerThread.start();
    }

    String description() {
        return description;
    }

    /** Called by the server's read watchdog: cuts the reader's blocking read off if it is past its limit. */
    void expireReadIfDue(long nowNanos) {
        readDeadline.expireIfDue(nowNanos);
    }

    /**
     * Ends the blocked read (it sees end of stream) without touching the writer's half of the
     * socket. Under TLS the TCP socket's input is shut: JSSE's own shutdownInput insists on the
     * peer's close_notify first.
     */
    private void shutInput() {
        try {
            transport.shutdownInput();
        } catch (IOException e) {
            LOG.debug("connection {}: shutting input after a read timeout: {}", description, e.toString());
        }
    }

    int callsInFlight() {
        return calls.size();
    }

    @Override
    public void run() {
        String reason = "peer closed the connection";
        boolean suspicious = false;
        try {
            if (!handshake()) {
                return;
            }
            writer.wakeIfQueued();
            while (serveFrames()) {
                // See ReentryLoops: a bounded batch per call keeps the frames' handling on current code.
            }
        } catch (FrameFormatException | ProtocolViolationException e) {
            reason = "protocol error: " + e.getMessage();
            suspicious = true;
        } catch (IdleTimeoutException e) {
            reason = e.getMessage();
        } catch (SocketTimeoutException e) {
            reason = e.getMessage();
            suspicious = true;
        } catch (SSLException e) {
            reason = TlsFailures.describe(e);
            suspicious = true;
        } catch (IOException e) {
            reason = "I/O error: " + e.getMessage();
        } catch (InterruptedException e) {
            reason = "reader interrupted";
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            reason = "internal error: " + e;
            LOG.error("connection {}: unexpected failure in the reader", description, e);
        }
        close(reason, suspicious);
    }

    /** Serves up to {@link ReentryLoops#ITERATIONS_PER_CALL} frames; false at the end of the stream. */
    private boolean serveFrames() throws IOException, InterruptedException {
        for (int i = 0; i < ReentryLoops.ITERATIONS_PER_CALL; i++) {
            FrameHeader header = reader.next();
            if (header == null) {
                return false;
            }
            switch (header.type()) {
                case REQUEST -> onRequest(header);
                case ONE_WAY -> onOneWay(header);
                case HELLO, RESPONSE -> throw new ProtocolViolationException(
                        "unexpected " + header.type() + " frame from a client/peer after the handshake");
            }
            if (!reader.hasCompleteFrameBuffered()) {
                writer.wakeIfQueued();
            }
        }
        return true;
    }

    /** Reads and checks the Hello. Returns false when the connection was refused and is closing. */
    private boolean handshake() throws IOException {
        FrameHeader header = reader.next();
        if (header == null) {
            throw new ProtocolViolationException("closed before the handshake");
        }
        if (header.type() != FrameType.HELLO) {
            throw new ProtocolViolationException("first frame must be HELLO, got " + header.type());
        }
        Hello hello;
        try {
            hello = Hello.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
        } catch (InvalidProtocolBufferException e) {
            throw new FrameFormatException("garbage Hello body: " + e.getMessage(), e);
        }
        String refusal = refusalReason(hello);
        if (refusal != null) {
            refuse(refusal);
            return false;
        }
        context = new CallContext(hello.getRole(), hello.getNodeId(), socket.getRemoteSocketAddress());
        Hello reply = Hello.newBuilder().setRole(Hello.Role.ROLE_PEER).setClusterId(config.clusterId())
                .setNodeId(config.nodeId()).build();
        if (!writer.offer(new OutboundFrame(FrameType.HELLO, 0, 0, 0, reply, false))) {
            throw new IOException("send queue refused the handshake reply");
        }
        reader.setIdleTimeoutMillis(config.readIdleTimeout().toMillis());
        try {
            handlers.handshakeListener().accept(context);
        } catch (RuntimeException e) {
            LOG.warn("connection {}: handshake listener failed: {}", description, e.toString());
        }
        return true;
    }

    private String refusalReason(Hello hello) {
        return switch (hello.getRole()) {
            case ROLE_PEER -> hello.getClusterId().equals(config.clusterId()) ? null
                    : "peer presented cluster id '" + hello.getClusterId() + "', this cluster is '"
                            + config.clusterId() + "'";
            case ROLE_CLIENT -> hello.getClusterId().isEmpty() || hello.getClusterId().equals(config.clusterId())
                    ? null
                    : "client asked for cluster '" + hello.getClusterId() + "', this cluster is '"
                            + config.clusterId() + "'";
            default -> "unknown role " + hello.getRoleValue() + " in Hello";
        };
    }

    private void refuse(String reason) {
        ErrorReply error = ErrorReply.newBuilder().setCode(ErrorReply.Code.CODE_PERMISSION_DENIED)
                .setMessage("handshake refused: " + reason).build();
        writer.offer(new OutboundFrame(FrameType.RESPONSE, FrameFlags.ERROR, 0, 0, error, false));
        writer.closeAfterFlush();
        try {
            writer.awaitExit(config.partialFrameTimeout().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close("handshake refused: " + reason, true);
    }

    private void onRequest(FrameHeader header) throws IOException, InterruptedException {
        acquirePermit();
        if (draining) {
            sendError(header, ErrorReply.Code.CODE_SHUTTING_DOWN, "server is shutting down");
            return;
        }
        RpcHandlers.Entry entry = handlers.lookup(header.methodId());
        if (entry == null || entry.isOneWay()) {
            sendError(header, ErrorReply.Code.CODE_UNKNOWN_METHOD,
                    "no request/response method " + MethodIds.describe(header.methodId()));
            return;
        }
        if (entry.access() == MethodAccess.PEER_ONLY && !context.isPeer()) {
            sendError(header, ErrorReply.Code.CODE_PERMISSION_DENIED,
                    "method " + entry.name() + " is for peers only; this is a client connection");
            return;
        }
        MessageLite request = parse(entry, header);
        long requestId = header.requestId();
        int methodId = header.methodId();
        CompletionStage<MessageLite> stage;
        try {
            stage = entry.requestHandler().handle(request, context);
        } catch (RuntimeException e) {
            sendAnswer(requestId, methodId, null, e);
            return;
        }
        if (stage == null) {
            sendAnswer(requestId, methodId, null,
                    new IllegalStateException("handler of " + entry.name() + " returned null"));
            return;
        }
        if (stage instanceof CompletableFuture<MessageLite> future && future.isDone()) {
            // Answered at once, the common case for simple handlers: nothing to track for shutdown.
            future.whenComplete((response, failure) -> sendAnswer(requestId, methodId, response, failure));
            return;
        }
        ServerCall call = new ServerCall(requestId, methodId);
        if (calls.putIfAbsent(requestId, call) != null) {
            throw new ProtocolViolationException("request id " + requestId + " reused while still in flight");
        }
        stage.whenComplete((response, failure) -> answer(call, response, failure));
    }

    private void acquirePermit() throws InterruptedException, SocketTimeoutException {
        if (inFlightPermits.tryAcquire()) {
            return;
        }
        writer.wakeIfQueued(); // The permits come back only once our queued answers are written.
        long waitMillis = config.readIdleTimeout().toMillis();
        if (waitMillis == 0) {
            inFlightPermits.acquire();
        } else if (!inFlightPermits.tryAcquire(waitMillis, TimeUnit.MILLISECONDS)) {
            throw new SocketTimeoutException("peer did not take its responses for " + waitMillis + " ms with "
                    + config.maxInFlightPerConnection() + " requests in flight");
        }
    }

    private MessageLite parse(RpcHandlers.Entry entry, FrameHeader header) throws FrameFormatException {
        try {
            return entry.requestParser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
        } catch (InvalidProtocolBufferException e) {
            if (header.type() == FrameType.REQUEST) {
                inFlightPermits.release();
            }
            throw new FrameFormatException("garbage body for " + entry.name() + ": " + e.getMessage(), e);
        }
    }

    private void onOneWay(FrameHeader header) throws IOException {
        RpcHandlers.Entry entry = handlers.lookup(header.methodId());
        if (entry == null || !entry.isOneWay()) {
            LOG.debug("connection {}: dropped one-way message for unknown method {}", description,
                    MethodIds.describe(header.methodId()));
            return;
        }
        if (entry.access() == MethodAccess.PEER_ONLY && !context.isPeer()) {
            throw new ProtocolViolationException("client connection sent peer-only message " + entry.name());
        }
        MessageLite message = parse(entry, header);
        if (draining) {
            return;
        }
        try {
            entry.oneWayHandler().handle(message, context);
        } catch (RuntimeException e) {
            LOG.warn("connection {}: handler of one-way {} failed; message dropped", description, entry.name(), e);
        }
    }

    /** Answers a request that never reached a handler; its permit comes back when written. */
    private void sendError(FrameHeader header, ErrorReply.Code code, String message) throws IOException {
        OutboundFrame frame = errorFrame(header.requestId(), header.methodId(), code, message);
        if (!writer.offer(frame)) {
            inFlightPermits.release();
            throw new IOException("send queue closed or full");
        }
    }

    private static OutboundFrame errorFrame(long requestId, int methodId, ErrorReply.Code code, String message) {
        ErrorReply error = ErrorReply.newBuilder().setCode(code).setMessage(message).build();
        return new OutboundFrame(FrameType.RESPONSE, FrameFlags.ERROR, requestId, methodId, error, true);
    }

    /** Sends the outcome of a tracked call, once; any thread. */
    private void answer(ServerCall call, MessageLite response, Throwable failure) {
        if (!call.answered.compareAndSet(false, true)) {
            return;
        }
        calls.remove(call.requestId, call);
        sendAnswer(call.requestId, call.methodId, response, failure);
    }

    /** Queues the RESPONSE for a request; its in-flight permit comes back once it is written. */
    private void sendAnswer(long requestId, int methodId, MessageLite response, Throwable failure) {
        OutboundFrame frame;
        if (failure != null) {
            frame = failureFrame(requestId, methodId, failure);
        } else if (response == null) {
            frame = errorFrame(requestId, methodId, ErrorReply.Code.CODE_INTERNAL, "handler completed with no response");
        } else if (FrameCodec.HEADER_SIZE_BYTES + (long) response.getSerializedSize() > config.maxFrameSizeBytes()) {
            frame = errorFrame(requestId, methodId, ErrorReply.Code.CODE_TOO_LARGE, "response of "
                    + response.getSerializedSize() + " bytes exceeds the frame limit " + config.maxFrameSizeBytes());
        } else {
            frame = new OutboundFrame(FrameType.RESPONSE, 0, requestId, methodId, response, true);
        }
        if (!writer.offer(frame)) {
            inFlightPermits.release();
            if (!closed.get() && !draining) {
                IOException writeFailure = writer.failure();
                if (writeFailure != null) {
                    close("write failed: " + writeFailure.getMessage(), false);
                } else {
                    close("send queue refused a response (queue full)", true);
                }
            }
        }
    }

    private OutboundFrame failureFrame(long requestId, int methodId, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof RpcException rpc) {
            String detail = rpc.detail();
            return errorFrame(requestId, methodId, rpc.code(), detail == null ? "" : detail);
        }
        LOG.debug("connection {}: handler of method {} failed", description, MethodIds.describe(methodId), cause);
        return errorFrame(requestId, methodId, ErrorReply.Code.CODE_INTERNAL, String.valueOf(cause));
    }

    /** Shutdown, step 1: new requests are answered with CODE_SHUTTING_DOWN. */
    void beginDrain() {
        draining = true;
    }

    /** Shutdown, step 2: fails what is still in flight, writes everything queued, closes. */
    void finishShutdown(long flushTimeoutMillis) throws InterruptedException {
        draining = true;
        for (ServerCall call : calls.values()) {
            if (call.answered.compareAndSet(false, true)) {
                calls.remove(call.requestId, call);
                writer.offer(errorFrame(call.requestId, call.methodId, ErrorReply.Code.CODE_SHUTTING_DOWN,
                        "server shut down before the request finished"));
            }
        }
        writer.closeAfterFlush();
        writer.awaitExit(flushTimeoutMillis);
        close("server shut down", false);
    }

    /** Closes the socket and releases everything; logs one line the first time. */
    void close(String reason, boolean suspicious) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (suspicious) {
            server.warnRateLimited(LOG, "closing connection {}: {}", description, reason);
        } else {
            LOG.debug("closing connection {}: {}", description, reason);
        }
        writer.abort();
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("connection {}: error closing socket", description, e);
        }
        for (ServerCall call : calls.values()) {
            call.answered.set(true);
        }
        calls.clear();
        // Wake a reader blocked on the in-flight limit; the socket is closed, so it exits.
        inFlightPermits.release(config.maxInFlightPerConnection());
        server.onConnectionClosed(this);
    }

    /** Waits for the reader thread to end. */
    boolean awaitReader(long timeoutMillis) throws InterruptedException {
        return readerThread.join(java.time.Duration.ofMillis(timeoutMillis));
    }
}
