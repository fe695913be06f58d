package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.Slots;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The commands through a live server over an in-memory backend: replies, Redis's exact error
 * texts, options, and the read-modify-write commands under concurrency.
 */
class RespCommandsTest {
    private MemoryBackend backend;
    private RespServer server;
    private RespTestClient client;

    @BeforeEach
    void start() throws IOException {
        backend = new MemoryBackend();
        server = new RespServer(RespServerConfig.defaults().withMaxKeysListed(50), backend);
        server.start(new InetSocketAddress("127.0.0.1", 0));
        client = new RespTestClient(server.port());
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    private Object call(String... arguments) throws IOException {
        return client.call(arguments);
    }

    @Test
    void connectionCommands() throws IOException {
        assertEquals("PONG", call("PING"));
        assertEquals("hi", call("ping", "hi"));
        assertEquals("-ERR wrong number of arguments for 'ping' command", call("PING", "a", "b"));
        assertEquals("a b", call("ECHO", "a b"));
        assertEquals("OK", call("SELECT", "0"));
        assertEquals("-ERR DB index is out of range", call("SELECT", "1"));
        assertEquals("-ERR value is not an integer or out of range", call("SELECT", "x"));
        List<?> time = (List<?>) call("TIME");
        long seconds = Long.parseLong((String) time.get(0));
        assertTrue(Math.abs(seconds - System.currentTimeMillis() / 1000) < 60, "TIME is the server's clock: " + time);
        assertEquals(List.of(), call("CONFIG", "GET", "save"));
        assertEquals("-ERR unknown subcommand 'SET'. Try CONFIG HELP.", call("CONFIG", "SET", "a", "b"));
    }

    @Test
    void unknownCommandsAndArityErrorsUseRedisTexts() throws IOException {
        assertEquals("-ERR unknown command 'FOO', with args beginning with: ", call("FOO"));
        assertEquals("-ERR unknown command 'FOO', with args beginning with: 'a' 'b c' ", call("FOO", "a", "b c"));
        String longArgument = "x".repeat(200);
        assertEquals("-ERR unknown command 'hset', with args beginning with: '" + "x".repeat(128) + "' ",
                call("hset", longArgument, "more"));
        assertEquals("-ERR wrong number of arguments for 'get' command", call("GET"));
        assertEquals("-ERR wrong number of arguments for 'get' command", call("get", "a", "b"));
        assertEquals("-ERR wrong number of arguments for 'mset' command", call("MSET", "a", "1", "b"));
        assertEquals("-ERR wrong number of arguments for 'client|setname' command", call("CLIENT", "SETNAME"));
        assertEquals("-ERR unknown subcommand 'nope'. Try CLIENT HELP.", call("CLIENT", "nope"));
    }

    @Test
    void clientCommands() throws IOException {
        assertInstanceOf(Long.class, call("CLIENT", "ID"));
        assertNull(call("CLIENT", "GETNAME"));
        assertEquals("OK", call("CLIENT", "SETNAME", "worker-1"));
        assertEquals("worker-1", call("CLIENT", "GETNAME"));
        assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                call("CLIENT", "SETNAME", "a b"));
        assertEquals("OK", call("CLIENT", "SETINFO", "LIB-NAME", "jedis"));
        assertEquals("OK", call("CLIENT", "SETINFO", "lib-ver", "5.1"));
        assertEquals("-ERR Unrecognized option 'color'", call("CLIENT", "SETINFO", "color", "red"));
        String info = (String) call("CLIENT", "INFO");
        assertTrue(info.contains("name=worker-1") && info.contains("lib-name=jedis") && info.contains("lib-ver=5.1")
                && info.contains("resp=2"), info);
    }

    @Test
    void helloSwitchesToResp3AndBack() throws IOException {
        Map<?, ?> hello = (Map<?, ?>) call("HELLO", "3", "SETNAME", "r3");
        assertEquals("redis", hello.get("server"));
        assertEquals(3L, hello.get("proto"));
        assertEquals("r3", call("CLIENT", "GETNAME"));
        call("SET", "k", "v");
        assertNull(call("GET", "missing"), "RESP3 null");
        assertEquals(Map.of(), call("CONFIG", "GET", "x"), "a RESP3 map");
        List<?> resp2Hello = (List<?>) call("HELLO", "2");
        assertEquals("proto", resp2Hello.get(4), "in RESP2 the map is a flat array");
        assertEquals(2L, resp2Hello.get(5));
        assertEquals("-NOPROTO unsupported protocol version", call("HELLO", "4"));
        assertEquals("-ERR Protocol version is not an integer or out of range", call("HELLO", "x"));
        assertEquals("-ERR Syntax error in HELLO option 'bogus'", call("HELLO", "3", "bogus"));
        assertEquals(2L, ((List<?>) call("HELLO")).get(5), "a refused HELLO changes nothing");
    }

