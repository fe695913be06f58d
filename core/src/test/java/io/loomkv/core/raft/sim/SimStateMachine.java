package io.loomkv.core.raft.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The replicated state machine of one node incarnation: it folds applied commands into a hash
 * chain and remembers which proposal ids it applied, so that applying one twice is caught. Its
 * snapshot holds the applied index, the hash and the ids, so a node restored from a snapshot
 * still catches duplicates of proposals applied before the snapshot.
 */
final class SimStateMachine implements SimMachine {

    private long appliedIndex;
    private long stateHash;
    private final Set<Long> appliedProposalIds = new HashSet<>();

    @Override
    public long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public long stateHash() {
        return stateHash;
    }

    boolean hasApplied(long proposalId) {
        return appliedProposalIds.contains(proposalId);
    }

    int appliedProposalCount() {
        return appliedProposalIds.size();
    }

    /** A configuration change or an empty entry carries no command; any other entry holds a {@link SimCommand}. */
    @Override
    public String apply(Entry entry) {
        SimCommand command = entry.getType() == EntryType.ENTRY_CONF_CHANGE || entry.getData().isEmpty() ? null
                : SimCommand.decode(entry.getData());
        return apply(entry.getIndex(), command);
    }

    /**
     * Applies the entry at {@code index}; {@code command} is null for an entry without a client
     * command (a leader's no-op or a configuration change).
     *
     * @return null, or a description of the broken rule
     */
    String apply(long index, SimCommand command) {
        if (index != appliedIndex + 1) {
            return "applied index " + index + " after " + appliedIndex + " (entries must be applied in order, once)";
        }
        appliedIndex = index;
        if (command != null) {
            if (!appliedProposalIds.add(command.proposalId())) {
                return "proposal " + command.proposalId() + " applied a second time, at index " + index;
            }
            stateHash = stateHash * 1_000_003L + command.proposalId() * 31 + command.value();
        } else {
            stateHash = stateHash * 1_000_003L + 7;
        }
        return null;
    }

    @Override
    public ByteString snapshot() {
        long[] ids = appliedProposalIds.stream().mapToLong(Long::longValue).sorted().toArray();
        ByteBuffer buffer = ByteBuffer.allocate((3 + ids.length) * Long.BYTES);
        buffer.putLong(appliedIndex).putLong(stateHash).putLong(ids.length);
        for (long id : ids) {
            buffer.putLong(id);
        }
        return ByteString.copyFrom(buffer.flip());
    }

    /** Replaces the state with a snapshot's; {@code snapshotIndex} must match what it holds. */
    @Override
    public void restore(ByteString data, long snapshotIndex) {
        ByteBuffer buffer = data.asReadOnlyByteBuffer();
        if (buffer.remaining() < 3 * Long.BYTES) {
            throw new IllegalStateException("snapshot data of " + data.size() + " bytes is too short");
        }
        long index = buffer.getLong();
        long hash = buffer.getLong();
        long count = buffer.getLong();
        if (index != snapshotIndex || count < 0 || buffer.remaining() != count * Long.BYTES) {
            throw new IllegalStateException("snapshot data says index " + index + " with " + count
                    + " ids in " + data.size() + " bytes, metadata says index " + snapshotIndex);
        }
        long[] ids = new long[(int) count];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = buffer.getLong();
        }
        appliedIndex = index;
        stateHash = hash;
        appliedProposalIds.clear();
        Arrays.stream(ids).forEach(appliedProposalIds::add);
    }
}
