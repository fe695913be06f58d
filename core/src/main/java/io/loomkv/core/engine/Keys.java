package io.loomkv.core.engine;

import java.util.Arrays;

/** Key order and the key arithmetic that ranges need. */
public final class Keys {
    private Keys() {
    }

    /** Unsigned lexicographic order, the order of every engine. */
    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** The smallest key greater than {@code key}: {@code key} followed by a zero byte. */
    public static byte[] successor(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    /**
     * The smallest key greater than every key that starts with {@code prefix}, or null when there is
     * none (an empty prefix or one of only 0xFF bytes: the range is open-ended).
     */
    public static byte[] prefixEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xFF) {
                byte[] end = Arrays.copyOf(prefix, i + 1);
                end[i]++;
                return end;
            }
        }
        return null;
    }

    /** A short printable form for logs and messages. */
    static String describe(byte[] key) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(key.length, 32); i++) {
            int b = key[i] & 0xFF;
            if (b >= 0x20 && b < 0x7F && b != '\\') {
                out.append((char) b);
            } else {
                out.append(String.format("\\x%02x", b));
            }
        }
        if (key.length > 32) {
            out.append("...(").append(key.length).append(" bytes)");
        }
        return out.toString();
    }
}
