package io.loomkv.persist.bitcask;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A merged file's key index, written by the merge next to it so that a restart reads keys and
 * positions instead of every value (the paper's hint file: tstamp | ksz | value_sz | value_pos | key).
 * Little-endian:
 *
 * <pre>
 * entry, 28 bytes + key, one per record of the merged file:
 *   0  int   CRC32C of bytes 4..end of the entry
 *   4  long  sequence of the record
 *  12  long  offset of the record in the merged file
 *  20  int   bytes of the record
 *  24  int   key length
 *  28  key
 * then the metadata the merged file carries (may be empty), then a 40-byte footer:
 *   0  int   CRC32C of bytes 4..39 of the footer and of the metadata before it
 *   4  int   magic "LKH1"
 *   8  long  id of the merged file it indexes
 *  16  long  entry count
 *  24  long  sequence of the metadata's group (0 when none)
 *  32  int   metadata length, -1 when none
 *  36  int   zero
 * </pre>
 *
 * A hint that fails any check is not trusted at all: recovery scans the merged file instead (the
 * merged file is the truth; entries already taken from the hint are the same records, so taking
 * them twice changes nothing).
 */
final class HintFile {
    static final int ENTRY_HEADER_BYTES = 28;
    static final int FOOTER_BYTES = 40;
    static final int HINT_MAGIC = 0x31484B4C; // "LKH1" read as little-endian bytes
    private static final int BUFFER_BYTES = 256 * 1024;

    private HintFile() {
    }

    /** Receives a hint's entries and then its metadata. */
    interface Sink {
        void entry(byte[] key, long sequence, long offsetBytes, int recordBytes);

        void metadata(long groupSequence, byte[] metadata);
    }

    /** Writes a hint file through a buffer; {@link #finish} adds the footer and forces it. */
    static final class Writer implements AutoCloseable {
        private final FileChannel channel;
        private final long dataFileId;
        private final byte[] buffer = new byte[BUFFER_BYTES];
        private int buffered;
        private long written;
        private long entries;

        Writer(Path path, long dataFileId) throws IOException {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.dataFileId = dataFileId;
        }

        void add(byte[] key, int keyOffset, int keyBytes, long sequence, long offsetBytes, int recordBytes) throws IOException {
            int entryBytes = ENTRY_HEADER_BYTES + keyBytes;
            if (buffer.length - buffered < entryBytes) {
                flush();
            }
            byte[] out = entryBytes > buffer.length ? new byte[entryBytes] : buffer;
            int at = out == buffer ? buffered : 0;
            RecordFormat.writeLong(out, at + 4, sequence);
            RecordFormat.writeLong(out, at + 12, offsetBytes);
            RecordFormat.writeInt(out, at + 20, recordBytes);
            RecordFormat.writeInt(out, at + 24, keyBytes);
            System.arraycopy(key, keyOffset, out, at + ENTRY_HEADER_BYTES, keyBytes);
            RecordFormat.writeInt(out, at, RecordFormat.crc(out, at + 4, entryBytes - 4));
            if (out == buffer) {
                buffered += entryBytes;
            } else {
                writeFully(ByteBuffer.wrap(out));
            }
            entries++;
        }

        /** Writes the metadata and the footer, forces, closes; returns the file's bytes. */
        long finish(long metadataSequence, byte[] metadata) throws IOException {
            flush();
            int metadataBytes = metadata == null ? 0 : metadata.length;
            byte[] tail = new byte[metadataBytes + FOOTER_BYTES];
            if (metadata != null) {
                System.arraycopy(metadata, 0, tail, 0, metadataBytes);
            }
            int footer = metadataBytes;
            RecordFormat.writeInt(tail, footer + 4, HINT_MAGIC);
            RecordFormat.writeLong(tail, footer + 8, dataFileId);
            RecordFormat.writeLong(tail, footer + 16, entries);
            RecordFormat.writeLong(tail, footer + 24, metadata == null ? 0 : metadataSequence);
            RecordFormat.writeInt(tail, footer + 32, metadata == null ? RecordFormat.NO_METADATA : metadataBytes);
            RecordFormat.writeInt(tail, footer, footerCrc(tail, footer, metadataBytes));
            writeFully(ByteBuffer.wrap(tail));
            channel.force(false);
            channel.close();
            return written;
        }

        private void flush() throws IOException {
            writeFully(ByteBuffer.wrap(buffer, 0, buffered));
            buffered = 0;
        }

        private void writeFully(ByteBuffer source) throws IOException {
            while (source.hasRemaining()) {
                written += channel.write(source, written);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static int footerCrc(byte[] tail, int footer, int metadataBytes) {
        CRC32C crc = new CRC32C();
        crc.update(tail, footer + 4, FOOTER_BYTES - 4);
        crc.update(tail, footer - metadataBytes, metadataBytes);
        return (int) crc.getValue();
    }

    /**
     * Hands the hint's entries and metadata to {@code sink}; returns null when the whole hint was
     * sound, else why it is not (entries handed over before the problem are sound ones).
     */
    static String load(Path path, long dataFileId, long dataFileBytes, Sink sink) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileBytes = channel.size();
            if (fileBytes < FOOTER_BYTES) {
                return "hint of " + fileBytes + " bytes has no footer";
            }
            FileWindow window = new FileWindow(channel, fileBytes);
            long footerAt = fileBytes - FOOTER_BYTES;
            window.load(footerAt, FOOTER_BYTES);
            byte[] data = window.bytes();
            int footer = window.indexOf(footerAt);
            int metadataLength = RecordFormat.readInt(data, footer + 32);
            if (metadataLength < RecordFormat.NO_METADATA || metadataLength > footerAt) {
                return "hint footer declares metadata of " + metadataLength + " bytes";
            }
            int metadataBytes = Math.max(0, metadataLength);
            long tailAt = footerAt - metadataBytes;
            window.load(tailAt, metadataBytes + FOOTER_BYTES);
            data = window.bytes();
            footer = window.indexOf(footerAt);
            if (footerCrc(data, footer, metadataBytes) != RecordFormat.readInt(data, footer)
                    || RecordFormat.readInt(data, footer + 4) != HINT_MAGIC) {
                return "hint footer checksum or magic mismatch";
            }
            if (RecordFormat.readLong(data, footer + 8) != dataFileId) {
                return "hint indexes file " + RecordFormat.readLong(data, footer + 8) + ", not " + dataFileId;
            }
            long expectedEntries = RecordFormat.readLong(data, footer + 16);
            long metadataSequence = RecordFormat.readLong(data, footer + 24);
            byte[] metadata = metadataLength < 0 ? null
                    : Arrays.copyOfRange(data, window.indexOf(tailAt), window.indexOf(tailAt) + metadataBytes);
            String problem = loadEntries(window, tailAt, expectedEntries, dataFileBytes, sink);
            if (problem == null && metadata != null) {
                sink.metadata(metadataSequence, metadata);
            }
            return problem;
        }
    }

    private static String loadEntries(FileWindow window, long entriesEnd, long expectedEntries, long dataFileBytes, Sink sink)
            throws IOException {
        long position = 0;
        long entries = 0;
        while (position < entriesEnd) {
            if (window.load(position, ENTRY_HEADER_BYTES) < ENTRY_HEADER_BYTES || entriesEnd - position < ENTRY_HEADER_BYTES) {
                return "hint entry at offset " + position + " is cut short";
            }
            byte[] data = window.bytes();
            int at = window.indexOf(position);
            int keyBytes = RecordFormat.readInt(data, at + 24);
            if (keyBytes < 0 || keyBytes > entriesEnd - position - ENTRY_HEADER_BYTES) {
                return "hint entry at offset " + position + " declares a key of " + keyBytes + " bytes";
            }
            int entryBytes = ENTRY_HEADER_BYTES + keyBytes;
            window.load(position, entryBytes);
            data = window.bytes();
            at = window.indexOf(position);
            if (RecordFormat.crc(data, at + 4, entryBytes - 4) != RecordFormat.readInt(data, at)) {
                return "hint entry at offset " + position + " has a bad checksum";
            }
            long sequence = RecordFormat.readLong(data, at + 4);
            long offset = RecordFormat.readLong(data, at + 12);
            int recordBytes = RecordFormat.readInt(data, at + 20);
            if (offset < 0 || recordBytes < RecordFormat.RECORD_HEADER_BYTES + keyBytes || offset + recordBytes > dataFileBytes) {
                return "hint entry at offset " + position + " points outside the merged file (" + offset + ", " + recordBytes + " bytes)";
            }
            sink.entry(Arrays.copyOfRange(data, at + ENTRY_HEADER_BYTES, at + entryBytes), sequence, offset, recordBytes);
            entries++;
            position += entryBytes;
        }
        return entries == expectedEntries ? null : "hint holds " + entries + " entries, its footer says " + expectedEntries;
    }
}
