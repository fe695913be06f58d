package io.loomkv.net.rpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameCompression;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameFormatException;
import io.loomkv.net.frame.FrameHeader;
import io.loomkv.net.frame.FrameReader;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.proto.ErrorReply;
import io.loomkv.net.proto.Hello;
import io.loomkv.net.tls.TlsFailures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client-side connection: calls register a pending entry under a fresh request id and queue
 * their frame; a reader virtual thread matches responses to pending entries by id. A call
 * completes successfully only from a RESPONSE frame with its id and no error flag.
 *
 * <p>Futures are completed on the reader thread, so non-async callbacks run there and must not block.
 */
final class ClientConnection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ClientConnection.class);
    /** Room in the send queue for one-way messages beyond the in-flight limit. */
    private static final int ONE_WAY_QUEUE_SLACK = 1024;

    private static final class PendingCall {
        final long requestId;
        final String methodName;
        final Parser<? extends MessageLite> responseParser;
        final long deadlineNanos;
        final long timeoutMillis;
        final CompletableFuture<MessageLite> future = new CompletableFuture<>();

        PendingCall(long requestId, String methodName, Parser<? extends MessageLite> responseParser,
                long deadlineNanos, long timeoutMillis) {
            this.requestId = requestId;
            this.methodName = methodName;
            this.responseParser = responseParser;
            this.deadlineNanos = deadlineNanos;
            this.timeoutMillis = timeoutMillis;
        }
    }

    private final Socket socket;
    private final InetSocketAddress address;
    private final RpcClientConfig config;
    private final FrameReader reader;
    private final FrameWriter writer;
    private final Thread readerThread;
    private final ConcurrentHashMap<Long, PendingCall> pending = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile RpcException closeCause;
    private volatile String closeReason = "";
    private final Runnable onCallPending;

    private ClientConnection(Socket socket, OutputStream out, InetSocketAddress address, RpcClientConfig config, FrameReader reader,
            FrameCompression compression, Runnable onCallPending) throws IOException {
        this.socket = socket;
        this.onCallPending = onCallPending;
        this.address = address;
        this.config = config;
        this.reader = reader;
        this.writer = new FrameWriter(out, config.maxInFlightPerConnection() + ONE_WAY_QUEUE_SLACK,
                compression.encoder(), config.compressThresholdBytes(), written -> { }, this::onWriteFailure,
                "rpc-client-write-" + address);
        this.readerThread = Thread.ofVirtual().name("rpc-client-read-" + address).unstarted(LogContext.inheritNode(this));
    }

    /**
     * Connects, performs the handshake and starts the reader and writer. Blocks for at most about
     * twice the connect timeout; call it on a virtual thread.
     *
     * @throws RpcException with the server's code when it refused the handshake
     * @throws IOException when the endpoint cannot be reached or spoke nonsense
     */
    /**
     * {@code address} with its host name looked up again (the JDK caches lookups for 30 s): a
     * peer named by DNS, as a Kubernetes pod is, may not have resolved when the config was
     * loaded, or may have a new IP after a restart, and an InetSocketAddress keeps whatever
     * its constructor found (or an unresolved address, which Socket.connect refuses forever).
     * An IP literal is parsed, not looked up.
     */
    static InetSocketAddress resolvedNow(InetSocketAddress address) {
        return new InetSocketAddress(address.getHostString(), address.getPort());
    }

    static ClientConnection open(InetSocketAddress address, RpcClientConfig config, FrameCompression compression,
            Runnable onCallPending, TrafficObserver traffic) throws IOException {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            int connectTimeoutMillis = (int) config.connectTimeout().toMillis();
            socket.connect(resolvedNow(address), connectTimeoutMillis);
            if (config.tls() != null) {
                SSLSocket secured = config.tls().wrapConnected(socket, address);
                socket = secured;
                // Here rather than at the first write, so a refusal reads as a TLS problem, bounded by the connect timeout.
                secured.setSoTimeout(connectTimeoutMillis);
                try {
                    secured.startHandshake();
                } catch (SSLException e) {
                    throw new IOException(address + ": " + TlsFailures.describe(e), e);
                }
            }
            InputStream in = TrafficObserver.counting(socket.getInputStream(), traffic);
            OutputStream out = TrafficObserver.counting(socket.getOutputStream(), traffic);
            FrameReader reader = new FrameReader(in, socket::setSoTimeout,
                    config.maxFrameSizeBytes(), connectTimeoutMillis, config.partialFrameTimeout().toMillis(),
                    compression.decoder());
            Hello hello = Hello.newBuilder().setRole(config.role()).setClusterId(config.clusterId())
                    .setNodeId(config.nodeId()).build();
            out.write(FrameCodec.encodeToArray(FrameType.HELLO, 0, 0, 0, hello));
            checkHandshakeReply(reader, address, config);
            reader.setIdleTimeoutMillis(0);
            ClientConnection connection = new ClientConnection(socket, out, address, config, reader, compression, onCallPending);
            connection.writer.batchOffersFrom(connection.readerThread);
            connection.writer.start();
            connection.readerThread.start();
            return connection;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static void checkHandshakeReply(FrameReader reader, InetSocketAddress address, RpcClientConfig config)
            throws IOException {
        FrameHeader header = reader.next();
        if (header == null) {
            throw new IOException(address + " closed the connection during the handshake");
        }
        if (header.type() == FrameType.RESPONSE && header.hasFlag(FrameFlags.ERROR)) {
            ErrorReply error = ErrorReply.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
            throw new RpcException(error.getCode(), address + " refused the connection: " + error.getMessage());
        }
        if (header.type() != FrameType.HELLO) {
            throw new ProtocolViolationException(address + " answered the Hello with a " + header.type() + " frame");
        }
        Hello reply = Hello.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
        if (!config.clusterId().isEmpty() && !config.clusterId().equals(reply.getClusterId())) {
            throw new RpcException(ErrorReply.Code.CODE_PERMISSION_DENIED, address + " belongs to cluster '"
                    + reply.getClusterId() + "', expected '" + config.clusterId() + "'");
        }
    }

    InetSocketAddress address() {
        return address;
    }

    boolean isOpen() {
        return !closed.get();
    }


    @SuppressWarnings("unchecked")
    <Req extends MessageLite, Resp extends MessageLite> CompletableFuture<Resp> call(RpcMethod<Req, Resp> method,
            Req request, long deadlineNanos, long timeoutMillis) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(closedException());
        }
        if (FrameCodec.HEADER_SIZE_BYTES + (long) request.getSerializedSize() > config.maxFrameSizeBytes()) {
            return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_TOO_LARGE, "request for "
                    + method.name() + " of " + request.getSerializedSize() + " bytes exceeds the frame limit "
                    + config.maxFrameSizeBytes()));
        }
        if (inFlight.incrementAndGet() > config.maxInFlightPerConnection()) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_OVERLOADED,
                    config.maxInFlightPerConnection() + " calls already in flight on the connection to " + address));
        }
        long requestId = nextRequestId.getAndIncrement();
        PendingCall call = new PendingCall(requestId, method.name(), method.responseParser(), deadlineNanos,
                timeoutMillis);
        pending.put(requestId, call);
        onCallPending.run(); // The deadline thread may be asleep with nothing to watch.
        if (!writer.offer(new OutboundFrame(FrameType.REQUEST, 0, requestId, method.id(), request, false))) {
            if (pending.remove(requestId, call)) {
                inFlight.decrementAndGet();
                call.future.completeExceptionally(closed.get() ? closedException()
                        : new RpcException(ErrorReply.Code.CODE_OVERLOADED, "send queue to " + address + " is full"));
            }
        } else if (closed.get() && pending.remove(requestId, call)) {
            // Closed between the check and the offer: the frame may never be written.
            inFlight.decrementAndGet();
            call.future.completeExceptionally(closedException());
        }
        return (CompletableFuture<Resp>) call.future;
    }

    /** Queues a one-way message; false when the connection is closed or its send queue is full. */
    <Req extends MessageLite> boolean send(OneWayMethod<Req> method, Req message) {
        if (closed.get()) {
            return false;
        }
        if (FrameCodec.HEADER_SIZE_BYTES + (long) message.getSerializedSize() > config.maxFrameSizeBytes()) {
            throw new RpcException(ErrorReply.Code.CODE_TOO_LARGE, "message for " + method.name() + " of "
                    + message.getSerializedSize() + " bytes exceeds the frame limit " + config.maxFrameSizeBytes());
        }
        return writer.offer(new OutboundFrame(FrameType.ONE_WAY, 0, 0, method.id(), message, false));
    }

    @Override
    public void run() {
        String reason = "server closed the connection";
        boolean suspicious = false;
        try {
            while (readResponses()) {
                // See ReentryLoops: a bounded batch per call keeps the responses' handling on current code.
            }
        } catch (FrameFormatException | ProtocolViolationException e) {
            reason = "protocol error: " + e.getMessage();
            suspicious = true;
        } catch (IOException e) {
            reason = "I/O error: " + e.getMessage();
        } catch (RuntimeException e) {
            reason = "internal error: " + e;
            LOG.error("connection to {}: unexpected failure in the reader", address, e);
        }
        close(new RpcException(ErrorReply.Code.CODE_UNAVAILABLE, "connection to " + address + " lost (" + reason
                + ") with the request in flight; it may or may not have executed"), reason, suspicious);
    }

    /** Reads up to {@link ReentryLoops#ITERATIONS_PER_CALL} responses; false at the end of the stream. */
    private boolean readResponses() throws IOException {
        for (int i = 0; i < ReentryLoops.ITERATIONS_PER_CALL; i++) {
            FrameHeader header = reader.next();
            if (header == null) {
                return false;
            }
            if (header.type() != FrameType.RESPONSE) {
                throw new ProtocolViolationException("unexpected " + header.type() + " frame from the server");
            }
            onResponse(header);
            if (!reader.hasCompleteFrameBuffered()) {
                writer.wakeIfQueued();
            }
        }
        return true;
    }

    private void onResponse(FrameHeader header) throws FrameFormatException {
        if (header.requestId() == 0 && header.hasFlag(FrameFlags.ERROR)) {
            // A connection-level error (e.g. the server is shutting down); it closes right after.
            ErrorReply error = parseError(header);
            LOG.debug("connection to {}: server says {}: {}", address, error.getCode(), error.getMessage());
            return;
        }
        PendingCall call = pending.remove(header.requestId());
        if (call == null) {
            return; // Its deadline passed and it already failed; the late answer is dropped.
        }
        inFlight.decrementAndGet();
        if (header.hasFlag(FrameFlags.ERROR)) {
            ErrorReply error;
            try {
                error = parseError(header);
            } catch (FrameFormatException e) {
                call.future.completeExceptionally(new RpcException(ErrorReply.Code.CODE_INTERNAL,
                        "unreadable error reply for " + call.methodName, e));
                throw e;
            }
            call.future.completeExceptionally(new RpcException(error.getCode(), error.getMessage()));
            return;
        }
        MessageLite response;
        try {
            response = call.responseParser.parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
        } catch (InvalidProtocolBufferException e) {
            call.future.completeExceptionally(new RpcException(ErrorReply.Code.CODE_INTERNAL,
                    "unreadable response for " + call.methodName, e));
            throw new FrameFormatException("garbage response body for " + call.methodName + ": " + e.getMessage(), e);
        }
        call.future.complete(response);
    }

    private ErrorReply parseError(FrameHeader header) throws FrameFormatException {
        try {
            return ErrorReply.parser().parseFrom(reader.bodyArray(), reader.bodyOffset(), reader.bodyLength());
        } catch (InvalidProtocolBufferException e) {
            throw new FrameFormatException("garbage ErrorReply body: " + e.getMessage(), e);
        }
    }

    private void onWriteFailure(IOException e) {
        String reason = "write failed: " + e.getMessage();
        close(new RpcException(ErrorReply.Code.CODE_UNAVAILABLE, "connection to " + address + " lost (" + reason
                + ") with the request in flight; it may or may not have executed"), reason, false);
    }

    /** Fails the calls whose deadline has passed; true when calls are still pending. */
    boolean expire(long nowNanos) {
        // Safety net: a callback that blocks on the reader thread must not strand frames it queued
        // (callbacks run when a call is answered, and what they queue there is a call of their own,
        // pending, so the sweeps go on while they block).
        writer.wakeIfQueued();
        if (pending.isEmpty()) {
            return false;
        }
        for (PendingCall call : pending.values()) {
            if (nowNanos - call.deadlineNanos >= 0 && pending.remove(call.requestId, call)) {
                inFlight.decrementAndGet();
                call.future.completeExceptionally(new RpcTimeoutException("no response to " + call.methodName
                        + " from " + address + " within its deadline of " + call.timeoutMillis
                        + " ms; the server may still execute it"));
            }
        }
        return !pending.isEmpty();
    }

    boolean hasPendingCalls() {
        return !pending.isEmpty();
    }

    /** Closes the socket and fails every pending call with {@code cause}; logs one line. */
    void close(RpcException cause, String reason, boolean suspicious) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeCause = cause;
        closeReason = reason;
        if (suspicious) {
            LOG.warn("closing connection to {}: {}", address, reason);
        } else {
            LOG.debug("closing connection to {}: {}", address, reason);
        }
        writer.abort();
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("connection to {}: error closing socket", address, e);
        }
        for (PendingCall call : pending.values()) {
            if (pending.remove(call.requestId, call)) {
                inFlight.decrementAndGet();
                call.future.completeExceptionally(cause);
            }
        }
    }

    private RpcException closedException() {
        RpcException cause = closeCause;
        ErrorReply.Code code = cause != null ? cause.code() : ErrorReply.Code.CODE_UNAVAILABLE;
        return new RpcException(code, "connection to " + address + " is closed (" + closeReason + ")");
    }
}