    @Test
    void commandAndInfoDescribeTheServer() throws IOException {
        long count = (Long) call("COMMAND", "COUNT");
        assertEquals(count, ((List<?>) call("COMMAND")).size());
        List<?> get = (List<?>) ((List<?>) call("COMMAND", "INFO", "get", "nosuch")).get(0);
        assertEquals(List.of("get", 2L), get.subList(0, 2));
        assertEquals(List.of(1L, 1L, 1L), get.subList(3, 6), "key positions");
        List<?> docs = (List<?>) call("COMMAND", "DOCS", "set");
        assertEquals("set", docs.get(0));
        assertTrue(((List<?>) docs.get(1)).contains("summary"), docs.toString());
        String info = (String) call("INFO");
        for (String expected : List.of("# Server", "redis_version:", "# Clients", "# Replication", "role:master",
                "# Keyspace", "# Cluster", "loomkv_mode:memory")) {
            assertTrue(info.contains(expected), expected + " in " + info);
        }
        String server = (String) call("INFO", "server");
        assertTrue(server.startsWith("# Server") && !server.contains("# Clients"), server);
        assertEquals((long) Slots.slotOf("user:{42}".getBytes()), call("CLUSTER", "KEYSLOT", "user:{42}"));
        assertEquals(12182L, call("CLUSTER", "KEYSLOT", "foo"), "the slot Redis gives 'foo'");
        assertEquals(11058L, call("CLUSTER", "KEYSLOT", "somekey"), "Redis's documented example");
        assertEquals("-ERR This instance has cluster support disabled", call("CLUSTER", "SLOTS"));
    }

    @Test
    void getSetAndTheirOptions() throws IOException {
        assertNull(call("GET", "k"));
        assertEquals("OK", call("SET", "k", "v1"));
        assertEquals("v1", call("GET", "k"));
        assertNull(call("SET", "k", "v2", "NX"));
        assertEquals("v1", call("SET", "k", "v2", "NX", "GET"), "NX GET returns the value it kept");
        assertEquals("OK", call("SET", "k", "v2", "XX"));
        assertNull(call("SET", "absent", "v", "XX"));
        assertNull(call("GET", "absent"), "XX on an absent key writes nothing");
        assertEquals("v2", call("SET", "k", "v3", "GET"));
        assertNull(call("SET", "new", "n", "GET"));
        assertEquals("OK", call("SET", "nx", "1", "nx"));
        assertEquals("-ERR syntax error", call("SET", "k", "v", "NX", "XX"));
        assertEquals("-ERR syntax error", call("SET", "k", "v", "BOGUS"));
        for (List<String> bad : List.of(List.of("EX", "0"), List.of("PX", "-5"), List.of("EXAT", "0"),
                List.of("EX", "9223372036854775807"))) {
            List<String> command = new ArrayList<>(List.of("SET", "k", "ttl"));
            command.addAll(bad);
            assertEquals("-ERR invalid expire time in 'set' command", call(command.toArray(String[]::new)), bad.toString());
        }
        assertEquals("-ERR value is not an integer or out of range", call("SET", "k", "v", "EX", "ten"));
        assertEquals("-ERR syntax error", call("SET", "k", "v", "EX", "10", "PX", "10"));
        assertEquals("-ERR syntax error", call("SET", "k", "v", "KEEPTTL", "EX", "10"));
        assertEquals("v3", call("GET", "k"), "a refused SET writes nothing");
        assertEquals(1L, call("SETNX", "s", "1"));
        assertEquals(0L, call("SETNX", "s", "2"));
        assertEquals("1", call("GETSET", "s", "3"));
        assertEquals("3", call("GETDEL", "s"));
        assertNull(call("GETDEL", "s"));
        assertEquals("string", call("TYPE", "k"));
        assertEquals("none", call("TYPE", "s"));
    }

    @Test
    void randomKeyReturnsAnExistingKeyOrNil() throws IOException {
        assertNull(call("RANDOMKEY"));
        java.util.Set<String> keys = java.util.Set.of("a", "m", "zz", "\u00ff");
        for (String key : keys) {
            assertEquals("OK", call("SET", key, "v"));
        }
        java.util.Set<Object> seen = new java.util.HashSet<>();
        for (int i = 0; i < 200; i++) {
            Object key = call("RANDOMKEY");
            assertTrue(keys.contains(key), "not a key: " + key);
            seen.add(key);
        }
        assertTrue(seen.size() >= 2, "200 calls found only " + seen);
    }

