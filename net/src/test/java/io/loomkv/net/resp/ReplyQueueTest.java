package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A connection's replies leave in request order however their commands complete; the writer is
 * woken by the completion of the reply it waits for, and an overdue reply lets the ones after it go.
 */
class ReplyQueueTest {
    private static final Duration JOIN_BOUND = Duration.ofSeconds(30);
    private final ReplyQueue queue = new ReplyQueue();

    private ReplyQueue.Entry add(CompletableFuture<RespReply> reply) {
        ReplyQueue.Entry entry = ReplyQueue.Entry.of(reply, 2, false);
        queue.add(entry);
        return entry;
    }

    @Test
    void repliesCompletingOutOfOrderAreTakenInRequestOrder() {
        CompletableFuture<RespReply> first = new CompletableFuture<>();
        CompletableFuture<RespReply> second = new CompletableFuture<>();
        CompletableFuture<RespReply> third = new CompletableFuture<>();
        ReplyQueue.Entry a = add(first);
        ReplyQueue.Entry b = add(second);
        ReplyQueue.Entry c = add(third);
        third.complete(RespReply.integer(3));
        second.complete(RespReply.integer(2));
        assertNull(queue.pollReady(), "the oldest reply is not done: nothing may go before it");
        first.complete(RespReply.integer(1));
        assertSame(a, queue.pollReady());
        assertSame(b, queue.pollReady());
        assertSame(c, queue.pollReady());
        assertNull(queue.pollReady());
    }

    @Test
    void aWaitingWriterIsWokenByTheOldestRepliesCompletion() throws InterruptedException {
        CompletableFuture<RespReply> first = new CompletableFuture<>();
        CompletableFuture<RespReply> second = new CompletableFuture<>();
        ReplyQueue.Entry a = add(first);
        ReplyQueue.Entry b = add(second);
        List<ReplyQueue.Entry> taken = new ArrayList<>();
        Thread writer = Thread.ofVirtual().unstarted(() -> {
            try {
                taken.add(queue.takeReady());
                taken.add(queue.takeReady());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        queue.writerIs(writer);
        writer.start();
        second.complete(RespReply.OK);
        first.complete(RespReply.OK);
        assertTrue(writer.join(JOIN_BOUND), "the writer took both replies");
        assertEquals(List.of(a, b), taken);
    }

    @Test
    void aWriterWaitingOnAnEmptyQueueTakesARequestAddedLaterOnceItCompletes() throws InterruptedException {
        List<ReplyQueue.Entry> taken = new ArrayList<>();
        Thread writer = Thread.ofVirtual().unstarted(() -> {
            try {
                taken.add(queue.takeReady());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        queue.writerIs(writer);
        writer.start();
        CompletableFuture<RespReply> reply = new CompletableFuture<>();
        ReplyQueue.Entry entry = add(reply);
        reply.complete(RespReply.OK);
        assertTrue(writer.join(JOIN_BOUND));
        assertEquals(List.of(entry), taken);
    }

    @Test
    void anInterruptedWriterStopsWaiting() throws InterruptedException {
        add(new CompletableFuture<>());
        boolean[] interrupted = new boolean[1];
        Thread writer = Thread.ofVirtual().unstarted(() -> {
            try {
                queue.takeReady();
            } catch (InterruptedException e) {
                interrupted[0] = true;
            }
        });
        queue.writerIs(writer);
        writer.start();
        writer.interrupt();
        assertTrue(writer.join(JOIN_BOUND));
        assertTrue(interrupted[0]);
    }

    @Test
    void theOldestReplyIsMarkedOverdueOnlyAfterTheTimeout() {
        long timeoutNanos = Duration.ofSeconds(60).toNanos();
        CompletableFuture<RespReply> slow = new CompletableFuture<>();
        CompletableFuture<RespReply> fast = new CompletableFuture<>();
        ReplyQueue.Entry a = add(slow);
        ReplyQueue.Entry b = add(fast);
        fast.complete(RespReply.OK);
        assertFalse(queue.expireOldest(System.nanoTime(), timeoutNanos), "not yet overdue");
        assertNull(queue.pollReady());
        assertTrue(queue.expireOldest(System.nanoTime() + timeoutNanos, timeoutNanos));
        assertSame(a, queue.pollReady());
        assertTrue(a.overdue());
        assertFalse(a.reply().isDone(), "the command itself goes on; only its reply is replaced");
        assertSame(b, queue.pollReady());
        assertFalse(b.overdue());
        assertFalse(queue.expireOldest(System.nanoTime() + timeoutNanos, timeoutNanos), "nothing left to expire");
    }

    @Test
    void theEndOfInputIsReadyAtOnceAndLast() {
        queue.add(ReplyQueue.Entry.endOfInput());
        ReplyQueue.Entry end = queue.pollReady();
        assertTrue(end.isEndOfInput());
        assertTrue(end.last());
    }
}
