package io.loomkv.persist.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class WalTicketTest {

    @Test
    void aPendingTicketTimesOutAndADurableOneReturnsItsIndex() throws Exception {
        WalTicket ticket = new WalTicket(42);
        assertEquals(42, ticket.lastIndex());
        assertFalse(ticket.isDurable());
        assertThrows(TimeoutException.class, () -> ticket.await(20, TimeUnit.MILLISECONDS));
        assertEquals(null, ticket.markDurable(), "nobody waits any more");
        assertTrue(ticket.isDurable());
        assertEquals(42, ticket.await(1, TimeUnit.MILLISECONDS));
        assertEquals(42, ticket.await());
    }

    @Test
    void aWaiterParkedBeforeTheForceIsWokenByIt() throws Exception {
        WalTicket ticket = new WalTicket(7);
        CompletableFuture<Long> result = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                result.complete(ticket.await());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        awaitParked(waiter);
        assertSame(waiter, ticket.markDurable(), "the writer learns which thread to wake");
        LockSupport.unpark(waiter);
        assertEquals(7, result.get(30, TimeUnit.SECONDS));
    }

    @Test
    void aFailureReachesTheWaiterAsWalFailedExceptionWithItsCause() throws Exception {
        WalTicket ticket = new WalTicket(3);
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                ticket.await();
                seen.complete(null);
            } catch (Throwable t) {
                seen.complete(t);
            }
        });
        awaitParked(waiter);
        IOException cause = new IOException("EIO (test)");
        ticket.markFailed(cause);
        Throwable error = seen.get(30, TimeUnit.SECONDS);
        assertTrue(error instanceof WalFailedException, String.valueOf(error));
        assertSame(cause, error.getCause());
        assertThrows(IllegalStateException.class, ticket::markDurable, "a failed append is never reported durable later");
        assertFalse(ticket.isDurable());
    }

    @Test
    void aSecondConcurrentWaiterIsRefused() throws Exception {
        WalTicket ticket = new WalTicket(9);
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Long> first = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            started.countDown();
            try {
                first.complete(ticket.await());
            } catch (Throwable t) {
                first.completeExceptionally(t);
            }
        });
        started.await();
        awaitParked(waiter);
        assertThrows(IllegalStateException.class, () -> ticket.await(1, TimeUnit.SECONDS));
        LockSupport.unpark(ticket.markDurable());
        assertEquals(9, first.get(30, TimeUnit.SECONDS));
    }

    @Test
    void anInterruptedWaiterGetsInterruptedException() throws Exception {
        WalTicket ticket = new WalTicket(5);
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                ticket.await();
                seen.complete(null);
            } catch (Throwable t) {
                seen.complete(t);
            }
        });
        awaitParked(waiter);
        waiter.interrupt();
        assertTrue(seen.get(30, TimeUnit.SECONDS) instanceof InterruptedException);
        assertEquals(null, ticket.markDurable(), "the interrupted waiter left");
        assertEquals(5, ticket.await(), "the ticket itself is unaffected; another wait succeeds");
    }

    @Test
    void theWokenWaiterUnparksTheWaitersHandedOverToIt() throws Exception {
        WalTicket first = new WalTicket(1);
        WalTicket second = new WalTicket(2);
        CompletableFuture<Long> firstResult = new CompletableFuture<>();
        CompletableFuture<Long> secondResult = new CompletableFuture<>();
        Thread firstWaiter = Thread.ofVirtual().start(() -> awaitInto(first, firstResult));
        Thread secondWaiter = Thread.ofVirtual().start(() -> awaitInto(second, secondResult));
        awaitParked(firstWaiter);
        awaitParked(secondWaiter);
        assertSame(secondWaiter, second.markDurable());
        assertSame(firstWaiter, first.markDurable());
        assertTrue(first.handOverRelay(java.util.List.of(secondWaiter)), "the first waiter is still there to take the relay");
        LockSupport.unpark(firstWaiter); // only the first: it must wake the second
        assertEquals(1, firstResult.get(30, TimeUnit.SECONDS));
        assertEquals(2, secondResult.get(30, TimeUnit.SECONDS));
    }

    @Test
    void aRelayHandedOverAfterTheWaiterLeftIsRefused() throws Exception {
        WalTicket ticket = new WalTicket(9);
        CompletableFuture<Long> result = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> awaitInto(ticket, result));
        awaitParked(waiter);
        assertSame(waiter, ticket.markDurable());
        LockSupport.unpark(waiter);
        assertEquals(9, result.get(30, TimeUnit.SECONDS));
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertFalse(ticket.handOverRelay(java.util.List.of(Thread.currentThread())), "the waiter has gone: the writer must unpark the others");
    }

    private static void awaitInto(WalTicket ticket, CompletableFuture<Long> result) {
        try {
            result.complete(ticket.await());
        } catch (Throwable t) {
            result.completeExceptionally(t);
        }
    }

    /** Waits (generously) until {@code thread} is parked waiting on a ticket. */
    private static void awaitParked(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(LockSupport.getBlocker(thread) instanceof WalTicket)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("thread " + thread + " never parked on the ticket; state " + thread.getState());
            }
            Thread.sleep(1);
        }
    }
}
