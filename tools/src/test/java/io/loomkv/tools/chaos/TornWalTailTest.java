package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.raft.StoreLogOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The torn tail chaos leaves is one the WAL recognises: it reopens with every complete record, and the torn one gone. */
class TornWalTailTest {
    @TempDir
    Path dir;

    @Test
    void aTornRecordAfterTheLastOneIsDiscardedAndNothingWrittenBeforeIsLost() throws Exception {
        Path raft = dir.resolve("raft");
        int entries = 20;
        try (StoreLog log = StoreLog.open(StoreLogOptions.defaults(raft))) {
            GroupStorage storage = log.createGroup(1);
            storage.append(HardState.newBuilder().setTerm(1).setCommit(0).build(), List.of()).get();
            for (int i = 1; i <= entries; i++) {
                storage.append(null, List.of(Entry.newBuilder().setTerm(1).setIndex(i)
                        .setData(ByteString.copyFromUtf8("entry " + i)).build())).get();
            }
        }
        long sizeBefore = Files.size(onlySegment(raft));

        TornWalTail.Tear tear = TornWalTail.tear(raft.resolve("wal"), 42);

        assertNotNull(tear);
        assertEquals(sizeBefore, Files.size(tear.segment()), "a torn tail keeps the preallocated size");
        assertTrue(tear.writtenBytes() > 16 && tear.writtenBytes() < tear.recordBytes(), tear.toString());
        assertTrue((tear.recordOffset() + tear.writtenBytes()) % 512 == 0, "the write stops at a sector boundary: " + tear);
        try (StoreLog log = StoreLog.open(StoreLogOptions.defaults(raft))) {
            GroupStorage storage = log.group(1);
            assertEquals(entries, storage.lastIndex(), "every complete record survives");
            assertEquals("entry " + entries, storage.entries(entries, entries + 1, Long.MAX_VALUE).get(0).getData().toStringUtf8());
        }
        // The WAL zeroed the torn bytes: a second tear lands at the same place and is discarded again.
        TornWalTail.Tear again = TornWalTail.tear(raft.resolve("wal"), 43);
        assertEquals(tear.recordOffset(), again.recordOffset());
        try (StoreLog log = StoreLog.open(StoreLogOptions.defaults(raft))) {
            assertEquals(entries, log.group(1).lastIndex());
        }
    }

    private static Path onlySegment(Path raft) throws Exception {
        try (var files = Files.list(raft.resolve("wal"))) {
            List<Path> segments = files.filter(p -> p.toString().endsWith(".wal")).toList();
            assertEquals(1, segments.size(), segments.toString());
            return segments.get(0);
        }
    }
}
