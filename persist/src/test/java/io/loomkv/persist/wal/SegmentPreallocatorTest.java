package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentPreallocatorTest {
    private static final long SEGMENT_BYTES = 256 * 1024;

    @TempDir
    Path dir;

    /** Holds the fills back until the test runs them. */
    private final List<Runnable> heldFills = new ArrayList<>();

    private void runHeldFills() {
        List<Runnable> fills = new ArrayList<>(heldFills);
        heldFills.clear();
        fills.forEach(Runnable::run);
    }

    private static void assertAllZeros(Path file, long expectedSizeBytes) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertEquals(expectedSizeBytes, bytes.length, file + " size");
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != 0) {
                throw new AssertionError("byte " + i + " of " + file + " is " + bytes[i]);
            }
        }
    }

    @Test
    void takeGivesASparseFileWhileTheFillIsUnfinishedAndTheFilledOneOnceItIsDone() throws Exception {
        try (SegmentPreallocator preallocator = new SegmentPreallocator(dir, SEGMENT_BYTES, heldFills::add)) {
            preallocator.prepareNext();
            assertEquals(1, heldFills.size(), "one fill started");

            Path sparse = preallocator.take();
            assertEquals(dir.resolve("sparse.wal.tmp"), sparse);
            assertAllZeros(sparse, SEGMENT_BYTES);
            assertEquals(1, preallocator.sparseSegments());
            assertEquals(1, heldFills.size(), "the unfinished fill is kept for the next segment, not restarted");
            Files.delete(sparse); // the writer renames it into place

            runHeldFills();
            Path filled = preallocator.take();
            assertEquals(dir.resolve("preallocated.wal.tmp"), filled);
            assertAllZeros(filled, SEGMENT_BYTES);
            assertEquals(1, preallocator.sparseSegments(), "a finished fill is used, not a sparse file");
        }
    }

    @Test
    void theFillIsWrittenInForcedChunksToTheFullSize() throws Exception {
        long size = 2 * SegmentPreallocator.FORCE_CHUNK_BYTES + 4096;
        try (SegmentPreallocator preallocator = new SegmentPreallocator(dir, size)) {
            Path filled = preallocator.takePrepared();
            assertAllZeros(filled, size);
            assertEquals(0, preallocator.sparseSegments());
        }
    }

    @Test
    void aFailedFillIsReportedAndNotReplacedByASparseFile() throws Exception {
        Path gone = dir.resolve("gone");
        Files.createDirectories(gone);
        try (SegmentPreallocator preallocator = new SegmentPreallocator(gone, SEGMENT_BYTES, heldFills::add)) {
            preallocator.prepareNext();
            Files.delete(gone);
            runHeldFills();
            IOException error = assertThrows(IOException.class, preallocator::take);
            assertTrue(error.getMessage().contains("preallocated.wal.tmp"), error.getMessage());
            assertEquals(0, preallocator.sparseSegments());
            assertFalse(Files.exists(gone));
        }
    }
}