    @Test
    void keysWithATimeToLive() throws IOException {
        long now = backend.nowMillis.get();
        assertEquals(-2L, call("TTL", "k"));
        assertEquals("OK", call("SET", "k", "v", "EX", "100"));
        assertEquals(100L, call("TTL", "k"));
        assertEquals(100_000L, call("PTTL", "k"));
        assertEquals((now + 100_000) / 1000, call("EXPIRETIME", "k"));
        assertEquals(now + 100_000, call("PEXPIRETIME", "k"));
        assertEquals("OK", call("SET", "k", "w", "KEEPTTL"));
        assertEquals(100_000L, call("PTTL", "k"), "KEEPTTL keeps the deadline");
        assertEquals(1L, call("INCR", "n"));
        assertEquals(1L, call("EXPIRE", "n", "50"));
        assertEquals(2L, call("INCR", "n"));
        assertEquals(50L, call("TTL", "n"), "INCR keeps the deadline");
        assertEquals("OK", call("SET", "k", "plain"));
        assertEquals(-1L, call("TTL", "k"), "SET without an expiry option removes the deadline");
        assertEquals(0L, call("EXPIRE", "missing", "10"));
        assertEquals(1L, call("PEXPIRE", "k", "1500"));
        assertEquals(2L, call("TTL", "k"), "1.5 s rounds to 2, as in Redis");
        assertEquals(1L, call("PERSIST", "k"));
        assertEquals(0L, call("PERSIST", "k"), "nothing to remove");
        assertEquals(1L, call("EXPIREAT", "k", Long.toString(now / 1000 + 30)));
        assertEquals(now / 1000 + 30, call("EXPIRETIME", "k"));
        assertEquals(1L, call("PEXPIREAT", "k", Long.toString(now + 5)));
        assertEquals("OK", call("SETEX", "s", "10", "sv"));
        assertEquals(10L, call("TTL", "s"));
        assertEquals("OK", call("PSETEX", "p", "2500", "pv"));
        assertEquals(2500L, call("PTTL", "p"));
        assertEquals("-ERR invalid expire time in 'setex' command", call("SETEX", "s", "0", "x"));
        assertEquals("sv", call("GETEX", "s", "PX", "700"));
        assertEquals(700L, call("PTTL", "s"));
        assertEquals("sv", call("GETEX", "s", "PERSIST"));
        assertEquals(-1L, call("TTL", "s"));
        assertEquals("sv", call("GETEX", "s"));
        assertNull(call("GETEX", "nothing", "EX", "5"));
        assertEquals("-ERR syntax error", call("GETEX", "s", "EX"));
        assertEquals("-ERR invalid expire time in 'getex' command", call("GETEX", "s", "EX", "-1"));
        assertEquals(0L, call("EXPIRE", "s", "10", "XX"), "XX: s has no deadline");
        assertEquals(1L, call("EXPIRE", "s", "10", "NX"));
        assertEquals(0L, call("EXPIRE", "s", "20", "NX"), "NX: s has one now");
        assertEquals(0L, call("EXPIRE", "s", "5", "GT"));
        assertEquals(1L, call("EXPIRE", "s", "5", "LT"));
        assertEquals(5L, call("TTL", "s"));
        assertEquals(1L, call("EXPIRE", "s", "8", "XX", "GT"));
        assertEquals(8L, call("TTL", "s"));
        assertEquals(1L, call("PERSIST", "s"));
        assertEquals(0L, call("EXPIRE", "s", "8", "XX", "LT"), "XX LT: no deadline to be earlier than");
        assertEquals(-1L, call("TTL", "s"));
        assertEquals("-ERR NX and XX, GT or LT options at the same time are not compatible",
                call("EXPIRE", "s", "10", "NX", "GT"));
        assertEquals("-ERR GT and LT options at the same time are not compatible", call("EXPIRE", "s", "10", "GT", "LT"));
        assertEquals(-1L, call("TTL", "s"), "a refused EXPIRE changes nothing");
        assertNull(call("SET", "gs", "v", "EX", "10", "GET"));
        assertEquals(10L, call("TTL", "gs"));
        assertEquals("v", call("GETSET", "gs", "w"));
        assertEquals(-1L, call("TTL", "gs"), "GETSET removes the deadline, as in Redis");

        backend.nowMillis.addAndGet(2_000);
        assertEquals("pv", call("GET", "p"), "PSETEX 2500: still there after 2 s");
        assertEquals(-2L, call("TTL", "k"), "PEXPIREAT in the past deleted it");
        backend.nowMillis.addAndGet(500);
        assertNull(call("GET", "p"));
        assertEquals(-2L, call("PTTL", "p"));
        assertEquals(1L, call("EXPIRE", "s", "-1"), "a negative time deletes the key");
        assertNull(call("GET", "s"));
    }

