package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Garbage against a live RESP port: random bytes, valid requests cut at random points, mutated
 * pipelines, huge declared lengths and random arguments to every command. Each fuzz connection
 * half-closes after sending, so the server must end it (answering what it could, in well-formed
 * RESP, without an internal error); a witness connection open all along must keep being served;
 * and no connection may be left behind. Seeded: a failure names its seed.
 */
class RespFuzzTest {
    private static final int CASES = 400;
    private static final int WORKERS = 4;
    /** Bytes that mean something in RESP framing: mutations into these reach the parser's branches. */
    private static final String FRAMING = "*$\r\n-0123456789";
    private static final List<String> NAMES = List.of("GET", "SET", "MGET", "MSET", "MSETNX", "DEL", "EXISTS", "INCR",
            "INCRBY", "DECRBY", "INCRBYFLOAT", "APPEND", "STRLEN", "GETRANGE", "GETSET", "GETDEL", "SETNX", "TYPE", "SCAN",
            "KEYS", "DBSIZE", "PING", "ECHO", "SELECT", "HELLO", "CLIENT", "COMMAND", "INFO", "CONFIG", "TIME", "CLUSTER");
    private static final List<String> WORDS = List.of("", "0", "-1", "1", "3", "9223372036854775807", "-9223372036854775808",
            "99999999999999999999", "1.5", "nan", "inf", "NX", "XX", "GET", "EX", "KEEPTTL", "MATCH", "COUNT", "TYPE",
            "string", "*", "[", "\\", "k", "k", "{tag}k", "SETNAME", "GETNAME", "ID", "SETINFO", "LIB-NAME", "DOCS", "INFO",
            "KEYSLOT", "SLOTS", "2", "AUTH", "\u00e9", "a b", "\r\n");

    private MemoryBackend backend;
    private RespServer server;

    @BeforeEach
    void start() throws IOException {
        backend = new MemoryBackend();
        server = new RespServer(RespServerConfig.defaults().withParserLimits(4096, 64, 1024, 16_384).withMaxKeysListed(1000),
                backend);
        server.start(new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void garbageNeverHurtsOtherConnectionsOrTheServer() throws Exception {
        try (RespTestClient witness = new RespTestClient(server.port())) {
            assertEquals("OK", witness.call("SET", "witness", "0"));
            ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                int worker = w;
                workers.add(pool.submit(() -> {
                    for (int c = worker; c < CASES; c += WORKERS) {
                        runCase(c);
                    }
                    return null;
                }));
            }
            for (int round = 1; workers.stream().anyMatch(f -> !f.isDone()); round++) {
                assertEquals((long) round, witness.call("INCR", "witness"), "the witness is served during the fuzzing");
                Thread.sleep(5);
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
            pool.close();
            assertEquals("PONG", witness.call("PING"));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (server.openConnections() > 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(1, server.openConnections(), "every fuzz connection was closed; only the witness is left");
        }
    }

    private void runCase(long seed) throws IOException {
        Random random = new Random(seed);
        byte[] input = switch (random.nextInt(5)) {
            case 0 -> randomBytes(random);
            case 1 -> truncated(random);
            case 2 -> mutated(random);
            case 3 -> hugeDeclarations(random);
            default -> randomCommands(random);
        };
        byte[] replies = exchange(input, seed);
        List<Object> parsed;
        try {
            parsed = RespTestClient.parseAll(replies);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("seed " + seed + ": replies are not well-formed RESP: "
                    + new String(replies, StandardCharsets.ISO_8859_1), e);
        }
        for (Object reply : parsed) {
            if (reply instanceof String text && text.startsWith("-ERR internal error")) {
                fail("seed " + seed + ": " + text);
            }
        }
    }

    /** Sends, half-closes, and reads until the server closes; fails when it does not within 10 s. */
    private byte[] exchange(byte[] input, long seed) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try {
                socket.getOutputStream().write(input);
                socket.shutdownOutput();
            } catch (SocketException e) {
                // The server closed first (a protocol error early in a long input): read what it said.
            }
            try {
                received.write(socket.getInputStream().readAllBytes());
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("seed " + seed + ": the server kept a half-closed connection open", e);
            } catch (SocketException e) {
                // Reset: the server closed with our bytes unread; what arrived before is all there is.
            }
            return received.toByteArray();
        }
    }

    private static byte[] randomBytes(Random random) {
        byte[] bytes = new byte[1 + random.nextInt(2000)];
        random.nextBytes(bytes);
        if (random.nextBoolean()) {
            bytes[0] = (byte) "*$+-:\r\n".charAt(random.nextInt(7));
        }
        return bytes;
    }

    private static byte[] validPipeline(Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int commands = 1 + random.nextInt(8);
        for (int i = 0; i < commands; i++) {
            out.writeBytes(RespTestClient.encode(randomCommand(random)));
        }
        return out.toByteArray();
    }

    private static byte[] truncated(Random random) {
        byte[] valid = validPipeline(random);
        return java.util.Arrays.copyOf(valid, random.nextInt(valid.length + 1));
    }

    private static byte[] mutated(Random random) {
        byte[] valid = validPipeline(random);
        int flips = 1 + random.nextInt(4);
        for (int i = 0; i < flips; i++) {
            valid[random.nextInt(valid.length)] = (byte) (random.nextBoolean() ? random.nextInt(256) : FRAMING.charAt(random.nextInt(FRAMING.length())));
        }
        return valid;
    }

    private static byte[] hugeDeclarations(Random random) {
        String[] headers = {"*2147483647\r\n", "*9223372036854775807\r\n", "*1\r\n$2147483647\r\n", "*1\r\n$1099511627776\r\n",
                "*-2\r\n", "*1\r\n$-2\r\n", "*1\r\n$4096\r\n" + "x".repeat(100), "*65\r\n", "$5\r\nhello\r\n",
                "X".repeat(5000) + "\r\n", "*2\r\n$3\r\nGET\r\n$" + 4097 + "\r\n"};
        String prefix = random.nextBoolean() ? "PING\r\n" : "";
        return (prefix + headers[random.nextInt(headers.length)]).getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] randomCommands(Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            out.writeBytes(RespTestClient.encode(randomCommand(random)));
        }
        return out.toByteArray();
    }

    private static String[] randomCommand(Random random) {
        String[] command = new String[1 + random.nextInt(6)];
        command[0] = NAMES.get(random.nextInt(NAMES.size()));
        for (int i = 1; i < command.length; i++) {
            command[i] = WORDS.get(random.nextInt(WORDS.size()));
        }
        return command;
    }

    @Test
    void theFuzzCasesReachEveryKindOfInput() {
        // Guards the generator: a refactoring that made every case the same kind would test little.
        int[] kinds = new int[5];
        for (long seed = 0; seed < CASES; seed++) {
            kinds[new Random(seed).nextInt(5)]++;
        }
        for (int count : kinds) {
            assertTrue(count > CASES / 10, java.util.Arrays.toString(kinds));
        }
    }
}
