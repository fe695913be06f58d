package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import io.loomkv.core.raft.Storage;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raft's safety properties, checked incrementally as the simulator observes nodes, so that a check
 * after every step costs little more than the step itself:
 * <ul>
 *   <li>Election safety: at most one leader per term.
 *   <li>Log matching: two logs holding an entry with the same index and term hold the same entry,
 *       and the same term just before it (so, inductively, the same prefix). Every entry any
 *       node persists is compared with the first one persisted at that (index, term).
 *   <li>Leader completeness: a leader of term T holds every applied entry that was committed in a
 *       term before T. The term in which an index was committed is bounded from above by the
 *       term of the first node seen with a commit index covering it.
 *   <li>State machine safety: no two nodes apply different entries, or reach different states, at
 *       the same index (also checked for state restored from a snapshot).
 *   <li>A node's commit index never goes backwards (within an incarnation; across a restart, not
 *       below what it persisted), and its applied index never exceeds it.
 *   <li>Membership agreement: every node that applies the conf change at an index reaches the same
 *       membership; and a snapshot at index i (taken, installed or restarted from) records the
 *       membership as of i, the one after the last conf change at or below i. (Every conf change
 *       below a snapshot's index was applied by some node before that snapshot existed, so the
 *       last one is known.)
 * </ul>
 * Proposals applied twice are caught by {@link SimStateMachine}.
 *
 * <p>Only hash maps with lookups are used (never iterated), so the order of checks is the
 * simulator's, which is deterministic.
 */
final class SafetyChecker {

    private record EntryKey(long index, long term) {}

    private record PersistedEntry(ByteString data, int type, long previousTerm) {}

    private record AppliedEntry(long term, int type, ByteString data, long stateHash) {}

    /** Fails the run with a message; the simulator adds the seed and how to replay it. */
    interface Failer {
        AssertionError fail(String message);
    }

    private final Failer failer;
    private final ConfState initialMembership;
    /** The membership after each conf change applied so far, by index (sorted, for "as of index i"). */
    private final TreeMap<Long, ConfState> membershipAfter = new TreeMap<>();
    private final Map<Long, Integer> leaderByTerm = new HashMap<>();
    private final Map<EntryKey, PersistedEntry> persisted = new HashMap<>();
    private final Map<Long, AppliedEntry> applied = new HashMap<>();
    private final Map<Long, Long> commitTermUpperBound = new HashMap<>();
    private long highestAppliedIndex;
    private long highestCommitIndexSeen;

    SafetyChecker(Failer failer, ConfState initialMembership) {
        this.failer = failer;
        this.initialMembership = initialMembership;
    }

    long highestAppliedIndex() {
        return highestAppliedIndex;
    }

    /** The entry applied at {@code index} by any node, or null. */
    ByteString appliedData(long index) {
        AppliedEntry entry = applied.get(index);
        return entry == null ? null : entry.data();
    }

    void observeLeader(int node, long term) {
        Integer previous = leaderByTerm.putIfAbsent(term, node);
        if (previous != null && previous != node) {
            throw failer.fail("election safety: nodes " + previous + " and " + node + " are both leader of term " + term);
        }
    }

    /**
     * A node's commit index moved from {@code previousCommit} to {@code commit} while its term was
     * {@code term}.
     */
    void observeCommit(int node, long previousCommit, long commit, long term) {
        if (commit < previousCommit) {
            throw failer.fail("commit index of node " + node + " went backwards from " + previousCommit + " to " + commit);
        }
        // Only indexes beyond any seen before can get a first (lowest) bound; later sightings have
        // a term at least as high because a higher commit is only learned from later leaders...
        // except for stale leaders, so take the minimum explicitly.
        for (long index = previousCommit + 1; index <= commit; index++) {
            commitTermUpperBound.merge(index, term, Math::min);
        }
        highestCommitIndexSeen = Math.max(highestCommitIndexSeen, commit);
    }

    void checkAppliedNotAboveCommitted(int node, long appliedIndex, long commitIndex) {
        if (appliedIndex > commitIndex) {
            throw failer.fail("node " + node + " applied index " + appliedIndex + " > commit index " + commitIndex);
        }
    }

