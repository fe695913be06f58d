package io.loomkv.net.node;

import com.google.protobuf.MessageLite;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.Hello;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/** A socket that speaks raw frames (or raw bytes) to a node's port, for hostile-input tests. */
final class RawConnection implements AutoCloseable {
    private final Socket socket;

    RawConnection(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5_000);
        socket.setTcpNoDelay(true);
    }

    static byte[] hello(Hello.Role role, String clusterId, long nodeId) {
        return FrameCodec.encodeToArray(FrameType.HELLO, 0, 0, 0,
                Hello.newBuilder().setRole(role).setClusterId(clusterId).setNodeId(nodeId).build());
    }

    static byte[] oneWay(int methodId, MessageLite body) {
        return FrameCodec.encodeToArray(FrameType.ONE_WAY, 0, 0, methodId, body);
    }

    static byte[] request(long requestId, int methodId, MessageLite body) {
        return FrameCodec.encodeToArray(FrameType.REQUEST, 0, requestId, methodId, body);
    }

    /** Writes; false when the server already closed the connection (a refused write is fine for these tests). */
    boolean send(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Half-closes: the server reads end-of-stream after what was sent, and closes its side. */
    void finishSending() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            // Already closed by the server.
        }
    }

    /** Reads and discards until the server closes the connection; false if it is still open after {@code timeout}. */
    boolean awaitClosedByServer(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        while (System.nanoTime() < deadline) {
            socket.setSoTimeout((int) Math.max(1, Math.min(200, (deadline - System.nanoTime()) / 1_000_000)));
            try {
                if (in.read(buffer) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // Still open; keep waiting.
            } catch (IOException e) {
                return true; // Reset by the server.
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
