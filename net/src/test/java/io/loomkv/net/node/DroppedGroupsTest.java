package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record of groups a replica move took off a store: kept across a reload, and a damaged file stops the start. */
class DroppedGroupsTest {

    @TempDir
    Path dir;

    @Test
    void groupsRecordedStayRecordedAfterAReload() throws IOException {
        DroppedGroups dropped = DroppedGroups.load(dir);
        assertFalse(dropped.contains(3));
        dropped.add(3);
        dropped.add(1);
        dropped.add(3);
        assertTrue(dropped.contains(3) && dropped.contains(1));
        assertEquals("1\n3\n", Files.readString(dir.resolve(DroppedGroups.FILE_NAME)));
        DroppedGroups reloaded = DroppedGroups.load(dir);
        assertTrue(reloaded.contains(1) && reloaded.contains(3) && !reloaded.contains(2));
        assertFalse(Files.exists(dir.resolve(DroppedGroups.FILE_NAME + ".tmp")));
    }

    @Test
    void aDamagedFileRefusesTheStart() throws IOException {
        Files.writeString(dir.resolve(DroppedGroups.FILE_NAME), "1\nthree\n");
        IOException refused = assertThrows(IOException.class, () -> DroppedGroups.load(dir));
        assertTrue(refused.getMessage().contains("'three' is not a group id"), refused.getMessage());
    }
}
