package io.loomkv.persist.engine;

import io.loomkv.core.engine.EngineSnapshot;
import io.loomkv.core.engine.KeyValue;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The byte format of an engine's contents inside a snapshot: for each key in order, key length,
 * key, value length, value (lengths as 4-byte ints), then -1. Streamed both ways, one entry at a time.
 */
public final class EngineSnapshotCodec {
    private static final int END = -1;

    private EngineSnapshotCodec() {
    }

    /** Writes every entry of {@code snapshot} to {@code out}; returns the number of entries. */
    public static long write(EngineSnapshot snapshot, OutputStream out) throws IOException {
        DataOutputStream data = new DataOutputStream(out);
        long count = 0;
        Iterator<KeyValue> entries = snapshot.iterator();
        while (entries.hasNext()) {
            KeyValue entry = entries.next();
            data.writeInt(entry.key().length);
            data.write(entry.key());
            data.writeInt(entry.value().length);
            data.write(entry.value());
            count++;
        }
        data.writeInt(END);
        data.flush();
        return count;
    }

    /**
     * Entries read lazily from {@code in}, for {@code KvEngine.restore}. Lengths beyond the limits,
     * a missing end marker or I/O errors surface as {@link UncheckedIOException} from the iterator.
     */
    public static Iterator<KeyValue> read(InputStream in, int maxKeyBytes, int maxValueBytes) {
        DataInputStream data = new DataInputStream(in);
        return new Iterator<>() {
            private KeyValue next = fetch();

            private KeyValue fetch() {
                try {
                    int keyLength = data.readInt();
                    if (keyLength == END) {
                        return null;
                    }
                    byte[] key = readBytes(keyLength, maxKeyBytes, "key");
                    byte[] value = readBytes(data.readInt(), maxValueBytes, "value");
                    return new KeyValue(key, value);
                } catch (EOFException e) {
                    throw new UncheckedIOException(new IOException("engine snapshot data ends without its end marker", e));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            private byte[] readBytes(int length, int max, String what) throws IOException {
                if (length < 0 || length > max) {
                    throw new IOException("engine snapshot " + what + " length " + length + " is outside 0.." + max);
                }
                byte[] bytes = new byte[length];
                data.readFully(bytes);
                return bytes;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public KeyValue next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                KeyValue result = next;
                next = fetch();
                return result;
            }
        };
    }
}
