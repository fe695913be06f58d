package io.loomkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.persist.identity.DataDirectoryIdentity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loomkv server} on another node's or another cluster's data directory exits 1 with one clear line. */
class ServerDataDirectoryRefusalTest {
    @TempDir
    Path dir;

    @Test
    void anotherClustersDataDirectoryIsRefusedWithAClearMessage() throws Exception {
        new DataDirectoryIdentity("loomkv-prod", 3).claimOrVerify(dir);
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = LoomKv.commandLine().execute("server", "--node-id=1", "--cluster-id=loomkv-test",
                    "--client-address=127.0.0.1:0", "--peer-address=127.0.0.1:0", "--data-dir=" + dir,
                    "--members=1=127.0.0.1:1/127.0.0.1:2");
        } finally {
            System.setErr(original);
        }
        String error = buffer.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, error);
        assertTrue(error.startsWith("loomkv server: node 1 could not start: data directory " + dir
                + " belongs to node 3 of cluster 'loomkv-prod', not to node 1 of cluster 'loomkv-test'"), error);
    }
}