    /** A node persisted {@code entries}; {@code previousTerm} is its term at the index before them, -1 if compacted. */
    void observePersisted(int node, long previousTerm, List<Entry> entries) {
        long previous = previousTerm;
        for (Entry entry : entries) {
            EntryKey key = new EntryKey(entry.getIndex(), entry.getTerm());
            PersistedEntry mine = new PersistedEntry(entry.getData(), entry.getTypeValue(), previous);
            PersistedEntry first = persisted.putIfAbsent(key, mine);
            if (first != null) {
                if (!first.data().equals(mine.data()) || first.type() != mine.type()) {
                    throw failer.fail("log matching: node " + node + " persisted a different entry at index "
                            + entry.getIndex() + " term " + entry.getTerm() + " than another node did");
                }
                if (first.previousTerm() >= 0 && mine.previousTerm() >= 0 && first.previousTerm() != mine.previousTerm()) {
                    throw failer.fail("log matching: at index " + entry.getIndex() + " term " + entry.getTerm()
                            + " node " + node + " has term " + mine.previousTerm() + " before it, another node "
                            + first.previousTerm());
                }
            }
            previous = entry.getTerm();
        }
    }

    /** A node applied {@code entry}, reaching {@code stateHash}. */
    void observeApplied(int node, Entry entry, long stateHash) {
        AppliedEntry mine = new AppliedEntry(entry.getTerm(), entry.getTypeValue(), entry.getData(), stateHash);
        AppliedEntry first = applied.putIfAbsent(entry.getIndex(), mine);
        if (first != null && (first.term() != mine.term() || first.type() != mine.type()
                || !first.data().equals(mine.data()) || first.stateHash() != mine.stateHash())) {
            throw failer.fail("state machine safety: node " + node + " applied (term " + mine.term()
                    + ") at index " + entry.getIndex() + " but another node applied (term " + first.term()
                    + ")" + (first.stateHash() != mine.stateHash() ? " or reached another state" : ""));
        }
        highestAppliedIndex = Math.max(highestAppliedIndex, entry.getIndex());
    }

    /** A node applied the conf change at {@code index}, reaching {@code membership}. */
    void observeMembership(int node, long index, ConfState membership) {
        ConfState first = membershipAfter.putIfAbsent(index, membership);
        if (first != null && !first.equals(membership)) {
            throw failer.fail("membership agreement: node " + node + " reached {" + TextFormat.shortDebugString(membership)
                    + "} with the conf change at index " + index + ", another node {"
                    + TextFormat.shortDebugString(first) + "}");
        }
    }

    /** A node holds a snapshot at {@code index} that records {@code membership}. */
    void checkSnapshotMembership(int node, long index, ConfState membership) {
        Map.Entry<Long, ConfState> last = membershipAfter.floorEntry(index);
        ConfState expected = last == null ? initialMembership : last.getValue();
        if (!expected.equals(membership)) {
            throw failer.fail("snapshot membership: node " + node + " holds a snapshot at index " + index + " recording {"
                    + TextFormat.shortDebugString(membership) + "}, but the membership as of that index is {"
                    + TextFormat.shortDebugString(expected) + "}"
                    + (last == null ? " (the initial one)" : " (set by the conf change at " + last.getKey() + ")"));
        }
    }

    /** A node restored its state machine from a snapshot at {@code index}. */
    void observeRestored(int node, long index, long stateHash) {
        AppliedEntry first = applied.get(index);
        if (first != null && first.stateHash() != stateHash) {
            throw failer.fail("state machine safety: node " + node + " restored a snapshot at index " + index
                    + " whose state differs from the state other nodes reached by applying up to it");
        }
    }

    /**
     * Node {@code node}, leader of {@code term}, has persisted its whole log into {@code storage}:
     * it must hold every applied entry committed before {@code term}.
     */
    void checkLeaderCompleteness(int node, long term, Storage storage) {
        long from = storage.firstIndex();
        long last = storage.lastIndex();
        for (long index = from; index <= highestAppliedIndex; index++) {
            AppliedEntry entry = applied.get(index);
            Long committedBy = commitTermUpperBound.get(index);
            if (entry == null || committedBy == null || committedBy >= term) {
                continue;
            }
            if (index > last) {
                throw failer.fail("leader completeness: leader " + node + " of term " + term + " has log up to "
                        + last + " but index " + index + " was committed by term " + committedBy);
            }
            long held = storage.term(index);
            if (held != entry.term()) {
                throw failer.fail("leader completeness: leader " + node + " of term " + term + " holds term "
                        + held + " at index " + index + ", but term " + entry.term() + " was committed there by term "
                        + committedBy);
            }
        }
    }

    long highestCommitIndexSeen() {
        return highestCommitIndexSeen;
    }
}
