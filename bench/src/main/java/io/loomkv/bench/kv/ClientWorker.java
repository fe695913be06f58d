package io.loomkv.bench.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.KeyRange;
import io.loomkv.core.kv.proto.MultiGetResult;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.net.client.KvClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;

/**
 * One bench client: draws operations from the mix and keys from the key space (with its own
 * seeded random), and runs them against the cluster with the sync client API. Not thread-safe:
 * one per worker thread.
 */
final class ClientWorker implements LoadLoop.Worker {
    private final KvClient client;
    private final KvBenchSettings settings;
    private final KeySpace keySpace;
    private final List<ByteString> values;
    private final SplittableRandom random;
    private final ErrorKinds errorKinds;
    /** Keys this worker's reads were answered for (found or not); read by the thread that ran it, or after. */
    private long keysRead;

    ClientWorker(KvClient client, KvBenchSettings settings, KeySpace keySpace, List<ByteString> values, long seed,
            ErrorKinds errorKinds) {
        this.client = client;
        this.settings = settings;
        this.keySpace = keySpace;
        this.values = values;
        this.random = new SplittableRandom(seed);
        this.errorKinds = errorKinds;
    }

    @Override
    public OpType nextOp() {
        return settings.mix().next(random);
    }

    @Override
    public LoadLoop.Outcome execute(OpType op) {
        try {
            return switch (op) {
                case READ -> read();
                case UPDATE -> {
                    client.put(KeySpace.key(keySpace.nextExistingIndex(random)), randomValue());
                    yield LoadLoop.Outcome.OK;
                }
                case INSERT -> {
                    client.put(KeySpace.key(keySpace.nextInsertIndex()), randomValue());
                    yield LoadLoop.Outcome.OK;
                }
                case SCAN -> scan();
                case RMW -> readModifyWrite();
            };
        } catch (RuntimeException e) {
            errorKinds.record(op, e);
            return LoadLoop.Outcome.ERROR;
        } catch (ExecutionException e) {
            errorKinds.record(op, e.getCause() == null ? e : e.getCause());
            return LoadLoop.Outcome.ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            errorKinds.record(op, e);
            return LoadLoop.Outcome.ERROR;
        }
    }

    /** One key with a get, or {@code --mget-keys} keys with one multi-get (the client splits it per group). */
    private LoadLoop.Outcome read() throws ExecutionException, InterruptedException {
        int count = settings.mgetKeys();
        if (count == 0) {
            client.get(KeySpace.key(keySpace.nextExistingIndex(random)), settings.consistency());
            keysRead++;
            return LoadLoop.Outcome.OK;
        }
        List<ByteString> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add(KeySpace.key(keySpace.nextExistingIndex(random)));
        }
        MultiGetResult result = client.multiGetAsync(keys, settings.consistency()).get();
        keysRead += result.getEntriesCount();
        return LoadLoop.Outcome.OK;
    }

    /** Keys the reads of this worker were answered for, found or not (a multi-get counts each of its keys). */
    long keysRead() {
        return keysRead;
    }

    /** Writes keys {@code [from, from + count)} with values from the pool (the preload): a put, or one multi-put. */
    void load(long from, int count) {
        if (count == 1) {
            client.put(KeySpace.key(from), randomValue());
            return;
        }
        Map<ByteString, ByteString> entries = new LinkedHashMap<>();
        for (long index = from; index < from + count; index++) {
            entries.put(KeySpace.key(index), randomValue());
        }
        client.multiPut(entries);
    }

    private ByteString randomValue() {
        return values.get(random.nextInt(values.size()));
    }

    /**
     * A range scan from an existing key. Through {@link KvClient#scanAsync}, which asks every
     * group that may hold keys of the range and merges their pages: a scan request sent as it is
     * names no key, so on a sharded cluster it has no group to go to.
     */
    private LoadLoop.Outcome scan() throws ExecutionException, InterruptedException {
        int length = 1 + random.nextInt(KvBenchSettings.MAX_SCAN_LENGTH);
        Scan scan = Scan.newBuilder()
                .setRange(KeyRange.newBuilder().setStart(KeySpace.key(keySpace.nextExistingIndex(random)))
                        .setEnd(KeySpace.keySpaceEnd()))
                .setLimit(length)
                .build();
        client.scanAsync(scan, settings.consistency()).get();
        return LoadLoop.Outcome.OK;
    }

    /** YCSB F: read the value, then write a new one only if nobody changed it meanwhile (compare-and-set). */
    private LoadLoop.Outcome readModifyWrite() {
        ByteString key = KeySpace.key(keySpace.nextExistingIndex(random));
        ReadConsistency consistency = settings.consistency();
        Optional<ByteString> current = client.get(key, consistency);
        boolean swapped = client.compareAndSet(key, current, randomValue());
        return swapped ? LoadLoop.Outcome.OK : LoadLoop.Outcome.CONFLICT;
    }
}
