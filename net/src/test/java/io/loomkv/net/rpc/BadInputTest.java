package io.loomkv.net.rpc;

import static io.loomkv.net.rpc.TestRpc.CLUSTER;
import static io.loomkv.net.rpc.TestRpc.address;
import static io.loomkv.net.rpc.TestRpc.assertEcho;
import static io.loomkv.net.rpc.TestRpc.echoRequest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameFlags;
import io.loomkv.net.frame.FrameType;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Each kind of bad input closes the connection that carried it, with exactly one log line saying
 * why, while another client on the same server carries on.
 */
class BadInputTest {
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger connectionLogger = (Logger) LoggerFactory.getLogger(ServerConnection.class);
    private RpcServer server;
    private RpcClient goodClient;
    private RpcEndpoint good;

    @BeforeEach
    void start() throws Exception {
        logged.start();
        connectionLogger.addAppender(logged);
        server = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER).withMaxFrameSizeBytes(64 * 1024)
                .withPartialFrameTimeout(Duration.ofSeconds(2)), EchoService.register(RpcHandlers.builder()).build());
        goodClient = new RpcClient(RpcClientConfig.client(CLUSTER).withConnectionsPerEndpoint(1));
        good = goodClient.endpoint(address(server));
        assertEcho(good, "before");
    }

    @AfterEach
    void stop() {
        goodClient.close();
        server.close();
        connectionLogger.detachAppender(logged);
    }

    private static byte[] validRequest() {
        return FrameCodec.encodeToArray(FrameType.REQUEST, 0, 1, EchoService.ECHO.id(), echoRequest("payload"));
    }

    private static byte[] with(Supplier<byte[]> base, java.util.function.Consumer<ByteBuffer> edit) {
        byte[] frame = base.get();
        edit.accept(ByteBuffer.wrap(frame));
        return frame;
    }

    @Test
    void eachKindOfBadInputClosesOnlyItsConnectionWithOneLogLine() throws Exception {
        byte[] garbageBody = validRequest();
        Arrays.fill(garbageBody, FrameCodec.HEADER_SIZE_BYTES, garbageBody.length, (byte) 0xFF);
        Map<String, byte[]> cases = new java.util.LinkedHashMap<>();
        cases.put("bad magic", with(BadInputTest::validRequest, b -> b.putInt(0, 0xDEADBEEF)));
        cases.put("unknown protocol version", with(BadInputTest::validRequest, b -> b.put(4, (byte) 7)));
        cases.put("unknown frame type", with(BadInputTest::validRequest, b -> b.put(5, (byte) 42)));
        cases.put("unknown flag bits", with(BadInputTest::validRequest, b -> b.putShort(6, (short) 0x0100)));
        cases.put("negative body length", with(BadInputTest::validRequest, b -> b.putInt(20, -1)));
        cases.put("exceeds the maximum", with(BadInputTest::validRequest, b -> b.putInt(20, 1 << 30)));
        cases.put("truncated frame", Arrays.copyOf(validRequest(), 30));
        cases.put("garbage body", garbageBody);
        cases.put("bad LZ4 body", with(BadInputTest::validRequest, b -> b.putShort(6, (short) FrameFlags.LZ4)));
        cases.put("unexpected RESPONSE frame", with(BadInputTest::validRequest,
                b -> b.put(5, (byte) FrameType.RESPONSE.code())));
        cases.put("unexpected HELLO frame", with(BadInputTest::validRequest,
                b -> b.put(5, (byte) FrameType.HELLO.code())));
        for (Map.Entry<String, byte[]> badCase : cases.entrySet()) {
            String clientAddress;
            try (Socket socket = TestRpc.rawClient(server)) {
                clientAddress = String.valueOf(socket.getLocalSocketAddress());
                OutputStream out = socket.getOutputStream();
                out.write(badCase.getValue());
                out.flush();
                if (badCase.getKey().equals("truncated frame")) {
                    socket.shutdownOutput(); // The peer goes away mid-frame.
                }
                assertTrue(TestRpc.closedByServer(socket), badCase.getKey() + ": connection not closed");
            }
            TestRpc.waitFor("the log line for " + badCase.getKey(), () -> linesAbout(clientAddress).size() == 1);
            List<String> lines = linesAbout(clientAddress);
            assertEquals(1, lines.size(), badCase.getKey() + ": " + lines);
            assertTrue(lines.get(0).contains(badCase.getKey()), "expected '" + badCase.getKey() + "' in " + lines);
            assertEcho(good, "after " + badCase.getKey());
        }
        TestRpc.waitFor("bad connections cleaned up", () -> server.openConnections() == 1);
        assertEquals(1, good.openConnections(), "the good client kept its one connection");
    }

    @Test
    void requestIdReusedWhileInFlightClosesTheConnection() throws Exception {
        RpcMethod<io.loomkv.net.proto.EchoRequest, io.loomkv.net.proto.EchoReply> hang = new RpcMethod<>(9, 1,
                "test.Hang", io.loomkv.net.proto.EchoRequest.parser(), io.loomkv.net.proto.EchoReply.parser(),
                MethodAccess.ANY);
        try (RpcServer hanging = TestRpc.startServer(RpcServerConfig.defaults(CLUSTER),
                RpcHandlers.builder().add(hang, (request, context) -> new java.util.concurrent.CompletableFuture<>())
                        .build());
                Socket socket = TestRpc.rawClient(hanging)) {
            String clientAddress = String.valueOf(socket.getLocalSocketAddress());
            byte[] frame = FrameCodec.encodeToArray(FrameType.REQUEST, 0, 77, hang.id(), echoRequest("x"));
            socket.getOutputStream().write(frame);
            socket.getOutputStream().write(frame);
            assertTrue(TestRpc.closedByServer(socket));
            TestRpc.waitFor("the log line", () -> linesAbout(clientAddress).size() == 1);
            assertTrue(linesAbout(clientAddress).get(0).contains("request id 77 reused while still in flight"),
                    String.valueOf(linesAbout(clientAddress)));
        }
    }

    private List<String> linesAbout(String clientAddress) {
        return logged.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(line -> line.contains(clientAddress + ":") || line.contains(clientAddress + " "))
                .toList();
    }
}
