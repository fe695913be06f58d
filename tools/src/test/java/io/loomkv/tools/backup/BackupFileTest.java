package io.loomkv.tools.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.SlotLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup file's format on its own: what the writer writes the reader gives back, and what does not add up is refused. */
class BackupFileTest {
    @TempDir
    Path dir;

    private final BackupHeader header = new BackupHeader("c1", 1_700_000_000_000L,
            SlotLayout.evenSplit(1, 2, List.of(1L, 2L, 3L), 3).toProto(), List.of(1L, 2L, 3L), 3);

    private Path write(Path file) throws Exception {
        try (BackupWriter writer = BackupWriter.create(file, header)) {
            for (long group = 0; group < 3; group++) {
                Path part = Files.write(dir.resolve("g" + group), ("state of group " + group).repeat((int) group + 1).getBytes());
                writer.addSection(group, 10 + group, 2, part);
            }
            writer.finish();
        }
        return file;
    }

    @Test
    void readsBackWhatWasWritten() throws Exception {
        BackupFile backup = BackupFile.open(write(dir.resolve("b")));
        assertEquals(header, backup.header());
        assertEquals(List.of(0L, 1L, 2L), backup.sections().stream().map(BackupSection::groupId).toList());
        assertEquals(11, backup.sections().get(1).appliedIndex());
        Path out = dir.resolve("extracted");
        backup.extract(backup.sections().get(2), out);
        assertArrayEquals("state of group 2".repeat(3).getBytes(), Files.readAllBytes(out));
        assertFalse(Files.exists(dir.resolve("b.part")));
    }

    @Test
    void anUnfinishedBackupLeavesNothing() throws Exception {
        Path file = dir.resolve("unfinished");
        try (BackupWriter writer = BackupWriter.create(file, header)) {
            writer.addSection(1, 5, 1, Files.write(dir.resolve("g"), new byte[10]));
            assertThrows(IllegalArgumentException.class, () -> writer.addSection(1, 6, 1, dir.resolve("g")), "ascending ids");
            assertThrows(IllegalStateException.class, writer::finish, "fewer groups than announced");
        }
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("unfinished.part")));
    }

    /** A section length that points past the trailer, with a checksum made to match: the lengths still have to add up. */
    @Test
    void lengthsThatDoNotAddUpAreRefusedEvenWithAMatchingChecksum() throws Exception {
        byte[] bytes = Files.readAllBytes(write(dir.resolve("b")));
        int headerEnd = BackupFormat.FIXED_HEADER_BYTES + ByteBuffer.wrap(bytes).getInt(12);
        ByteBuffer.wrap(bytes).putLong(headerEnd + 24, 1L << 40);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - BackupFormat.TRAILER_BYTES);
        ByteBuffer.wrap(bytes).putInt(bytes.length - 4, (int) crc.getValue());
        Path forged = Files.write(dir.resolve("forged"), bytes);
        BackupDamagedException refused = assertThrows(BackupDamagedException.class, () -> BackupFile.open(forged));
        assertTrue(refused.getMessage().contains("out of order or out of range"), refused.getMessage());
    }
}
