package io.loomkv.tools.chaos;

import io.loomkv.persist.wal.SegmentName;
import io.loomkv.persist.wal.WalRecordCodec;
import io.loomkv.persist.wal.WalRecordType;
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
import java.util.Random;
import java.util.stream.Stream;

/**
 * Leaves a torn record at the end of a stopped node's newest WAL segment, the way a crash in the
 * middle of a write leaves it on disk: after the last complete record comes the start of one more
 * (a valid header and the first sector of its payload), and the rest of it reads as zeros, like
 * the preallocated rest of the segment. The WAL must discard it as a torn tail and start.
 *
 * <p>Why a new record and not the last one cut short: a record only counts as written once a
 * later {@code force()} finished, so the record a crash tears was never acknowledged. Tearing an
 * existing record would make the node forget an entry it had acknowledged, which no honest disk
 * does (the first version of this fault did that, and the node then rightly stopped at "commit
 * index out of range" when the leader's commit reached the entry it had lost). Why zeros and not
 * a shorter file: segments are preallocated and fsynced at full size, so a crash cannot make one
 * shorter; the WAL treats a segment cut short as damage and refuses to start.
 */
final class TornWalTail {
    /** What was written: the file, where the torn record starts, its full size, and the bytes that did reach the disk. */
    record Tear(Path segment, long recordOffset, int recordBytes, int writtenBytes) {
        @Override
        public String toString() {
            return String.format("%s: a %d-byte record at offset %d of which only %d bytes reached the disk", segment.getFileName(),
                    recordBytes, recordOffset, writtenBytes);
        }
    }

    private static final int SECTOR_BYTES = 512;
    private static final int TORN_PAYLOAD_BYTES = 2_000;

    private TornWalTail() {
    }

    /** Writes a torn record after the last record of {@code walDirectory}'s newest segment; null when it has no room. */
    static Tear tear(Path walDirectory, long seed) throws IOException {
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
        while (position + WalRecordCodec.HEADER_BYTES <= data.length && !zeros(data, position, WalRecordCodec.HEADER_BYTES)) {
            int length = buffer.getInt(position);
            if (length < 0 || length > WalRecordCodec.MAX_PAYLOAD_BYTES
                    || (long) position + WalRecordCodec.recordBytes(length) > data.length) {
                throw new IOException(newest + ": record at offset " + position + " has an impossible length " + length
                        + "; refusing to tear a WAL that is already damaged");
            }
            position += WalRecordCodec.recordBytes(length);
        }
        int recordBytes = WalRecordCodec.recordBytes(TORN_PAYLOAD_BYTES);
        if (position == 0 || position + recordBytes > data.length) {
            return null; // A blank segment (no header yet), or no room left in it.
        }
        byte[] payload = new byte[TORN_PAYLOAD_BYTES];
        new Random(seed).nextBytes(payload);
        byte[] record = WalRecordCodec.encode(WalRecordType.ENTRY, payload);
        // The disk got the header and the payload up to the first sector boundary after it begins.
        int payloadStart = position + WalRecordCodec.HEADER_BYTES;
        int written = (payloadStart / SECTOR_BYTES + 1) * SECTOR_BYTES - position;
        try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
            ByteBuffer torn = ByteBuffer.wrap(record, 0, written);
            while (torn.hasRemaining()) {
                channel.write(torn, position + torn.position());
            }
            channel.force(false);
        }
        return new Tear(newest, position, recordBytes, written);
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
