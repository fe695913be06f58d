package io.loomkv.persist.wal;

import static io.loomkv.persist.wal.WalTestSupport.GROUP;
import static io.loomkv.persist.wal.WalTestSupport.entries;
import static io.loomkv.persist.wal.WalTestSupport.entry;
import static io.loomkv.persist.wal.WalTestSupport.recoveredEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Injected I/O errors (works everywhere, unlike the tmpfs test): a failed force or write is fatal and never retried. */
class WalIoFailureTest {
    @TempDir
    Path dir;

    private final AtomicReference<String> failForce = new AtomicReference<>();
    private final AtomicReference<String> failWrite = new AtomicReference<>();
    private final AtomicInteger forceCalls = new AtomicInteger();

    private Wal openFaulty() throws Exception {
        return openFaulty(false);
    }

    private Wal openFaulty(boolean virtualWriter) throws Exception {
        WalOptions options = WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20).withVirtualWriter(virtualWriter);
        return Wal.open(options, WalTestSupport.KEEP_ALL, path -> new FaultyFileChannel(FileChannel.open(path, StandardOpenOption.WRITE), failForce, failWrite, forceCalls));
    }

    @Test
    void aFailedForceIsFatalAndNeverRetried() throws Exception {
        try (Wal wal = openFaulty()) {
            wal.append(GROUP, null, entries(1, 10, 1), true).get(10, TimeUnit.SECONDS);
            failForce.set("EIO: injected fsync failure");
            CompletableFuture<Long> doomed = wal.append(GROUP, null, entries(11, 20, 1), true);
            ExecutionException error = assertThrows(ExecutionException.class, () -> doomed.get(10, TimeUnit.SECONDS));
            assertInstanceOf(WalFailedException.class, error.getCause());
            assertTrue(wal.failure().getMessage().contains("injected fsync failure"), wal.failure().toString());
            int forcesAfterFailure = forceCalls.get();
            failForce.set(null);
            assertThrows(WalFailedException.class, () -> wal.append(GROUP, null, entries(21, 21, 1), true));
            Thread.sleep(100);
            assertEquals(forcesAfterFailure, forceCalls.get(), "no force is retried after a failure");
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            List<io.loomkv.core.raft.proto.Entry> recovered = recoveredEntries(wal.takeRecovered());
            assertTrue(recovered.size() >= 10, "acknowledged entries survive: " + recovered.size());
            assertEquals(entries(1, 10, 1), recovered.subList(0, 10));
        }
    }

    @ParameterizedTest(name = "virtual writer: {0}")
    @ValueSource(booleans = {false, true})
    void aFailedForceFailsTicketsToo(boolean virtualWriter) throws Exception {
        try (Wal wal = openFaulty(virtualWriter)) {
            assertEquals(10, wal.submit(GROUP, null, entries(1, 10, 1), true).await(10, TimeUnit.SECONDS));
            failForce.set("EIO: injected fsync failure");
            WalTicket doomed = wal.submit(GROUP, null, entries(11, 20, 1), true);
            WalFailedException error = assertThrows(WalFailedException.class, () -> doomed.await(10, TimeUnit.SECONDS));
            assertTrue(causeMessages(error).contains("injected fsync failure"), causeMessages(error));
            assertTrue(!doomed.isDurable());
            assertThrows(WalFailedException.class, () -> wal.submit(GROUP, null, entries(21, 21, 1), true));
            assertEquals(2, forceCalls.get(), "the failed force is not retried");
        }
    }

    private static String causeMessages(Throwable error) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause()) {
            messages.append(t).append(" <- ");
        }
        return messages.toString();
    }

    @Test
    void aFailedWriteLikeEnospcFailsTheWalAndKeepsWhatWasDurable() throws Exception {
        try (Wal wal = openFaulty()) {
            for (long i = 1; i <= 50; i++) {
                wal.append(GROUP, null, List.of(entry(i, 1)), true).get(10, TimeUnit.SECONDS);
            }
            failWrite.set("No space left on device (injected)");
            ExecutionException error = assertThrows(ExecutionException.class,
                    () -> wal.append(GROUP, null, List.of(entry(51, 1)), true).get(10, TimeUnit.SECONDS));
            assertInstanceOf(WalFailedException.class, error.getCause());
            assertThrows(WalFailedException.class, () -> wal.append(GROUP, null, List.of(entry(52, 1)), true));
        }
        try (Wal wal = Wal.open(WalOptions.defaults(dir).withSegmentSizeBytes(1 << 20), WalTestSupport.KEEP_ALL)) {
            assertEquals(entries(1, 50, 1), recoveredEntries(wal.takeRecovered()));
        }
    }
}
