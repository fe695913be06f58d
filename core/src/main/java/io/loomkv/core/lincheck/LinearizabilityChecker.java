package io.loomkv.core.lincheck;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a concurrent history is linearizable with respect to a sequential {@link
 * Model}: the Wing &amp; Gong search with Lowe's memoization, partitioned by key like Porcupine.
 *
 * <h2>Partitioning (P-compositionality)</h2>
 *
 * <p>Linearizability is local (Herlihy &amp; Wing): a history over independent objects is
 * linearizable iff each object's sub-history is. A key-value store is a product of independent
 * registers, one per key, so the checker splits the history by key and searches each part alone;
 * the search is exponential in the worst case, so many small parts are vastly cheaper than one big
 * one.
 *
 * <p>Operations on several keys (multi-get, multi-put, atomic batches) tie their keys together:
 * the checker takes the connected components of the graph "keys used by the same operation"
 * (union-find) and checks each component as one object. That stays sound: within a component all
 * cross-key operations are checked with their real semantics, and no operation spans two
 * components, so components are independent objects and locality applies to them. Simply
 * splitting a multi-key operation into per-key pieces would not be sound (each piece could be
 * linearized at a different point, hiding a torn read). An operation the model cannot confine to
 * known keys ({@link Model#keysOf} empty, e.g. a scan) makes the whole history one partition.
 *
 * <h2>Budget</h2>
 *
 * <p>Each partition's search gets at most {@code maxStepsPerPartition} steps (one step = one
 * event visited), shared by two search orders run side by side (see {@code PartitionSearch});
 * the checker is pure and never reads a clock. Memory is bounded separately: each partition may
 * remember at most {@code maxMemoEntriesPerPartition} configurations (split between the two
 * orders), because a memo entry holds a model state, which can be large (a long appended value).
 * Partitions are checked in order of their first operation; the first ILLEGAL one decides the
 * result. If none is illegal but one ran out of steps or memo, the verdict is UNKNOWN.
 */
public final class LinearizabilityChecker {

    /** A budget that decides typical test histories (thousands of operations) with room to spare. */
    public static final long DEFAULT_MAX_STEPS_PER_PARTITION = 20_000_000L;

    /**
     * Configurations remembered per partition by default: a few hundred MB at most with the small
     * states of typical test histories (a memo entry is a few hundred bytes plus its state).
     */
    public static final long DEFAULT_MAX_MEMO_ENTRIES_PER_PARTITION = 2_000_000L;

    /** Steps each search order runs before the other gets its turn. */
    private static final long STEPS_PER_SLICE = 4096;

    private final long maxStepsPerPartition;
    private final long maxMemoEntriesPerPartition;

    public LinearizabilityChecker(long maxStepsPerPartition) {
        this(maxStepsPerPartition, DEFAULT_MAX_MEMO_ENTRIES_PER_PARTITION);
    }

    public LinearizabilityChecker(long maxStepsPerPartition, long maxMemoEntriesPerPartition) {
        if (maxStepsPerPartition <= 0) {
            throw new IllegalArgumentException(
                    "maxStepsPerPartition must be > 0, got " + maxStepsPerPartition);
        }
        if (maxMemoEntriesPerPartition < 2) {
            throw new IllegalArgumentException(
                    "maxMemoEntriesPerPartition must be >= 2 (one per search order), got "
                            + maxMemoEntriesPerPartition);
        }
        this.maxStepsPerPartition = maxStepsPerPartition;
        this.maxMemoEntriesPerPartition = maxMemoEntriesPerPartition;
    }

    public static LinearizabilityChecker withDefaults() {
        return new LinearizabilityChecker(DEFAULT_MAX_STEPS_PER_PARTITION);
    }

    public long maxStepsPerPartition() {
        return maxStepsPerPartition;
    }

    public long maxMemoEntriesPerPartition() {
        return maxMemoEntriesPerPartition;
    }

    /**
     * Checks {@code history} (in any order; operation indexes in the result refer to this list).
     */
    public <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history) {
        List<Partition> partitions = partition(model, history);
        long totalSteps = 0;
        List<String> undecided = new ArrayList<>();
        for (Partition partition : partitions) {
            long memoPerOrder = maxMemoEntriesPerPartition / 2;
            PartitionSearch<S, I, O> listOrder =
                    new PartitionSearch<>(model, history, partition.operations, partition.keys, memoPerOrder);
            PartitionSearch<S, I, O> completedFirst =
                    new PartitionSearch<>(model, history, partition.operations, partition.keys, memoPerOrder);
            listOrder.start(false);
            completedFirst.start(true);
            PartitionSearch<S, I, O> decider = null;
            Verdict verdict = null;
            // Two sound search orders side by side, in slices; the first to decide wins. The
            // budget covers both, so a partition costs at most maxStepsPerPartition steps.
            long used = 0;
            while (verdict == null && used < maxStepsPerPartition
                    && !(listOrder.memoFull() && completedFirst.memoFull())) {
                for (PartitionSearch<S, I, O> search : List.of(listOrder, completedFirst)) {
                    long slice = Math.min(STEPS_PER_SLICE, maxStepsPerPartition - used);
                    if (verdict == null && slice > 0 && !search.memoFull()) {
                        verdict = search.advance(slice);
                        decider = search;
                        used = listOrder.steps() + completedFirst.steps();
                    }
                }
            }
            totalSteps += listOrder.steps() + completedFirst.steps();
            if (verdict == null) {
                String limit = listOrder.memoFull() && completedFirst.memoFull()
                        ? "memo limit of " + maxMemoEntriesPerPartition + " configurations"
                        : "step budget";
                undecided.add("keys " + abbreviated(partition.keys) + " (" + partition.operations.length
                        + " operations; " + limit + ")");
            } else if (verdict == Verdict.ILLEGAL) {
                return new CheckResult(Verdict.ILLEGAL, decider.violationText(),
                        Optional.of(decider.violation()), totalSteps, partitions.size());
            }
        }
        if (!undecided.isEmpty()) {
            return new CheckResult(Verdict.UNKNOWN,
                    "search budget (" + maxStepsPerPartition + " steps, " + maxMemoEntriesPerPartition
                            + " memo entries per partition) exhausted on "
                            + undecided.size() + " of " + partitions.size() + " partitions: "
                            + abbreviated(undecided),
                    Optional.empty(), totalSteps, partitions.size());
        }
        return new CheckResult(Verdict.OK,
                "linearizable: " + history.size() + " operations in " + partitions.size()
                        + " partitions",
                Optional.empty(), totalSteps, partitions.size());
    }

    /** One independent part of the history: its operations (history indexes) and keys. */
    private record Partition(int[] operations, List<?> keys) { }

    private static <S, I, O> List<Partition> partition(
            Model<S, I, O> model, List<Operation<I, O>> history) {
        int n = history.size();
        Map<Object, Integer> keyIds = new HashMap<>();
        List<Object> keysById = new ArrayList<>();
        int[][] opKeys = new int[n][];
        for (int i = 0; i < n; i++) {
            Optional<? extends Collection<?>> keys = model.keysOf(history.get(i).input());
            if (keys.isEmpty()) {
                int[] all = new int[n];
                for (int j = 0; j < n; j++) {
                    all[j] = j;
                }
                return List.of(new Partition(all, List.of()));
            }
            int[] ids = new int[keys.get().size()];
            int k = 0;
            for (Object key : keys.get()) {
                Integer id = keyIds.get(key);
                if (id == null) {
                    id = keysById.size();
                    keyIds.put(key, id);
                    keysById.add(key);
                }
                ids[k++] = id;
            }
            opKeys[i] = ids;
        }
        UnionFind components = new UnionFind(keysById.size());
        for (int[] ids : opKeys) {
            for (int k = 1; k < ids.length; k++) {
                components.union(ids[0], ids[k]);
            }
        }
        // Group operations by component, in order of each component's first operation. An
        // operation with no keys touches nothing shared, so it is a partition of its own.
        Map<Integer, List<Integer>> opsByRoot = new java.util.LinkedHashMap<>();
        List<List<Integer>> keyless = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (opKeys[i].length == 0) {
                keyless.add(List.of(i));
            } else {
                opsByRoot.computeIfAbsent(components.find(opKeys[i][0]), r -> new ArrayList<>()).add(i);
            }
        }
        Map<Integer, List<Object>> keysByRoot = new HashMap<>();
        for (int id = 0; id < keysById.size(); id++) {
            keysByRoot.computeIfAbsent(components.find(id), r -> new ArrayList<>()).add(keysById.get(id));
        }
        List<Partition> partitions = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> group : opsByRoot.entrySet()) {
            partitions.add(new Partition(toArray(group.getValue()), keysByRoot.get(group.getKey())));
        }
        for (List<Integer> single : keyless) {
            partitions.add(new Partition(toArray(single), List.of()));
        }
        return partitions;
    }

    private static int[] toArray(List<Integer> values) {
        int[] array = new int[values.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = values.get(i);
        }
        return array;
    }

    private static String abbreviated(List<?> items) {
        int max = 10;
        if (items.size() <= max) {
            return items.toString();
        }
        return items.subList(0, max) + " and " + (items.size() - max) + " more";
    }

    /** Union-find over key ids, with path halving and union by size. */
    private static final class UnionFind {
        private final int[] parent;
        private final int[] size;

        UnionFind(int count) {
            parent = new int[count];
            size = new int[count];
            for (int i = 0; i < count; i++) {
                parent[i] = i;
                size[i] = 1;
            }
        }

        int find(int x) {
            while (parent[x] != x) {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }

        void union(int a, int b) {
            int rootA = find(a);
            int rootB = find(b);
            if (rootA == rootB) {
                return;
            }
            if (size[rootA] < size[rootB]) {
                int swap = rootA;
                rootA = rootB;
                rootB = swap;
            }
            parent[rootB] = rootA;
            size[rootA] += size[rootB];
        }
    }
}