    @Test
    void multiKeyCommands() throws IOException {
        assertEquals("OK", call("MSET", "a", "1", "b", "2", "a", "3"));
        assertEquals(List.of("3", "2"), call("MGET", "a", "b"), "a key given twice takes its last value");
        List<Object> withMissing = new ArrayList<>();
        withMissing.add("3");
        withMissing.add(null);
        assertEquals(withMissing, call("MGET", "a", "zz"));
        assertEquals(3L, call("EXISTS", "a", "b", "a", "zz"), "EXISTS counts a key named twice twice");
        assertEquals(1L, call("MSETNX", "c", "1"));
        assertEquals(0L, call("MSETNX", "c", "2"));
        assertEquals(1L, call("MSETNX", "d", "1", "d", "2"));
        assertEquals("2", call("GET", "d"));
        assertTrue(((String) call("MSETNX", "e", "1", "f", "2")).startsWith("-ERR MSETNX of more than one distinct key"));
        assertEquals(0L, call("EXISTS", "e", "f"));
        assertEquals(2L, call("DEL", "a", "b", "a", "zz"));
        assertEquals(1L, call("UNLINK", "c"));
        assertEquals(0L, call("EXISTS", "a", "b", "c"));
    }

    @Test
    void appendStrlenAndGetRange() throws IOException {
        assertEquals(5L, call("APPEND", "s", "Hello"));
        assertEquals(11L, call("APPEND", "s", " World"));
        assertEquals(11L, call("STRLEN", "s"));
        assertEquals(0L, call("STRLEN", "none"));
        assertEquals("Hell", call("GETRANGE", "s", "0", "3"));
        assertEquals("rld", call("GETRANGE", "s", "-3", "-1"));
        assertEquals("Hello World", call("GETRANGE", "s", "0", "-1"));
        assertEquals("ld", call("GETRANGE", "s", "9", "100"));
        assertEquals("", call("GETRANGE", "s", "5", "3"));
        assertEquals("", call("GETRANGE", "s", "-1", "-5"));
        assertEquals("", call("GETRANGE", "none", "0", "-1"));
        assertEquals("-ERR value is not an integer or out of range", call("GETRANGE", "s", "a", "1"));
    }

    @Test
    void countersFollowRedis() throws IOException {
        assertEquals(1L, call("INCR", "n"));
        assertEquals(11L, call("INCRBY", "n", "10"));
        assertEquals(10L, call("DECR", "n"));
        assertEquals(-5L, call("DECRBY", "n", "15"));
        assertEquals("-5", call("GET", "n"));
        call("SET", "text", "abc");
        assertEquals("-ERR value is not an integer or out of range", call("INCR", "text"));
        call("SET", "spaced", " 1");
        assertEquals("-ERR value is not an integer or out of range", call("INCR", "spaced"));
        assertEquals("-ERR value is not an integer or out of range", call("INCRBY", "n", "1.5"));
        call("SET", "max", Long.toString(Long.MAX_VALUE));
        assertEquals("-ERR increment or decrement would overflow", call("INCR", "max"));
        assertEquals("-ERR decrement would overflow", call("DECRBY", "n", Long.toString(Long.MIN_VALUE)));
        assertEquals(Long.toString(Long.MAX_VALUE), call("GET", "max"), "a refused increment writes nothing");
        assertEquals("10.5", call("INCRBYFLOAT", "f", "10.5"));
        assertEquals("10.6", call("INCRBYFLOAT", "f", "0.1"));
        assertEquals("5.6", call("INCRBYFLOAT", "f", "-5"));
        assertEquals("0.1", call("INCRBYFLOAT", "g", "0.1"));
        assertEquals("0.3", call("INCRBYFLOAT", "g", "0.2"), "as Redis prints it, not 0.30000000000000004");
        assertEquals("0.3", call("INCRBYFLOAT", "h", "0.3"));
        assertEquals("5000", call("INCRBYFLOAT", "i", "5.0e3"));
        assertEquals("-ERR value is not a valid float", call("INCRBYFLOAT", "f", "abc"));
        assertEquals("-ERR value is not a valid float", call("INCRBYFLOAT", "text", "1"));
        assertEquals("-ERR increment would produce NaN or Infinity", call("INCRBYFLOAT", "f", "1e400"));
    }

