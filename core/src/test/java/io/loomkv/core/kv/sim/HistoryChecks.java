package io.loomkv.core.kv.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end-of-run checks of the sharded simulation's client histories ({@link ShardedKvRun}): per
 * key, the final value holds every acknowledged append exactly once and nothing else, in an order
 * that respects real time, and every read saw a prefix of it consistent with the appends' and the
 * other reads' times. Appends of unique tokens with a final read make this a complete
 * linearizability check of each key's history, without a search.
 */
final class HistoryChecks {

    private final Simulator sim;
    private final List<SimKvClient> clients;
    private final List<String> keys;
    private long readsChecked;

    HistoryChecks(Simulator sim, List<SimKvClient> clients, List<String> keys) {
        this.sim = sim;
        this.clients = List.copyOf(clients);
        this.keys = List.copyOf(keys);
    }

    long readsChecked() {
        return readsChecked;
    }

    /** Every acknowledged token exactly once in its key, nothing else there, in an order that respects real time. */
    int check(SlotLayout latest, Map<Long, TreeMap<ByteString, ByteString>> contents) {
        Map<String, SimKvClient.Token> expected = new HashMap<>();
        for (SimKvClient client : clients) {
            for (SimKvClient.Token token : client.acknowledged()) {
                expected.put(token.text(), token);
            }
        }
        Map<String, Integer> seen = new HashMap<>();
        for (String key : keys) {
            ByteString keyBytes = ByteString.copyFrom(key, StandardCharsets.UTF_8);
            long owner = latest.groupOf(Slots.slotOf(keyBytes));
            ByteString value = contents.get(owner).get(keyBytes);
            Map<Integer, Long> lastSequence = new HashMap<>();
            List<SimKvClient.Token> order = new ArrayList<>();
            String text = value == null ? "" : value.toStringUtf8();
            for (String part : text.split(",")) {
                if (part.isEmpty()) {
                    continue;
                }
                SimKvClient.Token token = expected.get(part);
                if (token == null || !token.key().equals(key)) {
                    throw sim.fail("key " + key + " holds token " + part + ", which no client was acknowledged for it: " + text);
                }
                if (seen.merge(part, 1, Integer::sum) > 1) {
                    throw sim.fail("key " + key + " holds token " + part + " twice: " + text);
                }
                Long before = lastSequence.put(token.client(), token.sequence());
                if (before != null && before > token.sequence()) {
                    throw sim.fail("key " + key + " holds client " + token.client() + "'s write " + token.sequence()
                            + " after its later write " + before + ": " + text);
                }
                order.add(token);
            }
            checkRealTimeOrder(key, order);
            checkReads(key, order);
        }
        for (SimKvClient.Token token : expected.values()) {
            if (!seen.containsKey(token.text())) {
                throw sim.fail("acknowledged append " + token + " is missing from its key");
            }
        }
        return expected.size();
    }

    /**
     * Linearizability of one key's appends (the final value is the read after all of them): an
     * append acknowledged before another was first sent must come before it in the value.
     */
    private void checkRealTimeOrder(String key, List<SimKvClient.Token> order) {
        for (int i = 0; i < order.size(); i++) {
            for (int j = i + 1; j < order.size(); j++) {
                SimKvClient.Token first = order.get(i);
                SimKvClient.Token second = order.get(j);
                if (second.acknowledgedTick() < first.invokedTick()) {
                    throw sim.fail("key " + key + " holds " + first.text() + " (sent at tick " + first.invokedTick()
                            + ") before " + second.text() + ", which was acknowledged earlier, at tick "
                            + second.acknowledgedTick() + ": not linearizable");
                }
            }
        }
    }

    /**
     * Each read of {@code key} (whose appends, in order, are {@code appends}) saw a prefix of them:
     * every append acknowledged before the read was sent, none sent after it returned; and a read
     * that returned before another was sent saw no more than it.
     */
    private void checkReads(String key, List<SimKvClient.Token> appends) {
        List<SimKvClient.Read> reads = new ArrayList<>();
        for (SimKvClient client : clients) {
            for (SimKvClient.Read read : client.reads()) {
                if (read.key().equals(key)) {
                    reads.add(read);
                }
            }
        }
        for (SimKvClient.Read read : reads) {
            List<String> seen = read.tokens();
            for (int i = 0; i < appends.size(); i++) {
                SimKvClient.Token append = appends.get(i);
                boolean inRead = i < seen.size();
                if (inRead && !seen.get(i).equals(append.text())) {
                    throw sim.fail("a read of " + key + " saw " + seen + ", not a prefix of its appends " + appends);
                }
                if (!inRead && append.acknowledgedTick() < read.invokedTick()) {
                    throw sim.fail("a read of " + key + " sent at tick " + read.invokedTick() + " missed " + append.text()
                            + ", acknowledged at tick " + append.acknowledgedTick() + ": saw " + seen);
                }
                if (inRead && append.invokedTick() > read.returnedTick()) {
                    throw sim.fail("a read of " + key + " that returned at tick " + read.returnedTick() + " saw "
                            + append.text() + ", sent at tick " + append.invokedTick());
                }
            }
            if (seen.size() > appends.size()) {
                throw sim.fail("a read of " + key + " saw " + seen + ", more than its appends " + appends);
            }
            for (SimKvClient.Read other : reads) {
                if (read.returnedTick() < other.invokedTick() && read.tokens().size() > other.tokens().size()) {
                    throw sim.fail("a read of " + key + " saw " + read.tokens() + " before another saw only "
                            + other.tokens() + ": not linearizable");
                }
            }
        }
        readsChecked += reads.size();
    }
}
