package io.loomkv.persist.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryIdentityTest {
    @TempDir
    Path dir;

    @Test
    void aNewDirectoryIsClaimedOnceAndThenAcceptedForTheSameNode() throws Exception {
        Path data = dir.resolve("node1");
        new DataDirectoryIdentity("prod", 1).claimOrVerify(data);
        Path file = data.resolve(DataDirectoryIdentity.FILE_NAME);
        assertTrue(Files.exists(file));
        assertFalse(Files.exists(data.resolve(DataDirectoryIdentity.FILE_NAME + ".tmp")), "the tmp file was renamed");
        assertEquals(new DataDirectoryIdentity("prod", 1), DataDirectoryIdentity.read(file));
        String before = Files.readString(file);

        new DataDirectoryIdentity("prod", 1).claimOrVerify(data);

        assertEquals(before, Files.readString(file), "a matching start does not rewrite the file");
    }

    @Test
    void anotherClusterIsRefusedNamingBothIdentities() throws Exception {
        new DataDirectoryIdentity("prod", 1).claimOrVerify(dir);
        DataDirectoryMismatchException e = assertThrows(DataDirectoryMismatchException.class,
                () -> new DataDirectoryIdentity("staging", 1).claimOrVerify(dir));
        assertTrue(e.getMessage().contains("belongs to node 1 of cluster 'prod', not to node 1 of cluster 'staging'"), e.getMessage());
        assertEquals(new DataDirectoryIdentity("prod", 1), DataDirectoryIdentity.read(dir.resolve(DataDirectoryIdentity.FILE_NAME)),
                "a refused start changes nothing");
    }

    @Test
    void anotherNodeIdIsRefused() throws Exception {
        new DataDirectoryIdentity("prod", 2).claimOrVerify(dir);
        DataDirectoryMismatchException e = assertThrows(DataDirectoryMismatchException.class,
                () -> new DataDirectoryIdentity("prod", 3).claimOrVerify(dir));
        assertTrue(e.getMessage().contains("belongs to node 2 of cluster 'prod', not to node 3"), e.getMessage());
    }

    @Test
    void aDamagedIdentityFileIsRefusedNamingTheFile() throws Exception {
        Files.writeString(dir.resolve(DataDirectoryIdentity.FILE_NAME), "format=1\ncluster-id=prod\nnode-id=minus one\n");
        DataDirectoryMismatchException e = assertThrows(DataDirectoryMismatchException.class,
                () -> new DataDirectoryIdentity("prod", 1).claimOrVerify(dir));
        assertTrue(e.getMessage().contains(DataDirectoryIdentity.FILE_NAME), e.getMessage());

        Files.writeString(dir.resolve(DataDirectoryIdentity.FILE_NAME), "cluster-id=prod\n");
        e = assertThrows(DataDirectoryMismatchException.class, () -> new DataDirectoryIdentity("prod", 1).claimOrVerify(dir));
        assertTrue(e.getMessage().contains("node-id"), e.getMessage());
    }

    @Test
    void identitiesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new DataDirectoryIdentity(" ", 1));
        assertThrows(IllegalArgumentException.class, () -> new DataDirectoryIdentity("prod", 0));
    }
}
