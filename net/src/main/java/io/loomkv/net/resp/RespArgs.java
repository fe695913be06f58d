package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Reading command arguments as Redis does: names case-insensitively, integers strictly. */
final class RespArgs {
    /** Redis's MAX_LONG_DOUBLE_CHARS: a longer float argument is refused. */
    private static final int MAX_FLOAT_CHARS = 5 * 1024;

    private RespArgs() {}

    static String text(ByteString argument) {
        return argument.toStringUtf8();
    }

    /** The argument lower-cased in ASCII (command and option names). */
    static String lower(ByteString argument) {
        return argument.toString(StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
    }

    static boolean is(ByteString argument, String lowerCaseName) {
        return argument.size() == lowerCaseName.length() && lower(argument).equals(lowerCaseName);
    }

    /** A 64-bit integer as Redis's {@code string2ll} reads it, or {@code -ERR value is not an integer or out of range}. */
    static long integer(ByteString argument) {
        byte[] bytes = argument.toByteArray();
        long value = RespParser.parseLong(bytes, 0, bytes.length);
        if (value == Long.MIN_VALUE && !argument.toStringUtf8().equals(Long.toString(Long.MIN_VALUE))) {
            throw RespError.notAnInteger();
        }
        return value;
    }

    /** A finite decimal number, or {@code -ERR value is not a valid float}. */
    static BigDecimal decimal(ByteString argument) {
        String text = argument.size() > MAX_FLOAT_CHARS ? "" : argument.toString(StandardCharsets.ISO_8859_1);
        if (text.isEmpty() || Character.isWhitespace(text.charAt(0)) || Character.isWhitespace(text.charAt(text.length() - 1))) {
            throw RespError.err("value is not a valid float");
        }
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw RespError.err("value is not a valid float");
        }
    }

    static String hostPort(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }
}