    @Test
    void concurrentIncrementsAreNeverLost() throws Exception {
        int clients = 8;
        int increments = 200;
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                try (RespTestClient own = new RespTestClient(server.port())) {
                    for (int i = 0; i < increments; i++) {
                        Object reply = own.call("INCR", "counter");
                        if (!(reply instanceof Long)) {
                            throw new AssertionError("INCR answered " + reply);
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.close();
        assertEquals(Integer.toString(clients * increments), call("GET", "counter"));
    }

    @Test
    void scanWalksEveryKeyOnceWithMatchAndCount() throws IOException {
        Set<String> expected = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            call("SET", "user:" + i, "v");
            expected.add("user:" + i);
            call("SET", "item:" + i, "v");
        }
        Set<String> seen = new HashSet<>();
        String cursor = "0";
        int calls = 0;
        do {
            List<?> page = (List<?>) call("SCAN", cursor, "MATCH", "user:*", "COUNT", "7");
            cursor = (String) page.get(0);
            for (Object key : (List<?>) page.get(1)) {
                assertTrue(seen.add((String) key), "seen twice: " + key);
            }
            calls++;
        } while (!cursor.equals("0") && calls < 100);
        assertEquals(expected, seen);
        List<?> all = (List<?>) call("SCAN", "0", "COUNT", "1000");
        assertEquals(80, ((List<?>) all.get(1)).size());
        assertEquals("0", all.get(0));
        assertEquals(List.of(), ((List<?>) call("SCAN", "0", "TYPE", "hash")).get(1));
        List<?> odd = (List<?>) call("SCAN", "0", "MATCH", "*:1?", "COUNT", "1000");
        assertEquals(20, ((List<?>) odd.get(1)).size(), "user:10..19 and item:10..19");
        assertEquals("-ERR invalid cursor", call("SCAN", "abc"));
        assertEquals("-ERR invalid cursor", call("SCAN", "12345"), "a cursor never handed out");
        assertEquals("-ERR syntax error", call("SCAN", "0", "COUNT", "0"));
        assertEquals("-ERR syntax error", call("SCAN", "0", "MATCH"));
        assertEquals("-ERR syntax error", call("SCAN", "0", "COLOR", "red"));
    }

    @Test
    void keysAndDbsizeAreBounded() throws IOException {
        for (int i = 0; i < 30; i++) {
            call("SET", "a" + i, "v");
            call("SET", "b" + i, "v");
        }
        assertEquals(30, ((List<?>) call("KEYS", "a*")).size());
        assertEquals(List.of("a7"), call("KEYS", "a[7]"));
        String tooMany = (String) call("KEYS", "*");
        assertTrue(tooMany.startsWith("-ERR KEYS would go over 50 keys"), tooMany);
        assertTrue(((String) call("DBSIZE")).startsWith("-ERR DBSIZE would go over 50 keys"));
        call("DEL", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11");
        assertEquals(49L, call("DBSIZE"));
    }

    @Test
    void pipelinedCommandsOnOneKeySeeEachOtherAndRepliesComeInOrder() throws IOException {
        StringBuilder pipeline = new StringBuilder();
        int rounds = 100;
        for (int i = 0; i < rounds; i++) {
            pipeline.append(new String(RespTestClient.encode("SET", "p" + i, "0")));
            pipeline.append(new String(RespTestClient.encode("INCR", "p" + i)));
            pipeline.append(new String(RespTestClient.encode("APPEND", "p" + i, "x")));
            pipeline.append(new String(RespTestClient.encode("GET", "p" + i)));
            pipeline.append("PING\r\n");
        }
        pipeline.append(new String(RespTestClient.encode("DBSIZE")));
        client.send(pipeline.toString());
        for (int i = 0; i < rounds; i++) {
            assertEquals("OK", client.read());
            assertEquals(1L, client.read());
            assertEquals(2L, client.read());
            assertEquals("1x", client.read());
            assertEquals("PONG", client.read());
        }
        assertEquals("-ERR DBSIZE would go over 50 keys, more than one reply may hold here; use SCAN to walk the key space in steps",
                client.read(), "DBSIZE waited for every SET before it");
    }

    @Test
    void quitAnswersThenCloses() throws IOException {
        client.send(new String(RespTestClient.encode("SET", "q", "1")) + new String(RespTestClient.encode("QUIT"))
                + new String(RespTestClient.encode("GET", "q")));
        assertEquals("OK", client.read());
        assertEquals("OK", client.read());
        assertTrue(client.closedByServer(), "nothing is answered after QUIT");
    }
}
