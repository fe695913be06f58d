package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every request shape the parser accepts, and every way it refuses one, with Redis's texts. */
class RespParserTest {
    private static final RespServerConfig LIMITS = RespServerConfig.defaults().withParserLimits(1024, 8, 128, 2048);

    private static RespParser parser(String input) {
        return parser(input.getBytes(StandardCharsets.ISO_8859_1), LIMITS);
    }

    private static RespParser parser(byte[] input, RespServerConfig limits) {
        return RespParser.of(new ByteArrayInputStream(input), limits);
    }

    /** A stream that hands out one byte per read, so every boundary falls inside some token. */
    private static RespParser trickling(String input) {
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        InputStream in = new InputStream() {
            private int position;

            @Override
            public int read() {
                return position < bytes.length ? bytes[position++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (position == bytes.length) {
                    return -1;
                }
                b[off] = bytes[position++];
                return 1;
            }
        };
        return RespParser.of(in, LIMITS);
    }

    private static List<String> strings(List<ByteString> arguments) {
        return arguments.stream().map(ByteString::toStringUtf8).toList();
    }

    private static String protocolError(String input) {
        return assertThrows(RespProtocolException.class, () -> {
            RespParser p = parser(input);
            while (p.next() != null) {
                // Read until the error.
            }
        }).errorText();
    }

    @Test
    void arrayOfBulkStrings() throws IOException {
        RespParser p = parser("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nx!\r\n");
        assertEquals(List.of("SET", "k", "v\r\nx!"), strings(p.next()));
        assertNull(p.next());
    }

    @Test
    void emptyBulkAndBinaryBytes() throws IOException {
        RespParser p = parser("*2\r\n$0\r\n\r\n$3\r\n\u0000\u00ff\n\r\n");
        List<ByteString> arguments = p.next();
        assertEquals(ByteString.EMPTY, arguments.get(0));
        assertEquals(ByteString.copyFrom(new byte[] {0, (byte) 0xff, '\n'}), arguments.get(1));
    }

    @Test
    void pipelinedRequestsComeOneByOneAndTheParserSaysMoreIsBuffered() throws IOException {
        RespParser p = parser("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
        assertEquals(List.of("PING"), strings(p.next()));
        assertTrue(p.hasBufferedInput());
        assertEquals(List.of("PING"), strings(p.next()));
        assertEquals(List.of("ECHO", "hi"), strings(p.next()));
        assertEquals(false, p.hasBufferedInput());
        assertNull(p.next());
    }

    @Test
    void everyBoundaryInsideATokenIsHandled() throws IOException {
        RespParser p = trickling("*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\nSET  \"a b\" 'c'\r\n");
        assertEquals(List.of("ECHO", "hello world"), strings(p.next()));
        assertEquals(List.of("SET", "a b", "c"), strings(p.next()));
        assertNull(p.next());
    }

    @Test
    void inlineCommandsSplitLikeRedis() throws IOException {
        RespParser p = parser("PING\r\nset k v\nECHO \"a\\tb\\x41\\\"\" 'it\\'s'\r\n   \r\n\r\n");
        assertEquals(List.of("PING"), strings(p.next()));
        assertEquals(List.of("set", "k", "v"), strings(p.next()), "a bare LF ends an inline line too");
        assertEquals(List.of("ECHO", "a\tbA\"", "it's"), strings(p.next()));
        assertEquals(RespParser.EMPTY, p.next(), "a blank line is ignored");
        assertEquals(RespParser.EMPTY, p.next());
        assertNull(p.next());
    }

    @Test
    void emptyAndNullArraysAreIgnored() throws IOException {
        RespParser p = parser("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n");
        assertEquals(RespParser.EMPTY, p.next());
        assertEquals(RespParser.EMPTY, p.next());
        assertEquals(List.of("PING"), strings(p.next()));
    }

    @Test
    void unbalancedQuotesAreAProtocolError() {
        assertEquals("ERR Protocol error: unbalanced quotes in request", protocolError("SET \"k v\r\n"));
        assertEquals("ERR Protocol error: unbalanced quotes in request", protocolError("SET 'k\r\n"));
        assertEquals("ERR Protocol error: unbalanced quotes in request", protocolError("SET \"k\"v\r\n"),
                "a closing quote must be followed by a space");
    }

    @Test
    void badArrayCountsAreRefused() {
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*x\r\n"));
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*\r\n"));
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*01\r\n"));
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*+1\r\n"));
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*1\n"), "the count line needs CRLF");
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*9\r\n"), "over maxArrayLength 8");
        assertEquals("ERR Protocol error: invalid multibulk length", protocolError("*99999999999999999999\r\n"));
    }

    @Test
    void aHugeDeclaredArrayCountAllocatesNothing() {
        RespServerConfig roomy = LIMITS.withParserLimits(1024, Integer.MAX_VALUE, 128, 2048);
        RespParser p = parser("*2147483647\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII), roomy);
        assertThrows(EOFException.class, p::next);
    }

    @Test
    void badBulkHeadersAreRefused() {
        assertEquals("ERR Protocol error: expected '$', got ':'", protocolError("*1\r\n:1\r\n"));
        assertEquals("ERR Protocol error: expected '$', got '\\x00'", protocolError("*1\r\n\u0000\r\n"));
        assertEquals("ERR Protocol error: invalid bulk length", protocolError("*1\r\n$-1\r\n"));
        assertEquals("ERR Protocol error: invalid bulk length", protocolError("*1\r\n$-5\r\n"));
        assertEquals("ERR Protocol error: invalid bulk length", protocolError("*1\r\n$abc\r\n"));
        assertEquals("ERR Protocol error: invalid bulk length", protocolError("*1\r\n$1025\r\n"), "over maxBulkBytes 1024");
        assertEquals("ERR Protocol error: invalid bulk length", protocolError("*1\r\n$9223372036854775808\r\n"));
    }

    @Test
    void aBulkMustEndWithCrLf() {
        assertEquals("ERR Protocol error: expected CRLF after a bulk string of 3 bytes",
                protocolError("*1\r\n$3\r\nabcd\r\n"));
    }

    @Test
    void aRequestOverItsByteLimitIsRefused() {
        String bulk = "$1000\r\n" + "x".repeat(1000) + "\r\n";
        assertEquals("ERR Protocol error: request of more than 2048 bytes", protocolError("*3\r\n" + bulk + bulk + bulk));
    }

    @Test
    void longLinesAreRefusedBeforeTheirEnd() {
        String endless = "x".repeat(10_000);
        assertEquals("ERR Protocol error: too big inline request", protocolError("PING " + endless));
        assertEquals("ERR Protocol error: too big mbulk count string", protocolError("*1" + endless));
        assertEquals("ERR Protocol error: too big bulk count string", protocolError("*1\r\n$1" + endless));
    }

    @Test
    void anInlineLineUpToTheLimitIsRead() throws IOException {
        String argument = "y".repeat(120);
        assertEquals(List.of("A", argument), strings(parser("A " + argument + "\r\n").next()));
    }

    @Test
    void truncatedRequestsEndInEofNotInAHang() {
        for (String truncated : List.of("*", "*2", "*2\r", "*2\r\n", "*2\r\n$3", "*2\r\n$3\r\nGE", "*2\r\n$3\r\nGET",
                "*2\r\n$3\r\nGET\r", "*2\r\n$3\r\nGET\r\n$1\r\nk", "PING")) {
            assertThrows(EOFException.class, () -> parser(truncated).next(), truncated);
        }
    }

    @Test
    void aHugeDeclaredBulkAllocatesOnlyWhatArrives() {
        // 1.5 GiB declared within a limit that allows it; the test JVM has 2 GiB, so allocating it up front would fail.
        RespServerConfig roomy = LIMITS.withParserLimits(Integer.MAX_VALUE - 16, 8, 128, Integer.MAX_VALUE - 16);
        byte[] header = "*1\r\n$1610612736\r\nabc".getBytes(StandardCharsets.US_ASCII);
        assertThrows(EOFException.class, () -> parser(header, roomy).next());
    }

    @Test
    void aLargeBulkArrivingInPiecesIsReadWhole() throws IOException {
        RespServerConfig roomy = LIMITS.withParserLimits(1 << 20, 8, 128, 1 << 21);
        byte[] value = new byte[300_000];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) i;
        }
        InputStream in = new SequenceInputStream(Collections.enumeration(List.of(
                new ByteArrayInputStream(("*1\r\n$" + value.length + "\r\n").getBytes(StandardCharsets.US_ASCII)),
                new ByteArrayInputStream(value), new ByteArrayInputStream("\r\n".getBytes(StandardCharsets.US_ASCII)))));
        assertEquals(ByteString.copyFrom(value), RespParser.of(in, roomy).next().get(0));
    }

    @Test
    void integersParseLikeRedisString2ll() {
        assertEquals(0, parse("0"));
        assertEquals(-12, parse("-12"));
        assertEquals(Long.MAX_VALUE, parse("9223372036854775807"));
        for (String bad : List.of("", "-", "+1", "01", "-0", " 1", "1 ", "1.0", "9223372036854775808", "1e3",
                "99999999999999999999")) {
            assertEquals(Long.MIN_VALUE, parse(bad), bad);
        }
    }

    private static long parse(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        return RespParser.parseLong(bytes, 0, bytes.length);
    }
}
