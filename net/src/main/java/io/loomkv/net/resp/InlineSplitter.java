package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits an inline command line into arguments the way Redis's {@code sdssplitargs} does:
 * whitespace separates; {@code "..."} takes the escapes {@code \n \r \t \b \a \\ \" \xHH};
 * {@code '...'} takes only {@code \'}; a closing quote must be followed by whitespace or the end.
 */
final class InlineSplitter {
    private InlineSplitter() {}

    /** The arguments of {@code line[from, to)}, or null when its quotes are unbalanced. */
    static List<ByteString> split(byte[] line, int from, int to, int maxArguments) throws RespProtocolException {
        List<ByteString> arguments = new ArrayList<>();
        int i = from;
        while (true) {
            while (i < to && isSpace(line[i])) {
                i++;
            }
            if (i == to) {
                return arguments;
            }
            if (arguments.size() == maxArguments) {
                throw new RespProtocolException("invalid multibulk length");
            }
            ByteArrayOutputStream current = new ByteArrayOutputStream();
            i = readArgument(line, i, to, current);
            if (i < 0) {
                return null;
            }
            arguments.add(ByteString.copyFrom(current.toByteArray()));
        }
    }

    /** Reads one argument starting at {@code i}; returns the index after it, or -1 on unbalanced quotes. */
    private static int readArgument(byte[] line, int i, int to, ByteArrayOutputStream out) {
        boolean inDouble = false;
        boolean inSingle = false;
        while (true) {
            if (i == to) {
                return inDouble || inSingle ? -1 : i;
            }
            byte c = line[i];
            if (inDouble) {
                if (c == '\\' && i + 3 < to && line[i + 1] == 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
                    out.write(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 4;
                    continue;
                }
                if (c == '\\' && i + 1 < to) {
                    out.write(unescape(line[i + 1]));
                    i += 2;
                    continue;
                }
                if (c == '"') {
                    return i + 1 < to && !isSpace(line[i + 1]) ? -1 : i + 1;
                }
                out.write(c);
            } else if (inSingle) {
                if (c == '\\' && i + 1 < to && line[i + 1] == '\'') {
                    out.write('\'');
                    i += 2;
                    continue;
                }
                if (c == '\'') {
                    return i + 1 < to && !isSpace(line[i + 1]) ? -1 : i + 1;
                }
                out.write(c);
            } else if (isSpace(c)) {
                return i;
            } else if (c == '"') {
                inDouble = true;
            } else if (c == '\'') {
                inSingle = true;
            } else {
                out.write(c);
            }
            i++;
        }
    }

    private static int unescape(byte c) {
        return switch (c) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'b' -> '\b';
            case 'a' -> 7;
            default -> c;
        };
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == '\f';
    }

    private static boolean isHex(byte c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static int hex(byte c) {
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    }
}
