package io.loomkv.persist.bitcask;

import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the key directory at open. First it finishes what a crash interrupted: a merge whose
 * commit record exists has its inputs deleted; temporary files (a merge that never committed, a
 * commit record never renamed) are deleted. Then it reads every merged file through its hint
 * (or, when the hint is missing or fails a check, by scanning the file) and scans every data file.
 *
 * <p>Order does not matter: each key keeps the record with the highest sequence, and a tombstone's
 * sequence is remembered (in a map that lives only during recovery) so that an older value read
 * later cannot come back. Merged files and the files written after a merge began overlap in keys,
 * so this is simpler and safer than reasoning about file order.
 *
 * <p>Torn versus corrupt: a group that fails its checks at the end of the last data file (the one
 * the writer was appending when it stopped) is a crash mid-write when the file ends inside it or
 * a sector of it is all zeros: it was never acknowledged (a synced group is whole on disk before
 * the caller hears of it), so it is truncated and logged. Anything else, and any damage in an
 * immutable or merged file, stops the open with the file and the offset.
 */
final class BitcaskRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(BitcaskRecovery.class);

    /** What the store starts from. {@code activeFile} is null when there is no data file yet. */
    record Result(KeyDir keyDir, Map<Long, DataFile> files, DataFile activeFile, long nextSequence, byte[] metadata,
                  long metadataSequence, long nextFileId) {
    }

    private final Path directory;
    private final KeyDir keyDir = new KeyDir();
    private final TreeMap<byte[], Long> tombstoneSequences = new TreeMap<>(Arrays::compareUnsigned);
    private long maxSequence;
    private byte[] metadata;
    private long metadataSequence = -1;

    private BitcaskRecovery(Path directory) {
        this.directory = directory;
    }

    static Result recover(Path directory) throws IOException {
        return new BitcaskRecovery(directory).run();
    }

    private Result run() throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(directory);
        long maxId = finishCommittedMerges();
        List<DataFileName> names = listNames();
        List<DataFileName> dataNames = names.stream().filter(n -> n.kind() == DataFileName.Kind.DATA).toList();
        DataFileName lastData = dataNames.isEmpty() ? null : dataNames.get(dataNames.size() - 1);
        Map<Long, DataFile> files = new LinkedHashMap<>();
        DataFile active = null;
        try {
            for (DataFileName name : names) {
                maxId = Math.max(maxId, name.id());
                if (name.kind() == DataFileName.Kind.HINT) {
                    continue;
                }
                DataFile file = name.kind() == DataFileName.Kind.MERGED ? readMerged(name, names) : readData(name, name.equals(lastData));
                files.put(name.id(), file);
                if (name.equals(lastData)) {
                    active = file;
                }
            }
        } catch (IOException | RuntimeException e) {
            files.values().forEach(DataFile::closeChannel);
            throw e;
        }
        deleteLeftovers(names);
        long nextSequence = Math.max(maxSequence + 1, 1);
        LOG.info("BitCask {}: {} keys in {} files recovered in {} ms", directory, keyDir.keyCount(), files.size(),
                (System.nanoTime() - started) / 1_000_000);
        return new Result(keyDir, files, active, nextSequence, metadata, metadataSequence, maxId + 1);
    }

    /** Deletes the inputs of every merge that committed (and then the commit records); returns the highest merge id. */
    private long finishCommittedMerges() throws IOException {
        long maxId = -1;
        for (DataFileName name : listNames()) {
            if (name.kind() != DataFileName.Kind.COMMIT) {
                continue;
            }
            Path commitPath = directory.resolve(name.fileName());
            MergeCommit.Contents commit = MergeCommit.read(commitPath);
            boolean inputsLeft = false;
            for (long input : commit.inputIds()) {
                inputsLeft |= Files.exists(directory.resolve(new DataFileName(input, DataFileName.Kind.DATA).fileName()))
                        || Files.exists(directory.resolve(new DataFileName(input, DataFileName.Kind.MERGED).fileName()));
            }
            // Deleting inputs is only safe while their merged copies exist. (With no input left there
            // is nothing to finish: a later merge may have consumed the outputs since.)
            for (long output : commit.outputIds()) {
                if (inputsLeft && !Files.exists(directory.resolve(new DataFileName(output, DataFileName.Kind.MERGED).fileName()))) {
                    throw new BitcaskCorruptionException(commitPath, 0, "merge commit names output file " + output
                            + ", which is missing, while inputs it replaced are still there");
                }
            }
            for (long input : commit.inputIds()) {
                for (DataFileName.Kind kind : List.of(DataFileName.Kind.DATA, DataFileName.Kind.MERGED, DataFileName.Kind.HINT)) {
                    if (Files.deleteIfExists(directory.resolve(new DataFileName(input, kind).fileName()))) {
                        LOG.info("BitCask {}: deleting {} file {} of committed merge {}", directory, kind, input, commit.mergeId());
                    }
                }
            }
            DurableFiles.fsyncDirectory(directory);
            Files.delete(commitPath);
            DurableFiles.fsyncDirectory(directory);
            maxId = Math.max(maxId, name.id());
        }
        return maxId;
    }

    private List<DataFileName> listNames() throws IOException {
        List<DataFileName> names = new ArrayList<>();
        try (Stream<Path> paths = Files.list(directory)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                DataFileName name = DataFileName.parse(path.getFileName().toString());
                if (name != null) {
                    names.add(name);
                }
            }
        }
        names.sort(null);
        return names;
    }

    private DataFile readMerged(DataFileName name, List<DataFileName> names) throws IOException {
        Path path = directory.resolve(name.fileName());
        long fileBytes = Files.size(path);
        DataFileName hintName = name.withKind(DataFileName.Kind.HINT);
        Path hintPath = directory.resolve(hintName.fileName());
        if (names.contains(hintName)) {
            String problem = HintFile.load(hintPath, name.id(), fileBytes, new HintFile.Sink() {
                @Override
                public void entry(byte[] key, long sequence, long offsetBytes, int recordBytes) {
                    offer(key, new KeyDirEntry(name.id(), offsetBytes, recordBytes, sequence), false);
                }

                @Override
                public void metadata(long groupSequence, byte[] blob) {
                    offerMetadata(groupSequence, blob);
                }
            });
            if (problem == null) {
                DataFile file = new DataFile(name, path, fileBytes);
                file.setHintBytes(Files.size(hintPath));
                return file;
            }
            LOG.warn("BitCask {}: hint {} is not usable ({}); scanning the merged file instead", directory, hintPath, problem);
        }
        GroupScanner.End end = GroupScanner.scan(path, recordSink(name.id()));
        if (end.problem() != null) {
            throw new BitcaskCorruptionException(path, end.problemOffset(), end.problem());
        }
        return new DataFile(name, path, fileBytes);
    }

    private DataFile readData(DataFileName name, boolean last) throws IOException {
        Path path = directory.resolve(name.fileName());
        GroupScanner.End end = GroupScanner.scan(path, recordSink(name.id()));
        if (end.problem() != null) {
            if (!last || !end.tornCandidate()) {
                throw new BitcaskCorruptionException(path, end.problemOffset(), end.problem()
                        + (last ? "" : " (in an immutable file, where no write can have been cut short)"));
            }
            LOG.warn("BitCask {}: torn write at offset {} of {} ({}); truncating the {} bytes from there (never acknowledged)",
                    directory, end.validBytes(), path, end.problem(), end.fileBytes() - end.validBytes());
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
                channel.truncate(end.validBytes());
                channel.force(true);
            }
        }
        return new DataFile(name, path, end.validBytes());
    }

    private GroupScanner.Sink recordSink(long fileId) {
        return new GroupScanner.Sink() {
            @Override
            public void metadata(long groupSequence, byte[] blob) {
                offerMetadata(groupSequence, blob);
            }

            @Override
            public void record(byte[] data, int offset, long fileOffset, int recordBytes) {
                int keyBytes = RecordFormat.recordKeyBytes(data, offset);
                byte[] key = Arrays.copyOfRange(data, offset + RecordFormat.RECORD_HEADER_BYTES, offset + RecordFormat.RECORD_HEADER_BYTES + keyBytes);
                boolean tombstone = RecordFormat.recordValueBytes(data, offset) == RecordFormat.TOMBSTONE;
                offer(key, new KeyDirEntry(fileId, fileOffset, recordBytes, RecordFormat.recordSequence(data, offset)), tombstone);
            }
        };
    }

    /** Keeps the record with the highest sequence per key; ties are the same record read twice. */
    private void offer(byte[] key, KeyDirEntry entry, boolean tombstone) {
        maxSequence = Math.max(maxSequence, entry.sequence());
        KeyDirEntry current = keyDir.get(key);
        long known = current != null ? current.sequence() : tombstoneSequences.getOrDefault(key, -1L);
        if (entry.sequence() <= known) {
            return;
        }
        if (tombstone) {
            keyDir.remove(key);
            tombstoneSequences.put(key, entry.sequence());
        } else {
            tombstoneSequences.remove(key);
            keyDir.put(key, entry);
        }
    }

    private void offerMetadata(long groupSequence, byte[] blob) {
        maxSequence = Math.max(maxSequence, groupSequence);
        if (groupSequence > metadataSequence) {
            metadataSequence = groupSequence;
            metadata = blob;
        }
    }

    /** Temporary files (a merge that never committed) and hints without their merged file. */
    private void deleteLeftovers(List<DataFileName> names) throws IOException {
        boolean deleted = false;
        try (Stream<Path> paths = Files.list(directory)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                if (path.getFileName().toString().endsWith(DataFileName.TMP_SUFFIX)) {
                    LOG.info("BitCask {}: deleting leftover temporary file {}", directory, path.getFileName());
                    Files.delete(path);
                    deleted = true;
                }
            }
        }
        for (DataFileName name : names) {
            if (name.kind() == DataFileName.Kind.HINT && !names.contains(name.withKind(DataFileName.Kind.MERGED))) {
                LOG.info("BitCask {}: deleting hint {} whose merged file is gone", directory, name.fileName());
                Files.delete(directory.resolve(name.fileName()));
                deleted = true;
            }
        }
        if (deleted) {
            DurableFiles.fsyncDirectory(directory);
        }
    }
}
