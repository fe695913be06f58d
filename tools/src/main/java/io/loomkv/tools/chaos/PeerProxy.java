package io.loomkv.tools.chaos;

import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.Hello;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fault-injecting TCP proxy in front of one node's peer port. Every other node reaches this
 * node's peer port only through it (their member books list the proxy's address as the node's
 * peer address). The proxy reads the connection's first frame, the peer handshake, to learn which
 * node is sending, then forwards whole frames on the directed link {@code sender -> target},
 * dropping or holding them back as {@link LinkTable} says at that moment.
 *
 * <p>Why one listener per destination rather than one per directed link: when a node is added
 * later, the membership change carries one peer address for it, which every member then uses; a
 * proxy that tells senders apart by their handshake keeps per-link faults working for it too.
 *
 * <p>Frames are forwarded whole, so a drop loses a message, never a part of one (which would only
 * test the frame parser). Replies on the connection (the handshake answer) are copied back
 * unchanged: Raft answers travel on the other node's own connection, through the other proxy.
 */
final class PeerProxy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerProxy.class);
    /** Larger than the servers' 16 MiB frame limit; anything bigger is not a loomkv frame. */
    private static final int MAX_FRAME_BYTES = 32 << 20;
    private static final int MAX_HELD_FRAMES = 10_000;
    private static final int CONNECT_TIMEOUT_MILLIS = 1_000;
    private static final long UNKNOWN_SENDER = 0;

    private final long targetId;
    private final InetSocketAddress target;
    private final LinkTable links;
    private final long seed;
    private final ServerSocket server;
    private final ConcurrentHashMap.KeySetView<Socket, Boolean> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong framesForwarded = new AtomicLong();
    private final AtomicLong framesDropped = new AtomicLong();
    private volatile boolean closed;

    private PeerProxy(long targetId, InetSocketAddress target, LinkTable links, long seed, ServerSocket server) {
        this.targetId = targetId;
        this.target = target;
        this.links = links;
        this.seed = seed;
        this.server = server;
    }

    /** Listens on {@code listen} and forwards to {@code target}, node {@code targetId}'s real peer port. */
    static PeerProxy start(long targetId, InetSocketAddress listen, InetSocketAddress target, LinkTable links, long seed)
            throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(listen);
        PeerProxy proxy = new PeerProxy(targetId, target, links, seed, server);
        Thread.ofVirtual().name("proxy-accept-" + targetId).start(proxy::acceptLoop);
        return proxy;
    }

    InetSocketAddress listenAddress() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    long framesForwarded() {
        return framesForwarded.get();
    }

    long framesDropped() {
        return framesDropped.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket in = server.accept();
                long number = connections.incrementAndGet();
                Thread.ofVirtual().name("proxy-" + targetId + "-" + number).start(() -> handle(in, number));
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("proxy for node {}: accept failed: {}", targetId, e.toString());
                }
            }
        }
    }

    private void handle(Socket in, long number) {
        sockets.add(in);
        Socket out = new Socket();
        sockets.add(out);
        try {
            in.setTcpNoDelay(true);
            out.setTcpNoDelay(true);
            out.connect(target, CONNECT_TIMEOUT_MILLIS);
        } catch (IOException e) {
            closeBoth(in, out); // The node is down: the sender sees the connection fail, as it would without us.
            return;
        }
        Thread.ofVirtual().name("proxy-" + targetId + "-" + number + "-back").start(() -> copyBack(out, in));
        HeldFrames held = new HeldFrames(in, out);
        Thread writer = Thread.ofVirtual().name("proxy-" + targetId + "-" + number + "-write").start(held::run);
        try {
            forward(new DataInputStream(in.getInputStream()), held, new SplittableRandom(seed ^ (number * 0x9E3779B97F4A7C15L)));
        } catch (IOException e) {
            // Either side closed or reset: the connection ends, and the sender reconnects.
        } finally {
            held.stop();
            writer.interrupt();
            closeBoth(in, out);
        }
    }

    private void forward(DataInputStream in, HeldFrames held, SplittableRandom random) throws IOException {
        long sender = UNKNOWN_SENDER;
        boolean first = true;
        long lastReleaseNanos = 0;
        while (!closed) {
            byte[] frame = readFrame(in);
            if (frame == null) {
                return;
            }
            if (first) {
                first = false;
                sender = senderOf(frame);
                held.offer(frame, System.nanoTime());
                continue;
            }
            LinkFaults faults = sender == UNKNOWN_SENDER ? LinkFaults.NONE : links.get(sender, targetId);
            if (faults.blocked() || (faults.dropProbability() > 0 && random.nextDouble() < faults.dropProbability())) {
                framesDropped.incrementAndGet();
                continue;
            }
            long releaseNanos = System.nanoTime();
            if (faults.delayMaxMillis() > 0) {
                releaseNanos += TimeUnit.MILLISECONDS.toNanos(random.nextInt(faults.delayMaxMillis() + 1));
            }
            // One TCP stream delivers in order: a frame never overtakes the one before it.
            lastReleaseNanos = Math.max(lastReleaseNanos, releaseNanos);
            if (!held.offer(frame, lastReleaseNanos)) {
                framesDropped.incrementAndGet(); // Too much held back: the "network" loses it.
            }
        }
    }

    /** A whole frame (header and body), or null at a clean end of stream. */
    private static byte[] readFrame(DataInputStream in) throws IOException {
        byte[] header = new byte[FrameCodec.HEADER_SIZE_BYTES];
        int first = in.read();
        if (first < 0) {
            return null;
        }
        header[0] = (byte) first;
        in.readFully(header, 1, header.length - 1);
        int bodyLength = ByteBuffer.wrap(header).getInt(20);
        if (bodyLength < 0 || bodyLength > MAX_FRAME_BYTES) {
            throw new IOException("not a loomkv frame: body length " + bodyLength);
        }
        byte[] frame = new byte[FrameCodec.HEADER_SIZE_BYTES + bodyLength];
        System.arraycopy(header, 0, frame, 0, header.length);
        in.readFully(frame, header.length, bodyLength);
        return frame;
    }

    /** The node id a peer presents in its handshake frame, or {@link #UNKNOWN_SENDER}. */
    private static long senderOf(byte[] frame) {
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        boolean hello = (buffer.get(5) & 0xFF) == FrameType.HELLO.code();
        boolean compressed = (buffer.getShort(6) & FrameFlags.LZ4) != 0;
        if (!hello || compressed) {
            return UNKNOWN_SENDER;
        }
        try {
            Hello parsed = Hello.parseFrom(ByteBuffer.wrap(frame, FrameCodec.HEADER_SIZE_BYTES,
                    frame.length - FrameCodec.HEADER_SIZE_BYTES));
            return parsed.getRole() == Hello.Role.ROLE_PEER ? parsed.getNodeId() : UNKNOWN_SENDER;
        } catch (InvalidProtocolBufferException e) {
            return UNKNOWN_SENDER;
        }
    }

    private void copyBack(Socket from, Socket to) {
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            in.transferTo(out);
        } catch (IOException e) {
            // Closed or reset; the other direction notices too.
        } finally {
            closeBoth(from, to);
        }
    }

    private void closeBoth(Socket a, Socket b) {
        for (Socket socket : new Socket[] {a, b}) {
            sockets.remove(socket);
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing a broken socket.
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // Closing.
        }
        for (Socket socket : sockets) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing.
            }
        }
        sockets.clear();
    }

    /** Frames waiting for their release time, written in order by one writer thread. */
    private final class HeldFrames {
        private record Held(byte[] frame, long releaseNanos) {
        }

        private final BlockingQueue<Held> queue = new ArrayBlockingQueue<>(MAX_HELD_FRAMES);
        private final Socket in;
        private final Socket out;
        private volatile boolean stopped;

        HeldFrames(Socket in, Socket out) {
            this.in = in;
            this.out = out;
        }

        boolean offer(byte[] frame, long releaseNanos) {
            return queue.offer(new Held(frame, releaseNanos));
        }

        void stop() {
            stopped = true;
        }

        void run() {
            try {
                OutputStream stream = new BufferedOutputStream(out.getOutputStream(), 64 * 1024);
                while (!stopped) {
                    Held next = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (next == null) {
                        continue;
                    }
                    long waitNanos = next.releaseNanos() - System.nanoTime();
                    if (waitNanos > 0) {
                        stream.flush();
                        TimeUnit.NANOSECONDS.sleep(waitNanos);
                    }
                    stream.write(next.frame());
                    framesForwarded.incrementAndGet();
                    if (queue.isEmpty()) {
                        stream.flush();
                    }
                }
            } catch (IOException | InterruptedException e) {
                // The connection ended.
            } finally {
                closeBoth(in, out);
            }
        }
    }
}
