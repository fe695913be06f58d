package io.loomkv.persist.bitcask;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One merge (the paper's compaction), run on the caller's thread while writes go on:
 *
 * <ol>
 *   <li>Take every immutable file as input (all but the active file). Scan each; a record is live
 *       when the key directory points at exactly it at that moment; copy live records verbatim
 *       (sequence and CRC kept) into new {@code .merged} files cut at the file size limit, and
 *       write a hint entry for each. Tombstones and overwritten records are dropped.</li>
 *   <li>Carry the newest metadata of the inputs into the last output, so that retiring the inputs
 *       never loses the caller's applied index.</li>
 *   <li>Force outputs and hints, rename them from {@code .tmp} to their names, fsync the
 *       directory, then write the commit record ({@link MergeCommit}). A crash before the commit
 *       leaves only temporary files, deleted at the next open.</li>
 *   <li>Point the key directory at the copies, key by key and only where the key still holds the
 *       very record that was copied (same sequence): a write that came after the scan wins, so no
 *       concurrent overwrite or delete is ever lost. This reads the hints back, so the merge holds
 *       no list of every copied key in memory.</li>
 *   <li>Retire the inputs: deleted once no open view holds them, then the commit record goes.</li>
 * </ol>
 *
 * Dropping tombstones is safe because the inputs are all the immutable files: every older record
 * of a deleted key is in an input, and the files outside (the active one and those started during
 * the merge) hold only newer records.
 */
final class Merge {
    private static final Logger LOG = LoggerFactory.getLogger(Merge.class);
    /** Records are copied in groups of about this size (a larger record gets a group of its own). */
    static final int GROUP_TARGET_BYTES = 1 << 20;
    /** Keys moved per hold of the write lock, so that writers wait for at most one chunk. */
    static final int SWAP_CHUNK_KEYS = 1024;

    private final BitcaskStore store;
    private final BitcaskOptions options;
    private final Path directory;
    private final List<Output> outputs = new ArrayList<>();
    private Output current;
    private byte[] group = new byte[GROUP_TARGET_BYTES];
    private int groupRecordsBytes;
    private int groupCount;
    private long groupFileOffset;
    private byte[] newestMetadata;
    private long newestMetadataSequence = -1;
    private long recordsCopied;

    /** One merged file being written, with its hint. */
    private static final class Output {
        final DataFileName name;
        final Path tmp;
        final Path hintTmp;
        final FileChannel channel;
        final HintFile.Writer hint;
        long sizeBytes;
        long hintBytes;

        Output(Path directory, long id) throws IOException {
            this.name = new DataFileName(id, DataFileName.Kind.MERGED);
            this.tmp = directory.resolve(name.fileName() + DataFileName.TMP_SUFFIX);
            this.hintTmp = directory.resolve(name.withKind(DataFileName.Kind.HINT).fileName() + DataFileName.TMP_SUFFIX);
            this.channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.hint = new HintFile.Writer(hintTmp, id);
        }

        Path finalPath() {
            return tmp.resolveSibling(name.fileName());
        }

        Path finalHintPath() {
            return tmp.resolveSibling(name.withKind(DataFileName.Kind.HINT).fileName());
        }
    }

    Merge(BitcaskStore store) {
        this.store = store;
        this.options = store.options();
        this.directory = options.directory();
    }

    MergeResult run() throws IOException {
        long started = System.nanoTime();
        List<DataFile> inputs = store.mergeInputs();
        if (inputs.isEmpty()) {
            return new MergeResult(0, 0, 0, 0, 0, 0);
        }
        long mergeId = store.allocateFileId();
        long inputBytes = 0;
        List<DataFile> opened = new ArrayList<>();
        MergeCommit commit;
        try {
            for (DataFile input : inputs) {
                inputBytes += input.sizeBytes() + input.hintBytes();
                copyLiveRecords(input);
            }
            finishOutputs();
            for (Output output : outputs) {
                DataFile file = new DataFile(output.name, output.finalPath(), output.sizeBytes);
                file.setHintBytes(output.hintBytes);
                opened.add(file);
            }
            commit = MergeCommit.write(directory, mergeId, inputs.stream().map(DataFile::id).toList(),
                    outputs.stream().map(o -> o.name.id()).toList());
        } catch (IOException | RuntimeException e) {
            abandon(opened);
            throw e;
        }
        store.publishMergeOutputs(opened);
        Runnable hook = store.mergeCommittedHook;
        if (hook != null) {
            hook.run();
        }
        long moved = swapKeys();
        store.retireMergeInputs(inputs, commit);
        long outputBytes = outputs.stream().mapToLong(o -> o.sizeBytes + o.hintBytes).sum();
        MergeResult result = new MergeResult(inputs.size(), outputs.size(), inputBytes, outputBytes, recordsCopied, recordsCopied - moved);
        LOG.info("BitCask {}: merged {} files ({} bytes) into {} ({} bytes) in {} ms; {} records copied, {} superseded by writes meanwhile",
                directory, inputs.size(), inputBytes, outputs.size(), outputBytes, (System.nanoTime() - started) / 1_000_000,
                recordsCopied, result.recordsSuperseded());
        return result;
    }

    private void copyLiveRecords(DataFile input) throws IOException {
        KeyDir keyDir = store.keyDir();
        GroupScanner.End end = GroupScanner.scan(input.path, new GroupScanner.Sink() {
            @Override
            public void metadata(long groupSequence, byte[] blob) {
                if (groupSequence > newestMetadataSequence) {
                    newestMetadataSequence = groupSequence;
                    newestMetadata = blob;
                }
            }

            @Override
            public void record(byte[] data, int offset, long fileOffset, int recordBytes) throws IOException {
                int keyBytes = RecordFormat.recordKeyBytes(data, offset);
                byte[] key = Arrays.copyOfRange(data, offset + RecordFormat.RECORD_HEADER_BYTES,
                        offset + RecordFormat.RECORD_HEADER_BYTES + keyBytes);
                KeyDirEntry live = keyDir.get(key);
                if (live != null && live.fileId() == input.id() && live.offsetBytes() == fileOffset) {
                    copy(data, offset, recordBytes, key);
                }
            }
        });
        if (end.problem() != null) {
            throw new BitcaskCorruptionException(input.path, end.problemOffset(), end.problem() + " (found by a merge)");
        }
        if (store.closing()) {
            throw new IOException("merge abandoned: the store is closing or failed");
        }
    }

    private void copy(byte[] data, int offset, int recordBytes, byte[] key) throws IOException {
        long max = options.maxFileSizeBytes();
        if (groupCount > 0 && (groupRecordsBytes + recordBytes > GROUP_TARGET_BYTES
                || current.sizeBytes + RecordFormat.GROUP_HEADER_BYTES + groupRecordsBytes + recordBytes > max)) {
            flushGroup(null, 0);
        }
        if (current == null || (current.sizeBytes > 0 && current.sizeBytes + RecordFormat.GROUP_HEADER_BYTES + recordBytes > max)) {
            startOutput();
        }
        if (groupCount == 0) {
            groupFileOffset = current.sizeBytes;
        }
        int at = RecordFormat.GROUP_HEADER_BYTES + groupRecordsBytes;
        if (group.length < at + recordBytes) {
            group = Arrays.copyOf(group, at + recordBytes);
        }
        RecordFormat.copyRecord(data, offset, recordBytes, group, at);
        current.hint.add(key, 0, key.length, RecordFormat.recordSequence(data, offset), groupFileOffset + at, recordBytes);
        groupRecordsBytes += recordBytes;
        groupCount++;
        recordsCopied++;
    }

    private void startOutput() throws IOException {
        if (current != null) {
            closeOutput(current, null, 0);
        }
        current = new Output(directory, store.allocateFileId());
        outputs.add(current);
    }

    /** Writes the pending group (records at {@code group[32..]}); a metadata-only group when {@code blob} is given and no records wait. */
    private void flushGroup(byte[] blob, long blobSequence) throws IOException {
        byte[] bytes = group;
        int total = RecordFormat.GROUP_HEADER_BYTES + groupRecordsBytes;
        if (blob != null) {
            if (groupCount != 0) {
                throw new IllegalStateException("metadata goes in a group of its own");
            }
            bytes = new byte[RecordFormat.GROUP_HEADER_BYTES + blob.length];
            total = bytes.length;
        }
        RecordFormat.encodeGroupHeader(bytes, 0, RecordFormat.KIND_MERGED, blob == null ? 0 : blobSequence, groupCount, blob,
                groupRecordsBytes);
        ByteBuffer source = ByteBuffer.wrap(bytes, 0, total);
        while (source.hasRemaining()) {
            current.sizeBytes += current.channel.write(source, current.sizeBytes);
        }
        groupRecordsBytes = 0;
        groupCount = 0;
    }

    private void closeOutput(Output output, byte[] blob, long blobSequence) throws IOException {
        if (groupCount > 0) {
            flushGroup(null, 0);
        }
        if (blob != null) {
            flushGroup(blob, blobSequence);
        }
        output.channel.force(false);
        output.channel.close();
        output.hintBytes = output.hint.finish(blobSequence, blob);
    }

    /** Finishes the last output (with the inputs' newest metadata), then renames every output durably. */
    private void finishOutputs() throws IOException {
        if (newestMetadata != null && (current == null || current.sizeBytes + RecordFormat.GROUP_HEADER_BYTES
                + groupRecordsBytes + newestMetadata.length > options.maxFileSizeBytes())) {
            startOutput();
        }
        if (current != null) {
            closeOutput(current, newestMetadata, newestMetadataSequence);
        }
        for (Output output : outputs) {
            Files.move(output.tmp, output.finalPath(), StandardCopyOption.ATOMIC_MOVE);
            Files.move(output.hintTmp, output.finalHintPath(), StandardCopyOption.ATOMIC_MOVE);
        }
        DurableFiles.fsyncDirectory(directory);
    }

    /** Reads each output's hint back and moves its keys in chunks; returns how many moved. */
    private long swapKeys() throws IOException {
        long moved = 0;
        List<byte[]> keys = new ArrayList<>(SWAP_CHUNK_KEYS);
        List<KeyDirEntry> entries = new ArrayList<>(SWAP_CHUNK_KEYS);
        for (Output output : outputs) {
            long[] movedHere = {0};
            String problem = HintFile.load(output.finalHintPath(), output.name.id(), output.sizeBytes, new HintFile.Sink() {
                @Override
                public void entry(byte[] key, long sequence, long offsetBytes, int recordBytes) {
                    keys.add(key);
                    entries.add(new KeyDirEntry(output.name.id(), offsetBytes, recordBytes, sequence));
                    if (keys.size() == SWAP_CHUNK_KEYS) {
                        movedHere[0] += store.swapLocked(keys, entries);
                        keys.clear();
                        entries.clear();
                    }
                }

                @Override
                public void metadata(long groupSequence, byte[] blob) {
                }
            });
            if (problem != null) {
                // The hint was written and forced moments ago; failing to read it back is a broken disk.
                throw new IOException("reading back the hint of merged file " + output.finalPath() + " failed: " + problem);
            }
            moved += movedHere[0];
        }
        moved += store.swapLocked(keys, entries);
        return moved;
    }

    /** Deletes every output of a merge that did not commit (temporary or renamed). */
    private void abandon(List<DataFile> opened) {
        for (DataFile file : opened) {
            file.closeChannel();
        }
        for (Output output : outputs) {
            try {
                output.channel.close();
                output.hint.close();
                for (Path path : List.of(output.tmp, output.hintTmp, output.finalPath(), output.finalHintPath())) {
                    Files.deleteIfExists(path);
                }
            } catch (IOException e) {
                LOG.warn("BitCask {}: cleaning up after a failed merge failed; the next open removes what is left", directory, e);
            }
        }
    }
}
