package io.loomkv.core.lincheck;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The Wing &amp; Gong search with Lowe's memoization over one partition of a history, as in
 * Porcupine's {@code checkSingle}.
 *
 * <p>The operations become a doubly linked list of call and return events, sorted by time (calls
 * before returns on equal times). The search walks the list: at a call it tries to linearize that
 * operation now (the model accepts its output in the current state); if so it removes the call
 * and its return from the list, pushes a backtrack point and restarts from the head. Reaching a
 * return means that operation completed without being linearized, so the last choice was wrong:
 * pop it, put its events back and try the next call after it. An empty list means every operation
 * was linearized. The memo (Lowe) records every (set of linearized operations, state) reached:
 * arriving at one again cannot lead anywhere new, which turns the exponential search into one
 * that is fast on real histories.
 *
 * <p>Iterative (an explicit stack, no recursion) and bounded by a step budget; the memo grows by
 * at most one entry per step, so memory is bounded too.
 */
final class PartitionSearch<S, I, O> {

    private static final int NIL = -1;
    private static final int HEAD = 0;
    private static final int MAX_LISTED_OPERATIONS = 10;

    private final Model<S, I, O> model;
    private final List<Operation<I, O>> history;
    private final int[] operations; // local op -> history index
    private final List<?> partitionKeys;
    private final long maxSteps;

    // Event list: node 0 is the head sentinel, nodes 1..2m the events in time order.
    private final int[] next;
    private final int[] prev;
    private final int[] opOf;
    private final int[] match; // call node -> its return node; NIL for return nodes

    private long steps;

    /** Set when the verdict is ILLEGAL. */
    private CheckResult.Violation violation;

    private String violationText;

    PartitionSearch(
            Model<S, I, O> model,
            List<Operation<I, O>> history,
            int[] operations,
            List<?> partitionKeys,
            long maxSteps) {
        this.model = model;
        this.history = history;
        this.operations = operations;
        this.partitionKeys = partitionKeys;
        this.maxSteps = maxSteps;
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

    /** Runs the search; afterwards {@link #steps()} and, for ILLEGAL, the violation are set. */
    Verdict run() {
        int m = operations.length;
        int words = (m + 63) >>> 6;
        long[] linearized = new long[words];
        Set<MemoKey> memo = new HashSet<>();
        int[] stackNode = new int[m];
        @SuppressWarnings("unchecked")
        S[] stackState = (S[]) new Object[m];
        int depth = 0;
        int bestDepth = -1;
        S state = model.initialState();
        int node = next[HEAD];
        while (next[HEAD] != NIL) {
            if (steps >= maxSteps) {
                return Verdict.UNKNOWN;
            }
            steps++;
            if (match[node] != NIL) {
                int localOp = opOf[node];
                Operation<I, O> op = history.get(operations[localOp]);
                S after = model.step(state, op.input(), op.output());
                if (after == null && op.isPending()) {
                    throw new IllegalStateException(
                            "model rejected pending operation " + op + " in state " + state
                                    + "; an unknown outcome must always be acceptable");
                }
                if (after != null) {
                    long[] withOp = linearized.clone();
                    withOp[localOp >>> 6] |= 1L << localOp;
                    if (memo.add(new MemoKey(withOp, after))) {
                        stackNode[depth] = node;
                        stackState[depth] = state;
                        depth++;
                        state = after;
                        linearized[localOp >>> 6] |= 1L << localOp;
                        lift(node);
                        node = next[HEAD];
                        continue;
                    }
                }
                node = next[node];
            } else {
                // The return of an operation not yet linearized: the latest choice was wrong.
                if (depth > bestDepth) {
                    bestDepth = depth;
                    recordViolation(stackNode, depth, node, state);
                }
                if (depth == 0) {
                    return Verdict.ILLEGAL;
                }
                depth--;
                node = stackNode[depth];
                state = stackState[depth];
                stackState[depth] = null;
                int localOp = opOf[node];
                linearized[localOp >>> 6] &= ~(1L << localOp);
                unlift(node);
                node = next[node];
            }
        }
        violation = null;
        violationText = null;
        return Verdict.OK;
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
        List<Integer> prefix = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            prefix.add(operations[opOf[stackNode[i]]]);
        }
        int blocked = operations[opOf[returnNode]];
        List<Integer> candidates = new ArrayList<>();
        for (int n = next[HEAD]; n != returnNode && n != NIL; n = next[n]) {
            if (match[n] != NIL && operations[opOf[n]] != blocked) {
                candidates.add(operations[opOf[n]]);
            }
        }
        violation = new CheckResult.Violation(partitionKeys, prefix, blocked, String.valueOf(state));
        violationText = describe(prefix, blocked, candidates, state);
    }

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

    CheckResult.Violation violation() {
        return violation;
    }

    String violationText() {
        return violationText;
    }

    /** A memo entry: which operations are linearized, and the state they lead to. */
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
