package io.loomkv.core.replica;

import io.loomkv.core.raft.proto.Entry;
import java.util.List;

/**
 * Committed entries handed to the apply stage, in log order, with the membership changes among
 * them already applied to the Raft node (the node must see a change when it is handed on, not
 * when a slower apply thread gets to it, or it would refuse the next change as still pending).
 */
public record CommittedEntries(List<Entry> entries, List<AppliedConfChange> confChanges) {
    public CommittedEntries {
        entries = List.copyOf(entries);
        confChanges = List.copyOf(confChanges);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("no committed entries to hand on");
        }
    }

    public long firstIndex() {
        return entries.get(0).getIndex();
    }

    public long lastIndex() {
        return entries.get(entries.size() - 1).getIndex();
    }
}
