package io.loomkv.tools.chaos;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.lincheck.KvInput;
import io.loomkv.core.lincheck.KvOutput;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.client.KvClientConfig;
import io.loomkv.net.client.KvClientException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The concurrent clients of a run. Each has its own {@link KvClient} (own connections, own
 * session) and loops over random operations on the few keys of the {@link KeySet}, so clients
 * conflict often: on registers put, compare-and-set (expecting the value it last saw) and
 * linearizable get; on logs append and get. Every operation goes into the {@link ChaosHistory}.
 */
final class ChaosWorkload {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosWorkload.class);
    /** Short, so that faults produce unknown outcomes instead of clients waiting them out. */
    static final Duration OPERATION_DEADLINE = Duration.ofSeconds(3);
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(1);
    /** A pause between one client's operations, 0..this: keeps the history checkable in seconds. */
    private static final int MAX_THINK_MILLIS = 20;

    private final List<InetSocketAddress> servers;
    private final String clusterId;
    private final KeySet keys;
    private final ChaosHistory history;
    private final long seed;
    private final ReadConsistency readConsistency;
    private final List<Thread> threads = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private volatile boolean stopping;

    ChaosWorkload(List<InetSocketAddress> servers, String clusterId, KeySet keys, ChaosHistory history, long seed,
            ReadConsistency readConsistency) {
        this.readConsistency = readConsistency;
        this.servers = List.copyOf(servers);
        this.clusterId = clusterId;
        this.keys = keys;
        this.history = history;
        this.seed = seed;
    }

    void start(int clients) {
        for (int c = 1; c <= clients; c++) {
            int clientId = c;
            threads.add(Thread.ofPlatform().name("chaos-client-" + c).daemon().start(() -> run(clientId)));
        }
    }

    /** Stops the clients; each finishes (and records) the operation it is in. */
    void stop() {
        stopping = true;
        for (Thread thread : threads) {
            try {
                if (!thread.join(OPERATION_DEADLINE.plusSeconds(10))) {
                    throw new IllegalStateException(thread.getName() + " did not finish its operation within "
                            + OPERATION_DEADLINE.plusSeconds(10));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run(int clientId) {
        SplittableRandom random = new SplittableRandom(seed * 31 + clientId);
        KvClientConfig config = KvClientConfig.of(servers, clusterId).withDeadline(OPERATION_DEADLINE, ATTEMPT_TIMEOUT);
        Map<String, String> lastSeen = new HashMap<>();
        // Half of the reads go to one random node and stay there (no redirects), as from a client
        // whose idea of the leader is out of date: followers serve reads too, and a deposed leader
        // that has not noticed yet must not answer from stale state.
        try (KvClient client = new KvClient(config); PinnedReader pinned = new PinnedReader(servers, clusterId, ATTEMPT_TIMEOUT)) {
            for (long n = 1; !stopping; n++) {
                runOne(client, random.nextBoolean() ? pinned : null, clientId, n, random, lastSeen);
                Sleep.millis(random.nextInt(MAX_THINK_MILLIS + 1));
            }
        } catch (RuntimeException e) {
            LOG.error("chaos client {} stopped: {}", clientId, e.toString(), e);
        }
    }

    private void runOne(KvClient client, PinnedReader pinned, int clientId, long n, SplittableRandom random,
            Map<String, String> lastSeen) {
        boolean log = random.nextBoolean();
        List<String> pool = log ? keys.logs() : keys.registers();
        String key = KeySet.inGeneration(pool.get(random.nextInt(pool.size())), (System.nanoTime() - startNanos) / KeySet.GENERATION_NANOS);
        String token = "c" + clientId + "." + n;
        int dice = random.nextInt(100);
        KvInput input;
        if (log) {
            input = dice < 50 ? new KvInput.Get(key) : new KvInput.Append(key, token + KeySet.APPEND_SEPARATOR);
        } else if (dice < 40) {
            input = new KvInput.Get(key);
        } else if (dice < 75) {
            input = new KvInput.Put(key, token);
        } else {
            input = new KvInput.CompareAndSet(key, lastSeen.get(key), token);
        }
        long invoked = System.nanoTime();
        if (pinned != null && input instanceof KvInput.Get get) {
            Optional<String> value = pinned.get(random.nextInt(pinned.serverCount()), get.key(), readConsistency);
            if (value == null) {
                history.gaveUp();
            } else {
                KvOutput output = new KvOutput.Value(value.orElse(null));
                history.completed(clientId, input, invoked, output, System.nanoTime());
                remember(input, output, lastSeen);
            }
            return;
        }
        try {
            KvOutput output = execute(client, input, readConsistency);
            history.completed(clientId, input, invoked, output, System.nanoTime());
            remember(input, output, lastSeen);
        } catch (KvClientException e) {
            if (e.outcomeUnknown() && !(input instanceof KvInput.Get)) {
                history.unknown(clientId, input, invoked);
            } else {
                history.gaveUp();
            }
        }
    }

    static KvOutput execute(KvClient client, KvInput input, ReadConsistency readConsistency) {
        return switch (input) {
            case KvInput.Get get -> new KvOutput.Value(client.get(bytes(get.key()), readConsistency)
                    .map(ByteString::toStringUtf8).orElse(null));
            case KvInput.Put put -> {
                client.put(bytes(put.key()), bytes(put.value()));
                yield KvOutput.OK;
            }
            case KvInput.Append append -> {
                client.append(bytes(append.key()), bytes(append.value()));
                yield KvOutput.OK;
            }
            case KvInput.CompareAndSet cas -> new KvOutput.CasResult(client.compareAndSet(bytes(cas.key()),
                    Optional.ofNullable(cas.expected()).map(ChaosWorkload::bytes), bytes(cas.newValue())));
            default -> throw new IllegalArgumentException("chaos clients do not issue " + input);
        };
    }

    private static void remember(KvInput input, KvOutput output, Map<String, String> lastSeen) {
        switch (input) {
            case KvInput.Get get when output instanceof KvOutput.Value value -> lastSeen.put(get.key(), value.value());
            case KvInput.Put put -> lastSeen.put(put.key(), put.value());
            case KvInput.CompareAndSet cas when output instanceof KvOutput.CasResult result && result.succeeded() ->
                    lastSeen.put(cas.key(), cas.newValue());
            default -> {
                // Nothing learned.
            }
        }
    }

    static ByteString bytes(String text) {
        return ByteString.copyFromUtf8(text);
    }
}
