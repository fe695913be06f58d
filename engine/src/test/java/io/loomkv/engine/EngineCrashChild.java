package io.loomkv.engine;

import io.loomkv.core.engine.PersistentKvEngine;
import io.loomkv.core.engine.WriteBatch;
import io.loomkv.core.engine.WriteOp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link EngineCrashTest}: opens an engine and applies numbered batches for group
 * {@link #GROUP} until it is killed, printing {@code ACK n} once batch {@code n} is durable.
 *
 * <p>Batch {@code n} (its applied index) puts {@link #ROWS} rows, each a value that names {@code n},
 * a counter read from the engine plus one (so a lost or doubled batch shows), and a {@code tmp/}
 * key; every {@link #RANGE_DELETE_EVERY}th index is instead a range delete of every {@code tmp/} key.
 * Arguments: engine name, directory, {@code sync} (every write synced) or {@code batched} (a
 * {@code sync()} every {@link #SYNC_EVERY} batches).
 */
public final class EngineCrashChild {
    static final long GROUP = 3;
    static final int ROWS = 8;
    static final int RANGE_DELETE_EVERY = 25;
    static final int SYNC_EVERY = 10;
    static final byte[] COUNTER = "counter".getBytes(StandardCharsets.US_ASCII);
    static final byte[] TMP_FROM = "tmp/".getBytes(StandardCharsets.US_ASCII);
    static final byte[] TMP_TO = "tmp0".getBytes(StandardCharsets.US_ASCII);

    private EngineCrashChild() {
    }

    public static void main(String[] args) {
        String engineName = args[0];
        Path directory = Path.of(args[1]);
        boolean syncEveryWrite = args[2].equals("sync");
        PersistentKvEngine engine = TestEngines.open(engineName, directory, syncEveryWrite);
        System.out.println("READY");
        System.out.flush();
        for (long index = engine.appliedIndex(GROUP) + 1; ; index++) {
            if (index % RANGE_DELETE_EVERY == 0) {
                engine.deleteRange(TMP_FROM, TMP_TO, GROUP, index);
            } else {
                engine.write(batch(engine, index), GROUP, index);
            }
            if (syncEveryWrite) {
                acknowledge(index);
            } else if (index % SYNC_EVERY == 0) {
                engine.sync();
                acknowledge(engine.durableAppliedIndex(GROUP));
            }
        }
    }

    private static void acknowledge(long index) {
        System.out.println("ACK " + index);
        System.out.flush();
    }

    private static WriteBatch batch(PersistentKvEngine engine, long index) {
        List<WriteOp> ops = new ArrayList<>();
        for (int row = 0; row < ROWS; row++) {
            ops.add(new WriteOp.Put(rowKey(row), rowValue(index, row)));
        }
        byte[] counter = engine.get(COUNTER);
        long next = (counter == null ? 0 : ByteBuffer.wrap(counter).getLong()) + 1;
        ops.add(new WriteOp.Put(COUNTER, ByteBuffer.allocate(Long.BYTES).putLong(next).array()));
        ops.add(new WriteOp.Put(("tmp/" + index % 7).getBytes(StandardCharsets.US_ASCII),
                ByteBuffer.allocate(Long.BYTES).putLong(index).array()));
        return new WriteBatch(ops);
    }

    static byte[] rowKey(int row) {
        return ("row/" + row).getBytes(StandardCharsets.US_ASCII);
    }

    /** Up to about 6 KB, so batches span pages and blocks; the content names the batch and row. */
    static byte[] rowValue(long index, int row) {
        int length = 16 + (int) ((index * 7919 + row * 104_729L) % 6000);
        ByteBuffer value = ByteBuffer.allocate(length).putLong(index).putLong(row);
        while (value.hasRemaining()) {
            value.put((byte) (index + row + value.position()));
        }
        return value.array();
    }

    /** The index of the last batch that was a write (not a range delete) at or before {@code index}. */
    static long lastWriteBatch(long index) {
        return index % RANGE_DELETE_EVERY == 0 ? index - 1 : index;
    }
}
