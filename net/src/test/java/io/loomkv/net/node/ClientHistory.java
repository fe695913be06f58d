package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.lincheck.CheckResult;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvModel;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.core.lincheck.LinearizabilityChecker;
import io.loomkv.core.lincheck.Operation;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records what concurrent clients asked and were told (get/put/append on a few keys) for the
 * linearizability checker. A write without a definite answer is recorded as pending (it may or
 * may not have happened); a read without an answer is left out (it changed nothing).
 */
final class ClientHistory {
    private final List<String> keys;
    private final List<Operation<KvInput, KvOutput>> operations = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger completed = new AtomicInteger();
    private final AtomicInteger unknown = new AtomicInteger();

    /** A history whose operations are chosen by the caller ({@link #run}), not drawn from keys. */
    ClientHistory() {
        this.keys = List.of();
    }

    ClientHistory(List<String> keys) {
        this.keys = List.copyOf(keys);
    }

    void runOne(KvClient client, int clientNumber, int i, Random random) {
        String key = keys.get(random.nextInt(keys.size()));
        KvInput input = switch (random.nextInt(3)) {
            case 0 -> new KvInput.Get(key);
            case 1 -> new KvInput.Put(key, "p" + clientNumber + "." + i);
            default -> new KvInput.Append(key, "a" + clientNumber + "." + i + ";");
        };
        run(client, clientNumber, input);
    }

    /**
     * Runs {@code input} through {@code client} and records it; the answer, or empty when the
     * client gave up without one (the operation may or may not have taken effect).
     */
    Optional<KvOutput> run(KvClient client, int clientNumber, KvInput input) {
        long start = System.nanoTime();
        try {
            KvOutput output = switch (input) {
                case KvInput.Get get -> new KvOutput.Value(client.get(get.key()).orElse(null));
                case KvInput.Put put -> {
                    client.put(put.key(), put.value());
                    yield KvOutput.OK;
                }
                case KvInput.Append append -> {
                    client.append(ByteString.copyFromUtf8(append.key()), ByteString.copyFromUtf8(append.value()));
                    yield KvOutput.OK;
                }
                default -> throw new IllegalStateException("unexpected " + input);
            };
            operations.add(Operation.completed(clientNumber, input, start, output, System.nanoTime()));
            completed.incrementAndGet();
            return Optional.of(output);
        } catch (KvClientException e) {
            unknown.incrementAndGet();
            if (!(input instanceof KvInput.Get)) {
                operations.add(Operation.pending(clientNumber, input, start));
            }
            return Optional.empty();
        }
    }

    int completed() {
        return completed.get();
    }

    int unknown() {
        return unknown.get();
    }

    CheckResult check() {
        return LinearizabilityChecker.withDefaults().check(new KvModel(), List.copyOf(operations));
    }
}
