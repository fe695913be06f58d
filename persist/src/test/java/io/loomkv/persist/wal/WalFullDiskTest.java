package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.GROUP;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.raft.proto.Entry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: a 2 MiB tmpfs. Needs permission to mount (root, as here and in CI); skips with
 * the reason otherwise.
 */
class WalFullDiskTest {
    @TempDir
    Path parent;
    private Path mountPoint;
    private boolean mounted;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mountPoint = parent.resolve("tmpfs");
        Files.createDirectories(mountPoint);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint.toString())
                .redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        boolean exited = mount.waitFor(30, TimeUnit.SECONDS);
        mounted = exited && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "skipping the full-disk test: cannot mount a 2 MiB tmpfs here (" + output + ")");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            Process umount = new ProcessBuilder("umount", mountPoint.toString()).redirectErrorStream(true).start();
            umount.getInputStream().readAllBytes();
            umount.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullDiskFailsTheWalClearlyAndKeepsWhatWasDurable() throws Exception {
        Path dir = mountPoint.resolve("wal");
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(256 * 1024);
        long acknowledged = 0;
        Throwable failure = null;
        try (Wal wal = Wal.open(options, WalTestSupport.KEEP_ALL)) {
            for (long index = 1; index <= 100_000; index++) {
                try {
                    long durable = wal.append(GROUP, null, List.of(entry(index, 1, 1000)), true).get(30, TimeUnit.SECONDS);
                    assertEquals(index, durable);
                    acknowledged = index;
                } catch (ExecutionException e) {
                    failure = e.getCause();
                    break;
                } catch (WalFailedException e) {
                    failure = e;
                    break;
                }
            }
            assertNotNull(failure, "2 MiB must fill up long before 100 MB of entries");
            assertInstanceOf(WalFailedException.class, failure);
            assertNotNull(wal.failure(), "the WAL reports why it stopped");
            assertTrue(rootCause(wal.failure()) instanceof IOException, "root cause " + rootCause(wal.failure()));
            long next = acknowledged + 2;
            assertThrows(WalFailedException.class, () -> wal.append(GROUP, null, List.of(entry(next, 1, 10)), true),
                    "a failed WAL refuses all further work");
        }
        assertTrue(acknowledged > 100, "acknowledged " + acknowledged);
        try (Wal wal = Wal.open(options, WalTestSupport.KEEP_ALL)) {
            List<Entry> recovered = recoveredEntries(wal.takeRecovered());
            assertTrue(recovered.size() >= acknowledged, "recovered " + recovered.size() + " < acknowledged " + acknowledged);
            for (int i = 0; i < acknowledged; i++) {
                assertEquals(entry(i + 1, 1, 1000), recovered.get(i), "entry " + (i + 1));
            }
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }
}
