package io.loomkv.persist.wal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the writer tracks for each live segment: where it is, and which groups still need it.
 *
 * <p>A group needs a closed segment in which it wrote entries (or reset or rewrote its log) until
 * it has released its log up to its last index at the end of that segment: then those entries are
 * covered by a snapshot, and the next segment's header says where the group's log continues. Hard
 * states and snapshot markers never pin a segment: every segment header repeats them.
 */
final class SegmentState {
    /** One group's claim on a closed segment: its last index when the segment was cut. */
    record Pin(WalGroup group, long neededIndex) {
    }

    final SegmentName name;
    final Path path;
    /** The groups that wrote entries here, while this is the segment being written; turned into pins at the cut. */
    private final List<WalGroup> groupsWithEntries = new ArrayList<>();
    private List<Pin> pins = List.of();

    SegmentState(SegmentName name, Path path) {
        this.name = name;
        this.path = path;
    }

    long sequence() {
        return name.sequence();
    }

    /** Writer (and recovery, reading it back): {@code group} wrote entries (or reset or rewrote its log) into this segment, the one being written. */
    void noteEntries(WalGroup group) {
        if (group.entriesNotedInSegment != sequence()) {
            group.entriesNotedInSegment = sequence();
            groupsWithEntries.add(group);
        }
    }

    /** Writer at the cut (and recovery, at the end of a closed segment): every group that wrote entries here needs it until it released up to where its log stands now. */
    void close() {
        List<Pin> closed = new ArrayList<>(groupsWithEntries.size());
        for (WalGroup group : groupsWithEntries) {
            closed.add(new Pin(group, group.lastIndexWritten));
        }
        groupsWithEntries.clear();
        pins = List.copyOf(closed);
    }

    /** The pins that still hold this segment. */
    List<Pin> effectivePins() {
        List<Pin> effective = new ArrayList<>();
        for (Pin pin : pins) {
            if (pin.group().pins(sequence(), pin.neededIndex())) {
                effective.add(pin);
            }
        }
        return effective;
    }

    boolean pinned() {
        for (Pin pin : pins) {
            if (pin.group().pins(sequence(), pin.neededIndex())) {
                return true;
            }
        }
        return false;
    }
}
