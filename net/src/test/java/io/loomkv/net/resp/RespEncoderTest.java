package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every reply type in RESP2 and RESP3, byte for byte. */
class RespEncoderTest {
    private static String encode(RespReply reply, int protocol) {
        RespEncoder encoder = new RespEncoder();
        encoder.write(reply, protocol);
        return new String(encoder.toByteArray(), StandardCharsets.ISO_8859_1);
    }

    private static void assertBoth(String expected, RespReply reply) {
        assertEquals(expected, encode(reply, 2), "RESP2");
        assertEquals(expected, encode(reply, 3), "RESP3");
    }

    @Test
    void typesThatAreTheSameInBothProtocols() {
        assertBoth("+OK\r\n", RespReply.OK);
        assertBoth("-ERR syntax error\r\n", RespReply.error("ERR syntax error"));
        assertBoth(":0\r\n", RespReply.integer(0));
        assertBoth(":-42\r\n", RespReply.integer(-42));
        assertBoth(":9223372036854775807\r\n", RespReply.integer(Long.MAX_VALUE));
        assertBoth(":-9223372036854775808\r\n", RespReply.integer(Long.MIN_VALUE));
        assertBoth("$5\r\nhello\r\n", RespReply.bulk("hello"));
        assertBoth("$0\r\n\r\n", new RespReply.Bulk(ByteString.EMPTY));
        assertBoth("$4\r\na\r\nb\r\n", RespReply.bulk("a\r\nb"));
        assertBoth("*0\r\n", RespReply.EMPTY_ARRAY);
        assertBoth("*2\r\n:1\r\n*1\r\n$1\r\nx\r\n", new RespReply.Array(List.of(RespReply.integer(1),
                new RespReply.Array(List.of(RespReply.bulk("x"))))));
    }

    @Test
    void nullsAreTypedInResp2AndUnderscoreInResp3() {
        assertEquals("$-1\r\n", encode(RespReply.NULL_BULK, 2));
        assertEquals("*-1\r\n", encode(RespReply.NULL_ARRAY, 2));
        assertEquals("_\r\n", encode(RespReply.NULL_BULK, 3));
        assertEquals("_\r\n", encode(RespReply.NULL_ARRAY, 3));
    }

    @Test
    void mapsAreFlatArraysInResp2() {
        RespReply map = new RespReply.Map(List.of(RespReply.bulk("a"), RespReply.integer(1), RespReply.bulk("b"),
                RespReply.NULL_BULK));
        assertEquals("*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n", encode(map, 2));
        assertEquals("%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n", encode(map, 3));
        assertThrows(IllegalArgumentException.class, () -> new RespReply.Map(List.of(RespReply.OK)));
    }

    @Test
    void doublesAreBulkStringsInResp2() {
        assertEquals("$4\r\n10.5\r\n", encode(new RespReply.Double(10.5), 2));
        assertEquals(",10.5\r\n", encode(new RespReply.Double(10.5), 3));
        assertEquals(",inf\r\n", encode(new RespReply.Double(Double.POSITIVE_INFINITY), 3));
        assertEquals(",-inf\r\n", encode(new RespReply.Double(Double.NEGATIVE_INFINITY), 3));
        assertEquals(",nan\r\n", encode(new RespReply.Double(Double.NaN), 3));
        assertEquals(",3\r\n", encode(new RespReply.Double(3.0), 3));
    }

    @Test
    void doublesPrintLikeRedisG17() {
        assertEquals("0", RespEncoder.formatDouble(0.0));
        assertEquals("-0", RespEncoder.formatDouble(-0.0));
        assertEquals("1.5", RespEncoder.formatDouble(1.5));
        assertEquals("0.10000000000000001", RespEncoder.formatDouble(0.1));
        assertEquals("1e+20", RespEncoder.formatDouble(1e20));
        assertEquals("1.5e-05", RespEncoder.formatDouble(1.5e-5));
        assertEquals("0.0001", RespEncoder.formatDouble(1e-4));
        assertEquals("-123456", RespEncoder.formatDouble(-123456));
    }

    @Test
    void booleansAreIntegersInResp2() {
        assertEquals(":1\r\n", encode(new RespReply.Boolean(true), 2));
        assertEquals(":0\r\n", encode(new RespReply.Boolean(false), 2));
        assertEquals("#t\r\n", encode(new RespReply.Boolean(true), 3));
        assertEquals("#f\r\n", encode(new RespReply.Boolean(false), 3));
    }

    @Test
    void lineBreaksInSimpleStringsAndErrorsBecomeSpaces() {
        assertBoth("-ERR bad\r thing\r\n".replace("\r t", "  t"), RespReply.error("ERR bad\r\nthing"));
        assertBoth("+a b\r\n", new RespReply.SimpleString("a\nb"));
    }

    @Test
    void onlyProtocolsTwoAndThreeExist() {
        assertThrows(IllegalArgumentException.class, () -> new RespEncoder().write(RespReply.OK, 1));
    }

    @Test
    void repliesAccumulateUntilFlushedInOneWrite() throws IOException {
        RespEncoder encoder = new RespEncoder();
        byte[] big = new byte[100_000];
        for (int i = 0; i < 3; i++) {
            encoder.write(RespReply.OK, 2);
            encoder.write(new RespReply.Bulk(ByteString.copyFrom(big)), 2);
        }
        int[] writes = {0};
        ByteArrayOutputStream sink = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes[0]++;
                super.write(b, off, len);
            }
        };
        int expected = encoder.length();
        encoder.flushTo(sink);
        assertEquals(1, writes[0]);
        assertEquals(expected, sink.size());
        assertEquals(3 * ("+OK\r\n".length() + "$100000\r\n".length() + 100_000 + 2), expected);
        assertEquals(0, encoder.length());
        encoder.write(RespReply.integer(7), 2);
        assertEquals(":7\r\n", new String(encoder.toByteArray(), StandardCharsets.US_ASCII), "the buffer is reused from empty");
    }
}
