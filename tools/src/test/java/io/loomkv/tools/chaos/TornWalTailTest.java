package io.loomkv.tools.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.persist.raft.DurableStorage;
import io.loomkv.persist.raft.DurableStorageOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The torn tail chaos makes is one the WAL recognises: it reopens, minus only the torn record. */
class TornWalTailTest {
    @TempDir
    Path dir;

    @Test
    void aTornLastEntryIsDiscardedAndTheRestOfTheLogSurvives() throws Exception {
        Path raft = dir.resolve("raft");
        int entries = 20;
        try (DurableStorage storage = DurableStorage.open(DurableStorageOptions.defaults(raft))) {
            storage.append(HardState.newBuilder().setTerm(1).setCommit(0).build(), List.of()).get();
            for (int i = 1; i <= entries; i++) {
                // 2 KB entries: the last one spans sectors, so part of it is torn, not all.
                storage.append(null, List.of(Entry.newBuilder().setTerm(1).setIndex(i)
                        .setData(ByteString.copyFromUtf8("x".repeat(2048) + i)).build())).get();
            }
        }
        long sizeBefore = Files.size(onlySegment(raft));

        TornWalTail.Tear tear = TornWalTail.tear(raft.resolve("wal"));

        assertNotNull(tear);
        assertEquals(sizeBefore, Files.size(tear.segment()), "a torn tail keeps the preallocated size");
        assertTrue(tear.zeroFrom() > tear.recordOffset() + 16 && tear.zeroFrom() % 512 == 0, tear.toString());
        try (DurableStorage storage = DurableStorage.open(DurableStorageOptions.defaults(raft))) {
            assertEquals(entries - 1, storage.lastIndex(), "only the torn entry is gone");
            Entry last = storage.entries(entries - 1, entries, Long.MAX_VALUE).get(0);
            assertTrue(last.getData().toStringUtf8().endsWith(Integer.toString(entries - 1)));
        }
    }

    @Test
    void aWalWithoutRecordsHasNothingToTear() throws Exception {
        Path raft = dir.resolve("raft");
        DurableStorage.open(DurableStorageOptions.defaults(raft)).close();
        assertNull(TornWalTail.tear(raft.resolve("wal")));
    }

    private static Path onlySegment(Path raft) throws Exception {
        try (var files = Files.list(raft.resolve("wal"))) {
            List<Path> segments = files.filter(p -> p.toString().endsWith(".wal")).toList();
            assertEquals(1, segments.size(), segments.toString());
            return segments.get(0);
        }
    }
}
