package io.loomkv.persist.bitcask;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A merge's commit record, {@code <merge id>.commit}: the merge happened, and its input files are
 * to be deleted. It is written (tmp, force, rename, fsync the directory) after the merged files and
 * their hints are durable, and deleted only after the last input is gone, because a merge drops
 * tombstones: if a crash left some inputs behind without the record, an old value in a surviving
 * input could come back to life. Recovery finishes the job: it deletes every input a commit names.
 *
 * <pre>
 *   0  int   CRC32C of bytes 4..end
 *   4  int   magic "LKM1"
 *   8  long  merge id
 *  16  int   input count
 *  20  int   output count
 *  24  long  input ids, then output ids
 * </pre>
 */
final class MergeCommit {
    private static final Logger LOG = LoggerFactory.getLogger(MergeCommit.class);
    static final int MAGIC = 0x314D4B4C; // "LKM1" read as little-endian bytes
    private static final int HEADER_BYTES = 24;
    private static final int MAX_FILES = 1 << 20;

    /** What a commit record names. */
    record Contents(long mergeId, List<Long> inputIds, List<Long> outputIds) {
    }

    private final Path path;
    private final Path directory;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<Long> inputsLeft;

    private MergeCommit(Path path, List<Long> inputIds) {
        this.path = path;
        this.directory = path.toAbsolutePath().getParent();
        this.inputsLeft = new HashSet<>(inputIds);
    }

    static Path pathOf(Path directory, long mergeId) {
        return directory.resolve(new DataFileName(mergeId, DataFileName.Kind.COMMIT).fileName());
    }

    /** Writes the commit record durably; from here on the merge has happened. */
    static MergeCommit write(Path directory, long mergeId, List<Long> inputIds, List<Long> outputIds) throws IOException {
        Path path = pathOf(directory, mergeId);
        Path tmp = path.resolveSibling(path.getFileName() + DataFileName.TMP_SUFFIX);
        byte[] bytes = new byte[HEADER_BYTES + 8 * (inputIds.size() + outputIds.size())];
        RecordFormat.writeInt(bytes, 4, MAGIC);
        RecordFormat.writeLong(bytes, 8, mergeId);
        RecordFormat.writeInt(bytes, 16, inputIds.size());
        RecordFormat.writeInt(bytes, 20, outputIds.size());
        int at = HEADER_BYTES;
        for (long id : inputIds) {
            RecordFormat.writeLong(bytes, at, id);
            at += 8;
        }
        for (long id : outputIds) {
            RecordFormat.writeLong(bytes, at, id);
            at += 8;
        }
        RecordFormat.writeInt(bytes, 0, RecordFormat.crc(bytes, 4, bytes.length - 4));
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer, buffer.position());
            }
            channel.force(false);
        }
        DurableFiles.renameDurably(tmp, path);
        return new MergeCommit(path, inputIds);
    }

    /** Reads a commit record; damage is reported (a commit that cannot be read cannot be finished safely). */
    static Contents read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        if (bytes.length < HEADER_BYTES || RecordFormat.crc(bytes, 4, bytes.length - 4) != RecordFormat.readInt(bytes, 0)
                || RecordFormat.readInt(bytes, 4) != MAGIC) {
            throw new BitcaskCorruptionException(path, 0, "merge commit record fails its checksum or magic");
        }
        int inputs = RecordFormat.readInt(bytes, 16);
        int outputs = RecordFormat.readInt(bytes, 20);
        if (inputs < 0 || outputs < 0 || inputs > MAX_FILES || outputs > MAX_FILES
                || bytes.length != HEADER_BYTES + 8L * (inputs + outputs)) {
            throw new BitcaskCorruptionException(path, 16, "merge commit record names " + inputs + " inputs and " + outputs
                    + " outputs in " + bytes.length + " bytes");
        }
        List<Long> inputIds = new ArrayList<>(inputs);
        List<Long> outputIds = new ArrayList<>(outputs);
        for (int i = 0; i < inputs; i++) {
            inputIds.add(RecordFormat.readLong(bytes, HEADER_BYTES + 8 * i));
        }
        for (int i = 0; i < outputs; i++) {
            outputIds.add(RecordFormat.readLong(bytes, HEADER_BYTES + 8 * (inputs + i)));
        }
        return new Contents(RecordFormat.readLong(bytes, 8), inputIds, outputIds);
    }

    /**
     * An input's last reference went: delete it, and once no input is left, fsync the directory and
     * delete the record. The deletions need no fsync each: until the record goes, the next open
     * deletes any input a crash brought back.
     */
    void inputDeleted(DataFile input) {
        lock.lock();
        try {
            input.deleteFiles();
            inputsLeft.remove(input.id());
            if (inputsLeft.isEmpty()) {
                DurableFiles.fsyncDirectory(directory);
                Files.deleteIfExists(path);
                DurableFiles.fsyncDirectory(directory);
            }
        } catch (IOException e) {
            // Harmless: the commit record stays, and the next open deletes what is left.
            LOG.warn("deleting merged input {} or the commit record {} failed; the next open finishes it", input.path, path, e);
        } finally {
            lock.unlock();
        }
    }
}
