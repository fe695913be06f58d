package io.loomkv.core.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The Wing &amp; Gong search with Lowe's memoization over one partition of a history, as in
 * Porcupine's {@code checkSingle}.
 *
 * <p>The operations become a doubly linked list of call and return events, sorted by time (calls
 * before returns on equal times). The search walks the list: at a call it tries to linearize that
 * operation now (the model accepts its output in the current state); if so it removes the call
 * and its return from the list, pushes a backtrack point and restarts from the head. Reaching a
 * return means that operation completed without being linearized, so the last choice was wrong:
 * pop it, put its events back and try the next call after it. Once every completed operation is
 * linearized the history is linearizable: the pending operations left over never took effect (or
 * did so after everything observed). The memo (Lowe) records every (set of linearized operations,
 * state) reached: arriving at one again cannot lead anywhere new, which turns the exponential
 * search into one that is fast on real histories; {@link #remember} extends it so that pending
 * operations do not blow the search up.
 *
 * <p>Every state reached also passes the model's look-ahead ({@link Model#liveStates}), which
 * prunes states no legal linearization goes through.
 *
 * <p>Iterative (an explicit stack, no recursion), resumable in slices of steps so the caller can
 * bound it. The memo grows by at most one entry per step and stops the search (undecided) at
 * {@code maxMemoEntries}, so memory is bounded even when the steps are not.
 */
final class PartitionSearch<S, I, O> {

    private static final int NIL = -1;
    private static final int HEAD = 0;
    private static final int MAX_LISTED_OPERATIONS = 10;

    private final Model<S, I, O> model;
    private final List<Operation<I, O>> history;
    private final int[] operations; // local op -> history index
    private final List<?> partitionKeys;
    private final Predicate<S> live;
    private final long maxMemoEntries;

    // Event list: node 0 is the head sentinel, nodes 1..2m the events in time order.
    private final int[] next;
    private final int[] prev;
    private final int[] opOf;
    private final int[] match; // call node -> its return node; NIL for return nodes

    private long steps;

    // Search state, kept in fields so the search can run in slices (see advance).
    private boolean completedFirst;
    private int[] bitOf; // local op -> its bit in the completed or the pending bitset
    private boolean[] pending;
    private int completedCount;
    private int pendingCount;
    private long[] completedDone;
    private long[] pendingDone;
    private int linearizedCompleted;
    private final Map<MemoKey, List<long[]>> memo = new HashMap<>();
    private long memoEntries;
    private int[] stackNode;
    private Object[] stackState;
    private long[][] stackCompleted;
    private long[][] stackPending;
    private int depth;
    private int bestDepth = -1;
    private S state;
    private int node;
    private boolean pendingPass;
    private Verdict decided;

    /** Where the search got deepest; kept until the verdict is known. */
    private Deepest<S> deepest;

    PartitionSearch(
            Model<S, I, O> model,
            List<Operation<I, O>> history,
            int[] operations,
            List<?> partitionKeys,
            long maxMemoEntries) {
        if (maxMemoEntries <= 0) {
            throw new IllegalArgumentException("maxMemoEntries must be > 0, got " + maxMemoEntries);
        }
        this.model = model;
        this.history = history;
        this.operations = operations;
        this.partitionKeys = partitionKeys;
        this.maxMemoEntries = maxMemoEntries;
        List<Operation<I, O>> partition = new ArrayList<>(operations.length);
        for (int index : operations) {
            partition.add(history.get(index));
        }
        this.live = model.liveStates(List.copyOf(partition));
        int nodes = 2 * operations.length + 1;
        this.next = new int[nodes];
        this.prev = new int[nodes];
        this.opOf = new int[nodes];
        this.match = new int[nodes];
        buildEventList();
    }

    private void buildEventList() {
        int m = operations.length;
        // Event e < m is the call of local op e, e >= m the return of local op e - m.
        Integer[] events = new Integer[2 * m];
        for (int e = 0; e < 2 * m; e++) {
            events[e] = e;
        }
        Arrays.sort(events, (a, b) -> {
            int c = Long.compare(timeOf(a), timeOf(b));
            if (c != 0) {
                return c;
            }
            c = Boolean.compare(a >= m, b >= m); // calls first: equal times overlap
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] nodeOfCall = new int[m];
        int previous = HEAD;
        opOf[HEAD] = NIL;
        match[HEAD] = NIL;
        prev[HEAD] = NIL;
        for (int i = 0; i < events.length; i++) {
            int node = i + 1;
            int event = events[i];
            boolean isCall = event < m;
            int localOp = isCall ? event : event - m;
            opOf[node] = localOp;
            match[node] = NIL;
            if (isCall) {
                nodeOfCall[localOp] = node;
            } else {
                match[nodeOfCall[localOp]] = node;
            }
            next[previous] = node;
            prev[node] = previous;
            previous = node;
        }
        next[previous] = NIL;
    }

    private long timeOf(int event) {
        int m = operations.length;
        Operation<I, O> op = history.get(operations[event < m ? event : event - m]);
        return event < m ? op.invokeTime() : op.completeTime();
    }

    /**
     * Prepares the search.
     *
     * @param completedFirst try each configuration's completed candidates before its pending
     *     ones (else in event-list order, as Porcupine does). Both are sound; list order tends to
     *     find a linearization of a legal history sooner, completed-first refutes an illegal
     *     history with many pending writes sooner (the dominance rule in {@link #remember} then
     *     prunes most pending branches), so the checker runs one of each side by side.
     */
    void start(boolean completedFirst) {
        this.completedFirst = completedFirst;
        int m = operations.length;
        bitOf = new int[m];
        pending = new boolean[m];
        for (int i = 0; i < m; i++) {
            pending[i] = history.get(operations[i]).isPending();
            bitOf[i] = pending[i] ? pendingCount++ : completedCount++;
        }
        completedDone = new long[(completedCount + 63) >>> 6];
        pendingDone = new long[(pendingCount + 63) >>> 6];
        stackNode = new int[m];
        stackState = new Object[m];
        stackCompleted = new long[m][];
        stackPending = new long[m][];
        state = model.initialState();
        node = next[HEAD];
    }

    /**
     * Runs up to {@code stepLimit} more steps of the search.
     *
     * @return OK or ILLEGAL once decided (and from then on), or {@code null} if still undecided
     *     (including when the memo is full, see {@link #memoFull()})
     */
    Verdict advance(long stepLimit) {
        if (bitOf == null) {
            throw new IllegalStateException("advance() before start()");
        }
        if (decided != null) {
            return decided;
        }
        long stop = steps + stepLimit;
        // Goal: every completed operation linearized. Pending ones left over never took effect
        // (or took effect after everything else, which nobody observed): both allowed.
        while (linearizedCompleted < completedCount) {
            if (steps >= stop || memoFull()) {
                return null;
            }
            steps++;
            if (match[node] != NIL) {
                tryCall();
            } else if (completedFirst && !pendingPass && pendingCount > 0) {
                // End of the completed candidates: now the pending ones, from the head again.
                pendingPass = true;
                node = next[HEAD];
            } else if (!backtrack()) {
                decided = Verdict.ILLEGAL;
                return decided;
            }
        }
        deepest = null;
        decided = Verdict.OK;
        return decided;
    }

    /** At a call: linearize its operation now if the model allows it and the memo has not seen it. */
    private void tryCall() {
        int localOp = opOf[node];
        if (completedFirst && pending[localOp] != pendingPass) {
            node = next[node];
            return;
        }
        Operation<I, O> op = history.get(operations[localOp]);
        S after = model.step(state, op.input(), op.output());
        if (after == null && op.isPending()) {
            throw new IllegalStateException("model rejected pending operation " + op + " in state "
                    + state + "; an unknown outcome must always be acceptable");
        }
        if (after != null && !live.test(after)) {
            after = null; // a dead end: no legal linearization passes through this state
        }
        if (after != null) {
            // Bitsets are never mutated once built, so memo entries and stack frames share them.
            long[] nextCompleted = pending[localOp] ? completedDone : withBit(completedDone, bitOf[localOp]);
            long[] nextPending = pending[localOp] ? withBit(pendingDone, bitOf[localOp]) : pendingDone;
            if (remember(new MemoKey(nextCompleted, after), nextPending)) {
                stackNode[depth] = node;
                stackState[depth] = state;
                stackCompleted[depth] = completedDone;
                stackPending[depth] = pendingDone;
                depth++;
                state = after;
                completedDone = nextCompleted;
                pendingDone = nextPending;
                if (!pending[localOp]) {
                    linearizedCompleted++;
                }
                lift(node);
                node = next[HEAD];
                pendingPass = false;
                return;
            }
        }
        node = next[node];
    }

    /**
     * At the return of an operation not yet linearized: the latest choice was wrong, undo it.
     *
     * @return false if there is nothing left to undo (the history is not linearizable)
     */
    private boolean backtrack() {
        if (depth > bestDepth) {
            bestDepth = depth;
            recordViolation(stackNode, depth, node, state);
        }
        if (depth == 0) {
            return false;
        }
        depth--;
        node = stackNode[depth];
        @SuppressWarnings("unchecked")
        S previous = (S) stackState[depth];
        state = previous;
        completedDone = stackCompleted[depth];
        pendingDone = stackPending[depth];
        stackState[depth] = null;
        stackCompleted[depth] = null;
        stackPending[depth] = null;
        pendingPass = pending[opOf[node]];
        if (!pendingPass) {
            linearizedCompleted--;
        }
        unlift(node);
        node = next[node];
        return true;
    }

    /**
     * Lowe's memo, extended for pending operations. A configuration is (completed operations
     * linearized, pending operations linearized, state). One with the same completed set and
     * state but a subset of the pending ones dominates it: it can mimic every move (a pending
     * operation has no return event, so it never blocks anything) and every success (the goal
     * only asks for the completed operations). So a new configuration is explored only when no
     * remembered one dominates it. This is sound: if the search failed although some remembered
     * configuration could reach the goal, take such a configuration nearest to the goal; its next
     * configuration on a shortest way there was either explored (nearer, contradiction) or
     * dominated by a remembered one, which is then at most as far (contradiction again). Without
     * this, every pending write would double the search space; with no pending operations it is
     * exactly Lowe's (linearized set, state) cache.
     *
     * @return true if the configuration is new (and now remembered)
     */
    private boolean remember(MemoKey key, long[] pendingDone) {
        List<long[]> minimalPendingSets = memo.get(key);
        if (minimalPendingSets == null) {
            List<long[]> sets = new ArrayList<>(1);
            sets.add(pendingDone);
            memo.put(key, sets);
            memoEntries++;
            return true;
        }
        for (long[] known : minimalPendingSets) {
            if (isSubset(known, pendingDone)) {
                return false;
            }
        }
        int before = minimalPendingSets.size();
        minimalPendingSets.removeIf(known -> isSubset(pendingDone, known));
        minimalPendingSets.add(pendingDone);
        memoEntries += minimalPendingSets.size() - before;
        return true;
    }

    /** True once the memo holds {@code maxMemoEntries} configurations: the search stops undecided. */
    boolean memoFull() {
        return decided == null && memoEntries >= maxMemoEntries;
    }

    private static boolean isSubset(long[] small, long[] large) {
        for (int i = 0; i < small.length; i++) {
            if ((small[i] & ~large[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    private static long[] withBit(long[] bits, int bit) {
        long[] copy = bits.clone();
        copy[bit >>> 6] |= 1L << bit;
        return copy;
    }

    /** Removes a call and its return from the list (the return always follows the call). */
    private void lift(int call) {
        next[prev[call]] = next[call];
        prev[next[call]] = prev[call];
        int ret = match[call];
        next[prev[ret]] = next[ret];
        if (next[ret] != NIL) {
            prev[next[ret]] = prev[ret];
        }
    }

    /** Undoes {@link #lift} (in reverse order, so the neighbours' links are valid again). */
    private void unlift(int call) {
        int ret = match[call];
        next[prev[ret]] = ret;
        if (next[ret] != NIL) {
            prev[next[ret]] = ret;
        }
        next[prev[call]] = call;
        prev[next[call]] = call;
    }

    private void recordViolation(int[] stackNode, int depth, int returnNode, S state) {
        int[] prefix = new int[depth];
        for (int i = 0; i < depth; i++) {
            prefix[i] = operations[opOf[stackNode[i]]];
        }
        int blocked = operations[opOf[returnNode]];
        List<Integer> candidates = new ArrayList<>();
        for (int n = next[HEAD]; n != returnNode && n != NIL; n = next[n]) {
            if (match[n] != NIL && operations[opOf[n]] != blocked
                    && candidates.size() < MAX_LISTED_OPERATIONS + 1) {
                candidates.add(operations[opOf[n]]);
            }
        }
        deepest = new Deepest<>(prefix, blocked, candidates, state);
    }

    /** The deepest point the search reached before having to backtrack; text is built lazily. */
    private record Deepest<S>(int[] prefix, int blocked, List<Integer> candidates, S state) { }

    private String describe(List<Integer> prefix, int blocked, List<Integer> candidates, S state) {
        StringBuilder text = new StringBuilder();
        text.append("not linearizable");
        if (!partitionKeys.isEmpty()) {
            text.append(" on keys ").append(listed(partitionKeys));
        }
        text.append(" (").append(operations.length).append(" operations checked together). ");
        text.append("At most ").append(prefix.size()).append(" could be linearized");
        if (!prefix.isEmpty()) {
            text.append(", ending with: ");
            int from = Math.max(0, prefix.size() - MAX_LISTED_OPERATIONS);
            if (from > 0) {
                text.append("(").append(from).append(" earlier) ");
            }
            for (int i = from; i < prefix.size(); i++) {
                text.append("#").append(prefix.get(i)).append(" ").append(history.get(prefix.get(i)));
                text.append(i + 1 < prefix.size() ? "; " : "");
            }
        }
        text.append(". State then: ").append(state).append(". ");
        text.append("Operation #").append(blocked).append(" ").append(history.get(blocked));
        text.append(" completed but cannot be placed after that");
        if (!candidates.isEmpty()) {
            text.append(", nor can any of the concurrent operations ");
            List<String> listedCandidates = new ArrayList<>();
            for (int c : candidates) {
                listedCandidates.add("#" + c + " " + history.get(c));
            }
            text.append(listed(listedCandidates));
            text.append(" be placed before it to explain its result");
        }
        text.append(".");
        return text.toString();
    }

    private static String listed(List<?> items) {
        if (items.size() <= MAX_LISTED_OPERATIONS) {
            return items.toString();
        }
        return items.subList(0, MAX_LISTED_OPERATIONS) + " and " + (items.size() - MAX_LISTED_OPERATIONS)
                + " more";
    }

    long steps() {
        return steps;
    }

    /** For an ILLEGAL verdict: the violation as data. */
    CheckResult.Violation violation() {
        List<Integer> prefix = new ArrayList<>(deepest.prefix().length);
        for (int index : deepest.prefix()) {
            prefix.add(index);
        }
        return new CheckResult.Violation(partitionKeys, prefix, deepest.blocked(), String.valueOf(deepest.state()));
    }

    /** For an ILLEGAL verdict: the violation in words. */
    String violationText() {
        return describe(violation().longestLinearizedPrefix(), deepest.blocked(), deepest.candidates(),
                deepest.state());
    }

    /** A memo key: which completed operations are linearized, and the state they lead to. */
    private static final class MemoKey {
        private final long[] linearized;
        private final Object state;
        private final int hash;

        MemoKey(long[] linearized, Object state) {
            this.linearized = linearized;
            this.state = state;
            this.hash = 31 * Arrays.hashCode(linearized) + state.hashCode();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof MemoKey key
                    && hash == key.hash
                    && Arrays.equals(linearized, key.linearized)
                    && state.equals(key.state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
