package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import java.util.Comparator;

/** Key order and key arithmetic on ByteString keys, as the protocol carries them (the engine's {@link io.loomkv.core.engine.Keys} does the same on byte arrays). */
public final class KvKeys {

    /** Unsigned lexicographic byte order: the order of every engine and of scans. */
    public static final Comparator<ByteString> ORDER = ByteString.unsignedLexicographicalComparator();

    private static final ByteString ZERO_BYTE = ByteString.copyFrom(new byte[] {0});

    private KvKeys() {}

    /** The smallest key strictly greater than {@code key}: {@code key + 0x00}. */
    public static ByteString successor(ByteString key) {
        return key.concat(ZERO_BYTE);
    }

    /**
     * The smallest key greater than every key starting with {@code prefix}, or empty (no upper
     * bound) when there is none: an empty prefix or one made only of 0xFF bytes.
     */
    public static ByteString prefixEnd(ByteString prefix) {
        for (int i = prefix.size() - 1; i >= 0; i--) {
            int b = prefix.byteAt(i) & 0xFF;
            if (b != 0xFF) {
                byte[] end = prefix.substring(0, i + 1).toByteArray();
                end[i] = (byte) (b + 1);
                return ByteString.copyFrom(end);
            }
        }
        return ByteString.EMPTY;
    }

    /** Compares keys in {@link #ORDER}. */
    public static int compare(ByteString a, ByteString b) {
        return ORDER.compare(a, b);
    }
}
