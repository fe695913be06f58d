package io.loomkv.core.lincheck;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Generates histories of a store that is linearizable by construction: every operation takes
 * effect at one instant inside its [invoke, complete] interval, in the order of those instants,
 * against one true map. Some operations time out (pending); half of those took effect, half never
 * did. Written values are unique ("p17" from puts, "+a17" tokens from appends, "c17" from CAS), so
 * a value identifies the write that produced it.
 */
final class SimulatedKvHistory {

    /** One generated operation plus the facts the mutation tests need. */
    record Simulated(Operation<KvInput, KvOutput> operation, long linearizationTime, boolean tookEffect) { }

    private SimulatedKvHistory() {}

    static List<Simulated> generate(long seed, int clients, int operations, List<String> keys) {
        return generate(seed, clients, operations, keys, 20);
    }

    /** As above, with one operation in {@code timeoutOneIn} (0: none) timing out. */
    static List<Simulated> generate(
            long seed, int clients, int operations, List<String> keys, int timeoutOneIn) {
        Random random = new Random(seed);
        long[] clientTime = new long[clients];
        record Planned(int client, KvInput input, long invoke, long at, long complete, boolean timedOut,
                boolean takesEffect) { }
        List<Planned> planned = new ArrayList<>();
        Map<String, List<String>> seenValues = new HashMap<>();
        for (int i = 0; i < operations; i++) {
            int client = random.nextInt(clients);
            long invoke = clientTime[client] + random.nextInt(4);
            long duration = 1 + random.nextInt(12);
            long at = invoke + random.nextInt((int) duration + 1);
            long complete = invoke + duration;
            clientTime[client] = complete + 1;
            String key = keys.get(random.nextInt(keys.size()));
            KvInput input = randomInput(random, key, i, seenValues);
            boolean timedOut = timeoutOneIn > 0 && random.nextInt(timeoutOneIn) == 0;
            boolean takesEffect = !timedOut || random.nextBoolean();
            planned.add(new Planned(client, input, invoke, at, complete, timedOut, takesEffect));
        }
        // Apply in linearization order against the true store to learn each output.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingLong((Integer i) -> planned.get(i).at()).thenComparing(i -> i));
        KvModel model = new KvModel();
        Map<String, String> state = model.initialState();
        KvOutput[] outputs = new KvOutput[planned.size()];
        for (int i : order) {
            Planned p = planned.get(i);
            if (!p.takesEffect()) {
                continue;
            }
            outputs[i] = outputOf(state, p.input());
            state = model.step(state, p.input(), outputs[i]);
            if (state == null) {
                throw new IllegalStateException("simulator produced an output the model rejects: " + p);
            }
        }
        List<Simulated> history = new ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            Planned p = planned.get(i);
            Operation<KvInput, KvOutput> operation = p.timedOut()
                    ? Operation.pending(p.client(), p.input(), p.invoke())
                    : Operation.completed(p.client(), p.input(), p.invoke(), outputs[i], p.complete());
            history.add(new Simulated(operation, p.at(), p.takesEffect()));
        }
        return history;
    }

    static List<Operation<KvInput, KvOutput>> operations(List<Simulated> simulated) {
        List<Operation<KvInput, KvOutput>> operations = new ArrayList<>();
        for (Simulated s : simulated) {
            operations.add(s.operation());
        }
        return operations;
    }

    private static KvInput randomInput(Random random, String key, int id, Map<String, List<String>> seen) {
        int dice = random.nextInt(100);
        if (dice < 45) {
            return new KvInput.Get(key);
        }
        if (dice < 75) {
            String value = "p" + id;
            seen.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
            return new KvInput.Put(key, value);
        }
        if (dice < 85) {
            return new KvInput.Append(key, "+a" + id);
        }
        if (dice < 90) {
            return new KvInput.Delete(key);
        }
        // CAS expecting a recently put value (often stale, sometimes right) or absence.
        List<String> values = seen.getOrDefault(key, List.of());
        String expected = values.isEmpty() || random.nextInt(4) == 0
                ? null
                : values.get(Math.max(0, values.size() - 1 - random.nextInt(3)));
        return new KvInput.CompareAndSet(key, expected, "c" + id);
    }

    private static KvOutput outputOf(Map<String, String> state, KvInput input) {
        return switch (input) {
            case KvInput.Get get -> new KvOutput.Value(state.get(get.key()));
            case KvInput.CompareAndSet cas ->
                    new KvOutput.CasResult(java.util.Objects.equals(state.get(cas.key()), cas.expected()));
            case KvInput.Put put -> KvOutput.OK;
            case KvInput.Append append -> KvOutput.OK;
            case KvInput.Delete delete -> KvOutput.OK;
            default -> throw new IllegalArgumentException("not generated: " + input);
        };
    }
}
