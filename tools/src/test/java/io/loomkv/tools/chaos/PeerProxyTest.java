package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.node.NodeMethods;
import io.loomkv.net.proto.Hello;
import io.loomkv.net.rpc.LoopbackPorts;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy forwards whole frames, tells senders apart by their handshake, and applies each link's faults. */
class PeerProxyTest {
    private static final int FRAMES = 200;

    private final LinkTable links = new LinkTable();
    private ServerSocket target;
    private PeerProxy proxy;

    @BeforeEach
    void start() throws IOException {
        target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        proxy = PeerProxy.start(1, LoopbackPorts.next(), (InetSocketAddress) target.getLocalSocketAddress(), links, 42);
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        target.close();
    }

    @Test
    void withoutFaultsEveryFrameArrivesIntactAndInOrder() throws Exception {
        List<byte[]> sent = frames(2);
        List<byte[]> received = relay(sent);
        assertEquals(sent.size(), received.size());
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), received.get(i), "frame " + i);
        }
    }

    @Test
    void aBlockedLinkLosesEverythingAfterTheHandshakeButOnlyForItsSender() throws Exception {
        links.set(2, 1, LinkFaults.BLOCKED);
        List<byte[]> fromTwo = relay(frames(2));
        assertEquals(1, fromTwo.size(), "only the handshake of node 2 passes");
        assertEquals(FrameType.HELLO.code(), fromTwo.get(0)[5]);
        assertEquals(FRAMES + 1, relay(frames(3)).size(), "node 3 -> node 1 is not blocked");
        links.set(1, 2, LinkFaults.BLOCKED); // The other direction is another proxy's business.
        links.set(2, 1, LinkFaults.NONE);
        assertEquals(FRAMES + 1, relay(frames(2)).size(), "healed");
    }

    @Test
    void dropsLoseSomeFramesAndDelaysKeepOrder() throws Exception {
        links.set(2, 1, new LinkFaults(false, 0.5, 0));
        int arrived = relay(frames(2)).size() - 1;
        assertTrue(arrived > FRAMES / 5 && arrived < FRAMES * 4 / 5, "about half of " + FRAMES + " should arrive, got " + arrived);

        links.set(2, 1, new LinkFaults(false, 0, 20));
        List<byte[]> sent = frames(2);
        List<byte[]> received = relay(sent);
        assertEquals(sent.size(), received.size());
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), received.get(i), "delayed frame " + i + " arrived out of order or changed");
        }
    }

    /** A handshake from {@code sender}, then {@link #FRAMES} Raft messages with distinct indexes. */
    private static List<byte[]> frames(long sender) {
        List<byte[]> frames = new ArrayList<>();
        frames.add(FrameCodec.encodeToArray(FrameType.HELLO, 0, 0, 0,
                Hello.newBuilder().setRole(Hello.Role.ROLE_PEER).setClusterId("c").setNodeId(sender).build()));
        for (int i = 0; i < FRAMES; i++) {
            frames.add(FrameCodec.encodeToArray(FrameType.ONE_WAY, 0, 0, NodeMethods.RAFT_BATCH.id(),
                    io.loomkv.net.store.proto.RaftBatch.newBuilder().addMessages(io.loomkv.net.store.proto.GroupMessage.newBuilder()
                            .setGroupId(1).setRaft(Message.newBuilder().setType(MessageType.MSG_APP).setFrom(sender).setTo(1)
                                    .setIndex(i))).build()));
        }
        return frames;
    }

    /** Sends the frames through the proxy on a new connection and returns what the target received. */
    private List<byte[]> relay(List<byte[]> frames) throws Exception {
        try (Socket client = new Socket()) {
            client.connect(proxy.listenAddress(), 5_000);
            OutputStream out = client.getOutputStream();
            for (byte[] frame : frames) {
                out.write(frame);
            }
            out.flush();
            try (Socket accepted = target.accept()) {
                accepted.setSoTimeout(1_500); // Longer than every delay: silence means nothing more comes.
                DataInputStream in = new DataInputStream(accepted.getInputStream());
                List<byte[]> received = new ArrayList<>();
                while (true) {
                    byte[] header = new byte[FrameCodec.HEADER_SIZE_BYTES];
                    try {
                        in.readFully(header);
                    } catch (SocketTimeoutException | java.io.EOFException e) {
                        return received;
                    }
                    byte[] frame = new byte[header.length + ByteBuffer.wrap(header).getInt(20)];
                    System.arraycopy(header, 0, frame, 0, header.length);
                    in.readFully(frame, header.length, frame.length - header.length);
                    received.add(frame);
                }
            }
        }
    }
}
