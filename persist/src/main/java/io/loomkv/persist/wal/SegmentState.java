package io.loomkv.persist.wal;

import java.nio.file.Path;

/** What the writer tracks for each live segment: where it is and the highest entry index in it (for release). */
final class SegmentState {
    final SegmentName name;
    final Path path;
    long maxEntryIndex;

    SegmentState(SegmentName name, Path path, long maxEntryIndex) {
        this.name = name;
        this.path = path;
        this.maxEntryIndex = maxEntryIndex;
    }
}
