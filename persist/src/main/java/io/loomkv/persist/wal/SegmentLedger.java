package io.loomkv.persist.wal;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL's live segments, oldest first, and the rules for letting them go (writer thread only,
 * except the published figures).
 *
 * <p>Segments are deleted oldest first and never the one being written, so the files on disk are
 * always a contiguous run of sequence numbers (recovery treats a gap as a lost segment). A segment
 * goes once no group pins it (see {@link SegmentState}). A group that writes little keeps its old
 * entries, and with them every later segment, alive; {@link #pinningGroups()} names the groups
 * that hold segments beyond the configured bound, so that the store can have them snapshot and
 * release, or rewrite.
 */
final class SegmentLedger {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentLedger.class);

    private final Path directory;
    private final int maxRetainedSegments;
    private final List<SegmentState> segments;
    private volatile int segmentCount;
    private volatile List<PinningGroup> pinningGroups = List.of();

    SegmentLedger(Path directory, int maxRetainedSegments, List<SegmentState> recovered) {
        if (maxRetainedSegments < 1) {
            throw new IllegalArgumentException("maxRetainedSegments must be >= 1, got " + maxRetainedSegments);
        }
        this.directory = directory;
        this.maxRetainedSegments = maxRetainedSegments;
        this.segments = new ArrayList<>(recovered);
        this.segmentCount = segments.size();
        refreshReport();
    }

    boolean isEmpty() {
        return segments.isEmpty();
    }

    /** The segment being written. */
    SegmentState current() {
        if (segments.isEmpty()) {
            throw new IllegalStateException("the WAL in " + directory + " has no segment yet");
        }
        return segments.get(segments.size() - 1);
    }

    /** Starts tracking a new segment, the one now being written; the previous one must already be closed. */
    void add(SegmentState segment) {
        if (!segments.isEmpty() && segment.sequence() != current().sequence() + 1) {
            throw new IllegalStateException("segment " + segment.sequence() + " does not follow " + current().sequence());
        }
        segments.add(segment);
        segmentCount = segments.size();
        refreshReport();
    }

    /**
     * Deletes the oldest segments that no group pins, never the one being written. One directory
     * fsync per deletion, oldest first, so that a crash never leaves a gap in the sequence.
     * Returns how many it deleted.
     */
    int deleteUnpinned() throws IOException {
        int deleted = 0;
        while (segments.size() > 1 && !segments.get(0).pinned()) {
            SegmentState oldest = segments.remove(0);
            Files.delete(oldest.path);
            DurableFiles.fsyncDirectory(directory);
            deleted++;
            LOG.info("WAL: deleted segment {}: no group needs its records any more", oldest.path);
        }
        if (deleted > 0) {
            segmentCount = segments.size();
        }
        refreshReport();
        return deleted;
    }

    int segmentCount() {
        return segmentCount;
    }

    /** What the last refresh found; safe from any thread. */
    List<PinningGroup> pinningGroups() {
        return pinningGroups;
    }

    /**
     * Recomputes the groups that pin segments beyond the bound. Called whenever segments or pins
     * change (a cut, a release, a durable drop or rewrite): the closed segments' pins change only
     * then, and the segment being written is never beyond the bound.
     */
    void refreshReport() {
        int excess = segments.size() - maxRetainedSegments;
        if (excess <= 0) {
            pinningGroups = List.of();
            return;
        }
        Map<Long, long[]> byGroup = new LinkedHashMap<>(); // group id -> {highest needed index, segments pinned}
        for (int i = 0; i < excess && i < segments.size() - 1; i++) {
            for (SegmentState.Pin pin : segments.get(i).effectivePins()) {
                long[] figures = byGroup.computeIfAbsent(pin.group().id, id -> new long[2]);
                figures[0] = Math.max(figures[0], pin.neededIndex());
                figures[1]++;
            }
        }
        // In the order of the oldest segment each pins: segments go oldest first, so the first groups block the most.
        List<PinningGroup> report = new ArrayList<>(byGroup.size());
        byGroup.forEach((id, figures) -> report.add(new PinningGroup(id, figures[0], (int) figures[1])));
        pinningGroups = List.copyOf(report);
    }
}
