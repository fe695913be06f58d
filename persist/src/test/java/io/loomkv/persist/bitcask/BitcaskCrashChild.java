package io.loomkv.persist.bitcask;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.Random;

/**
 * The child process of {@link BitcaskCrashTest}: opens the store, reads which batch it applied last
 * from the metadata, then writes the following batches, each synced, printing "ACK n" once batch n
 * is durable, while another thread merges now and then; until it is killed. Arguments: the store
 * directory and the seed that decides every batch's contents.
 */
public final class BitcaskCrashChild {
    static final int KEY_SPACE = 400;

    private BitcaskCrashChild() {
    }

    /** Batch {@code n}'s puts, deletes and range delete, the same in the child and in the parent's model. */
    static BitcaskBatch batch(long seed, long n, NavigableMap<byte[], byte[]> model) {
        Random random = new Random(seed * 1_000_003L + n);
        BitcaskBatch batch = new BitcaskBatch().metadata(metadata(n));
        int ops = 1 + random.nextInt(12);
        for (int i = 0; i < ops; i++) {
            byte[] key = BitcaskTestSupport.key(random.nextInt(KEY_SPACE));
            if (random.nextInt(6) == 0) {
                batch.delete(key);
                if (model != null) {
                    model.remove(key);
                }
            } else {
                byte[] value = BitcaskTestSupport.value(random, 10 + random.nextInt(300));
                batch.put(key, value);
                if (model != null) {
                    model.put(key, value);
                }
            }
        }
        return batch;
    }

    static byte[] metadata(long n) {
        return ("batch=" + n).getBytes(StandardCharsets.UTF_8);
    }

    static long parseMetadata(byte[] blob) {
        return blob.length == 0 ? 0 : Long.parseLong(new String(blob, StandardCharsets.UTF_8).substring("batch=".length()));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        BitcaskStore store = BitcaskStore.open(BitcaskTestSupport.smallOptions(dir));
        long last = parseMetadata(store.metadata());
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (true) {
                    Thread.sleep(30);
                    store.merge();
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        });
        System.out.println("READY " + last);
        System.out.flush();
        for (long n = last + 1; ; n++) {
            store.write(batch(seed, n, null), true);
            System.out.println("ACK " + n);
            System.out.flush();
        }
    }
}
