package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.WAIT;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.compress.Lz4BlockCodec;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import io.loomkv.net.proto.Hello;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Throws at least {@value #DEFAULT_FRAMES} random and mutated frames at a live server over many
 * connections, then checks that a well-behaved client still gets correct answers and that every
 * fuzzed connection was cleaned up. Seeded: set {@code -Dloomkv.fuzz.seed=N} to replay a run and
 * {@code -Dloomkv.fuzz.frames=N} for a longer soak.
 */
class FrameFuzzTest {
    private static final int DEFAULT_FRAMES = 10_000;
    private static final long DEFAULT_SEED = 0x5EED_F00DL;
    private static final int MAX_FRAME_SIZE_BYTES = 64 * 1024;
    private static final Lz4BlockCodec LZ4 = Lz4BlockCodec.withDefaults();

    private final Map<String, Integer> framesByKind = new TreeMap<>();

    @Test
    void serverSurvivesRandomAndMutatedFramesAndStillAnswersCorrectly() throws Exception {
        long seed = Long.getLong("loomkv.fuzz.seed", DEFAULT_SEED);
        int frames = Integer.getInteger("loomkv.fuzz.frames", DEFAULT_FRAMES);
        System.out.println("FrameFuzzTest seed=" + seed + " frames=" + frames
                + " (replay with -Dloomkv.fuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        RpcServerConfig config = RpcServerConfig.defaults(CLUSTER).withMaxFrameSizeBytes(MAX_FRAME_SIZE_BYTES)
                .withPartialFrameTimeout(Duration.ofMillis(500)).withMaxConnections(4096);
        try (RpcServer server = TestRpc.startServer(config, EchoService.register(RpcHandlers.builder()).build());
                RpcClient client = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1))) {
            RpcEndpoint good = client.endpoint(address(server));
            TestRpc.assertEcho(good, "before the fuzz");
            int sent = 0;
            int connections = 0;
            while (sent < frames) {
                sent += fuzzOneConnection(server, random, Math.min(frames - sent, 1 + random.nextInt(8)));
                connections++;
            }
            System.out.println("FrameFuzzTest sent " + sent + " frames over " + connections + " connections: "
                    + framesByKind);
            assertTrue(sent >= frames);

            // The server is healthy: correct answers, many in flight, and no fuzzed connection left over.
            List<CompletableFuture<EchoReply>> calls = new ArrayList<>();
            List<ByteString> payloads = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                byte[] payload = new byte[random.nextInt(2000)];
                random.nextBytes(payload);
                payloads.add(ByteString.copyFrom(payload));
                calls.add(good.call(EchoService.ECHO, EchoRequest.newBuilder().setPayload(payloads.get(i)).build(),
                        WAIT));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(payloads.get(i), await(calls.get(i)).getPayload(), "echo " + i);
            }
            TestRpc.waitFor("every fuzzed connection to be closed", () -> server.openConnections() == 1);
            assertTrue(server.isRunning());
            RpcClient fresh = new RpcClient(RpcClientConfig.client(CLUSTER));
            try {
                TestRpc.assertEcho(fresh.endpoint(address(server)), "new connections accepted");
            } finally {
                fresh.close();
            }
        }
    }

    /** One connection: usually a valid Hello, then a few fuzzed frames. Returns the frames sent. */
    private int fuzzOneConnection(RpcServer server, Random random, int frames) throws IOException {
        int sent = 0;
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            Hello hello = Hello.newBuilder().setRole(Hello.Role.ROLE_CLIENT).setClusterId(CLUSTER).build();
            byte[] helloFrame = FrameCodec.encodeToArray(FrameType.HELLO, 0, 0, 0, hello);
            try {
                if (random.nextInt(10) == 0) {
                    out.write(mutate(helloFrame, random));
                    count("hello-mutated");
                    sent++;
                } else {
                    out.write(helloFrame);
                }
                while (sent < frames) {
                    out.write(nextFrame(random));
                    sent++;
                }
                out.flush();
            } catch (IOException e) {
                // The server already closed this connection (as it should for bad input): count the
                // frames that made it and move on to a new connection.
                count("write-refused");
                return Math.max(sent, 1);
            }
        }
        return sent;
    }

    private byte[] nextFrame(Random random) {
        int kind = random.nextInt(100);
        if (kind < 20) {
            count("valid");
            return validFrame(random);
        } else if (kind < 45) {
            count("bit-flips");
            return mutate(validFrame(random), random);
        } else if (kind < 60) {
            count("garbage-body");
            byte[] frame = validFrame(random);
            for (int i = FrameCodec.HEADER_SIZE_BYTES; i < frame.length; i++) {
                frame[i] = (byte) random.nextInt(256);
            }
            return frame;
        } else if (kind < 78) {
            count("header-field");
            return headerFieldMutation(validFrame(random), random);
        } else if (kind < 86) {
            count("truncated");
            byte[] frame = validFrame(random);
            return Arrays.copyOf(frame, random.nextInt(frame.length));
        } else if (kind < 93) {
            count("lz4");
            return lz4Frame(random);
        } else {
            count("random-bytes");
            byte[] bytes = new byte[1 + random.nextInt(200)];
            random.nextBytes(bytes);
            return bytes;
        }
    }

    private static byte[] validFrame(Random random) {
        byte[] payload = new byte[random.nextInt(300)];
        random.nextBytes(payload);
        EchoRequest request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
        FrameType type = random.nextInt(5) == 0 ? FrameType.ONE_WAY : FrameType.REQUEST;
        int methodId = random.nextInt(8) == 0 ? random.nextInt() : EchoService.ECHO.id();
        return FrameCodec.encodeToArray(type, 0, random.nextLong(), methodId, request);
    }

    private static byte[] mutate(byte[] frame, Random random) {
        int flips = 1 + random.nextInt(4);
        for (int i = 0; i < flips; i++) {
            int bit = random.nextInt(frame.length * 8);
            frame[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return frame;
    }

    private static byte[] headerFieldMutation(byte[] frame, Random random) {
        ByteBuffer header = ByteBuffer.wrap(frame);
        int bodyLength = header.getInt(20);
        switch (random.nextInt(7)) {
            case 0 -> header.putInt(0, random.nextInt());
            case 1 -> header.put(4, (byte) random.nextInt(256));
            case 2 -> header.put(5, (byte) random.nextInt(256));
            case 3 -> header.putShort(6, (short) random.nextInt(1 << 16));
            case 4 -> header.putInt(20, -1 - random.nextInt(Integer.MAX_VALUE));
            case 5 -> header.putInt(20, MAX_FRAME_SIZE_BYTES + random.nextInt(Integer.MAX_VALUE - MAX_FRAME_SIZE_BYTES));
            default -> header.putInt(20, Math.max(0, bodyLength + random.nextInt(21) - 10));
        }
        return frame;
    }

    /** A frame flagged LZ4: a valid compressed body, a corrupted one, or one claiming a huge size. */
    private static byte[] lz4Frame(Random random) {
        byte[] raw = new byte[300 + random.nextInt(3000)];
        Arrays.fill(raw, (byte) 'a');
        raw = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(raw)).build().toByteArray();
        byte[] body = LZ4.compressOrNull(raw);
        switch (random.nextInt(3)) {
            case 0 -> { }
            case 1 -> body = mutate(body, random);
            default -> ByteBuffer.wrap(body).putInt(0, random.nextInt(Integer.MAX_VALUE));
        }
        byte[] frame = new byte[FrameCodec.HEADER_SIZE_BYTES + body.length];
        FrameCodec.writeHeader(frame, 0, FrameType.REQUEST, FrameFlags.LZ4, random.nextLong(), EchoService.ECHO.id(),
                body.length);
        System.arraycopy(body, 0, frame, FrameCodec.HEADER_SIZE_BYTES, body.length);
        return frame;
    }

    private void count(String kind) {
        framesByKind.merge(kind, 1, Integer::sum);
    }
}
