package io.loomkv.net.frame;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReadDeadlineTest {
    @Test
    void aDeadlineThatPassedCutsTheReadOffOnceAndTheReaderLearnsIt() {
        AtomicInteger cutOffs = new AtomicInteger();
        ReadDeadline deadline = new ReadDeadline(cutOffs::incrementAndGet);
        deadline.arm(1_000);
        assertFalse(deadline.expireIfDue(999), "not due yet");
        assertTrue(deadline.expireIfDue(1_000));
        assertFalse(deadline.expireIfDue(5_000), "cut off once only");
        assertEquals(1, cutOffs.get());
        assertTrue(deadline.expired());
        assertFalse(deadline.disarm(), "the reader must report the timeout");
        deadline.arm(10_000);
        assertTrue(deadline.expired(), "once cut off, the connection stays cut off");
    }

    @Test
    void aReadThatReturnedInTimeIsNeverCutOff() {
        AtomicInteger cutOffs = new AtomicInteger();
        ReadDeadline deadline = new ReadDeadline(cutOffs::incrementAndGet);
        assertFalse(deadline.expireIfDue(Long.MAX_VALUE), "nothing armed");
        deadline.arm(1_000);
        assertTrue(deadline.disarm());
        assertFalse(deadline.expireIfDue(2_000), "disarmed before the watchdog looked");
        assertEquals(0, cutOffs.get());
        assertFalse(deadline.expired());
    }

    @Test
    void theWatchdogEndsABlockedIdleReadWithAnIdleTimeout() throws Exception {
        SocketTimeoutException timeout = readUntilWatchdogCutsOff(new byte[0]);
        assertInstanceOf(IdleTimeoutException.class, timeout);
        assertTrue(timeout.getMessage().contains("no frame started within 50 ms"), timeout.getMessage());
    }

    @Test
    void theWatchdogEndsAStalledFrameWithAPartialFrameTimeout() throws Exception {
        SocketTimeoutException timeout = readUntilWatchdogCutsOff(new byte[] {1, 2, 3});
        assertFalse(timeout instanceof IdleTimeoutException);
        assertTrue(timeout.getMessage().contains("partial frame not completed within 50 ms")
                && timeout.getMessage().contains("3 of the"), timeout.getMessage());
    }

    /** A real socket whose peer sends {@code prefix} and then nothing; a watchdog loop enforces 50 ms limits. */
    private static SocketTimeoutException readUntilWatchdogCutsOff(byte[] prefix) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket server = listener.accept()) {
            client.getOutputStream().write(prefix);
            ReadDeadline deadline = new ReadDeadline(() -> {
                try {
                    server.shutdownInput();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            FrameReader reader = new FrameReader(server.getInputStream(), deadline, FrameCodec.MIN_MAX_FRAME_SIZE_BYTES,
                    50, 50, FrameBodyDecoder.REJECT);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread readerThread = Thread.ofVirtual().start(() -> {
                try {
                    reader.next();
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!outcome.isDone() && System.nanoTime() < giveUp) {
                deadline.expireIfDue(System.nanoTime());
                Thread.sleep(5);
            }
            readerThread.join();
            Throwable thrown = outcome.getNow(null);
            assertInstanceOf(SocketTimeoutException.class, thrown, String.valueOf(thrown));
            assertTrue(deadline.expired());
            assertThrows(IOException.class, reader::next, "a cut-off connection reads no further");
            return (SocketTimeoutException) thrown;
        }
    }
}
