package io.loomkv.tools.chaos;

import io.loomkv.persist.wal.SegmentName;
import io.loomkv.persist.wal.WalRecordCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Tears the last record of a stopped node's newest WAL segment the way a crash in the middle of
 * a write leaves it on disk: the record's header is there, but the sectors of its payload from the
 * first sector boundary on (or all of it, when it sits in one sector) never arrived and read as
 * zeros, like the preallocated rest of the segment.
 *
 * <p>Why zeros and not a shorter file: segments are preallocated and fsynced at their full size
 * before use, so a crash cannot make one shorter; the WAL rightly treats a segment cut short as
 * damage and refuses to start. What a crash can leave is a record that stops part-way, which the
 * WAL must discard as a torn tail.
 *
 * <p>The torn record may have been acknowledged already (the node was killed, not crashed
 * mid-write), so the node really loses it; the runner only does this to one node while the others
 * are healthy, and waits until it caught up again before the next fault.
 */
final class TornWalTail {
    /** What was torn: the file, where the record starts, and the zeroed range. */
    record Tear(Path segment, long recordOffset, int recordBytes, long zeroFrom, long zeroTo) {
        @Override
        public String toString() {
            return String.format("%s: record of %d bytes at offset %d, zeroed [%d, %d)", segment.getFileName(), recordBytes,
                    recordOffset, zeroFrom, zeroTo);
        }
    }

    private static final int SECTOR_BYTES = 512;

    private TornWalTail() {
    }

    /** Tears the last record in {@code walDirectory}'s newest segment; null when it holds no record to tear. */
    static Tear tear(Path walDirectory) throws IOException {
        Path newest;
        try (Stream<Path> files = Files.list(walDirectory)) {
            List<Path> segments = files.filter(p -> SegmentName.parse(p.getFileName().toString()) != null).toList();
            newest = segments.stream()
                    .max(Comparator.comparing(p -> Objects.requireNonNull(SegmentName.parse(p.getFileName().toString()))))
                    .orElse(null);
        }
        if (newest == null) {
            return null;
        }
        byte[] data = Files.readAllBytes(newest);
        ByteBuffer buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int position = 0;
        int last = -1;
        while (position + WalRecordCodec.HEADER_BYTES <= data.length && !zeros(data, position, WalRecordCodec.HEADER_BYTES)) {
            int length = buffer.getInt(position);
            if (length < 0 || length > WalRecordCodec.MAX_PAYLOAD_BYTES
                    || (long) position + WalRecordCodec.recordBytes(length) > data.length) {
                throw new IOException(newest + ": record at offset " + position + " has an impossible length " + length
                        + "; refusing to tear a WAL that is already damaged");
            }
            last = position;
            position += WalRecordCodec.recordBytes(length);
        }
        if (last <= 0) {
            return null; // Only the segment header (or nothing): no record of the log to tear.
        }
        int payloadStart = last + WalRecordCodec.HEADER_BYTES;
        int payloadEnd = payloadStart + buffer.getInt(last);
        if (payloadEnd == payloadStart) {
            return null;
        }
        int nextSector = (payloadStart / SECTOR_BYTES + 1) * SECTOR_BYTES;
        int zeroFrom = nextSector < payloadEnd ? nextSector : payloadStart;
        try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(position - zeroFrom);
            while (zeros.hasRemaining()) {
                channel.write(zeros, zeroFrom + zeros.position());
            }
            channel.force(false);
        }
        return new Tear(newest, last, position - last, zeroFrom, position);
    }

    private static boolean zeros(byte[] data, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
