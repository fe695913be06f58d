package io.loomkv.net.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.proto.EchoRequest;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class DeferredUnparksTest {
    /** Counts write calls, as the socket would see them. */
    private static final class CountingStream extends OutputStream {
        final AtomicInteger writes = new AtomicInteger();

        @Override
        public void write(int b) {
            writes.incrementAndGet();
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writes.incrementAndGet();
        }
    }

    private static OutboundFrame response(long id) {
        EchoRequest body = EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8("reply " + id)).build();
        return new OutboundFrame(FrameType.RESPONSE, 0, id, 1, body, true);
    }

    /** Runs {@code body} on a new platform thread (a batch belongs to its thread) and returns its failure, if any. */
    private static Throwable onOwnThread(ThrowingRunnable body) throws InterruptedException {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().start(() -> {
            try {
                body.run();
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        thread.join(TestRpc.WAIT.toMillis());
        return outcome.getNow(new AssertionError("the thread did not finish"));
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void repliesOfOnePassToSeveralConnectionsLeaveInOneWriteEach() throws Exception {
        List<CountingStream> streams = new ArrayList<>();
        List<FrameWriter> writers = new ArrayList<>();
        AtomicInteger responses = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            CountingStream stream = new CountingStream();
            FrameWriter writer = new FrameWriter(stream, 256, null, Integer.MAX_VALUE, responses::addAndGet, e -> { },
                    "deferred-writer-" + i);
            writer.start();
            streams.add(stream);
            writers.add(writer);
        }
        for (FrameWriter writer : writers) {
            TestRpc.waitFor("the writer to park", writer::isParkedForTest);
        }
        Throwable failure = onOwnThread(() -> {
            DeferredUnparks batch = DeferredUnparks.openForCurrentThread();
            // As an apply pass does: group after group, each answering requests of every connection.
            for (int group = 0; group < 10; group++) {
                for (FrameWriter writer : writers) {
                    assertTrue(writer.offer(response(group)));
                }
            }
            Thread.sleep(100); // Time enough for a wrongly woken writer to write something.
            for (CountingStream stream : streams) {
                assertEquals(0, stream.writes.get(), "nothing is written before the pass ends");
            }
            assertEquals(30, batch.deferredCount());
            batch.release();
            assertEquals(3, batch.releasedCount(), "one wake-up per writer, however many replies");
        });
        if (failure != null) {
            throw new AssertionError(failure);
        }
        TestRpc.waitFor("every response to be written", () -> responses.get() == 30);
        for (CountingStream stream : streams) {
            assertEquals(1, stream.writes.get(), "ten replies, one write");
        }
        for (FrameWriter writer : writers) {
            writer.closeAfterFlush();
            assertTrue(writer.awaitExit(TestRpc.WAIT.toMillis()));
        }
    }

    @Test
    void aThreadWithoutABatchUnparksAtOnce() throws Exception {
        CountDownLatch parked = new CountDownLatch(1);
        CountDownLatch woken = new CountDownLatch(1);
        Thread sleeper = Thread.ofPlatform().start(() -> {
            parked.countDown();
            while (woken.getCount() > 0) {
                LockSupport.park();
                woken.countDown();
            }
        });
        assertTrue(parked.await(10, TimeUnit.SECONDS));
        DeferredUnparks.unpark(sleeper);
        assertTrue(woken.await(10, TimeUnit.SECONDS), "the unpark was not deferred");
        sleeper.join();
        DeferredUnparks.releaseCurrent(); // No batch: nothing to do, no failure.
    }

    @Test
    void aBatchIsOpenedOnceAndReleasedOnlyByItsOwner() throws Exception {
        CompletableFuture<DeferredUnparks> opened = new CompletableFuture<>();
        Throwable failure = onOwnThread(() -> {
            opened.complete(DeferredUnparks.openForCurrentThread());
            assertThrows(IllegalStateException.class, DeferredUnparks::openForCurrentThread);
        });
        if (failure != null) {
            throw new AssertionError(failure);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> opened.join().release());
        assertTrue(e.getMessage().contains("released by its owner"), e.getMessage());
    }

    @Test
    void beyondItsCapacityABatchUnparksAtOnce() throws Exception {
        int threads = DeferredUnparks.MAX_THREADS + 1;
        CountDownLatch allParked = new CountDownLatch(threads);
        CountDownLatch lastWoken = new CountDownLatch(1);
        List<Thread> sleepers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            boolean last = i == threads - 1;
            sleepers.add(Thread.ofVirtual().start(() -> {
                allParked.countDown();
                LockSupport.park();
                if (last) {
                    lastWoken.countDown();
                }
            }));
        }
        assertTrue(allParked.await(10, TimeUnit.SECONDS));
        Throwable failure = onOwnThread(() -> {
            DeferredUnparks batch = DeferredUnparks.openForCurrentThread();
            for (Thread sleeper : sleepers) {
                DeferredUnparks.unpark(sleeper);
            }
            // The one that did not fit was woken without waiting for the release.
            assertTrue(lastWoken.await(10, TimeUnit.SECONDS), "the wake-up past the capacity was deferred");
            assertEquals(DeferredUnparks.MAX_THREADS, batch.deferredCount());
            batch.release();
        });
        if (failure != null) {
            throw new AssertionError(failure);
        }
        for (Thread sleeper : sleepers) {
            sleeper.join(TestRpc.WAIT.toMillis());
            assertTrue(!sleeper.isAlive(), "released sleepers finish");
        }
    }
}
