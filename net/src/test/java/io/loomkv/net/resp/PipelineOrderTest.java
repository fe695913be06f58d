package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A command waits for the earlier commands of its connection on its keys, and for nothing else. */
class PipelineOrderTest {
    private static final List<ByteString> K = List.of(ByteString.copyFromUtf8("k"));
    private static final List<ByteString> OTHER = List.of(ByteString.copyFromUtf8("other"));
    private final PipelineOrder order = new PipelineOrder();

    @Test
    void withNothingInFlightACommandStartsAtOnceAndDoneCommandsAreForgotten() {
        assertTrue(order.predecessors(K, false).isDone());
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        order.track(K, false, done);
        assertEquals(0, order.size(), "a command done when tracked holds nothing up");
        CompletableFuture<Void> running = new CompletableFuture<>();
        order.track(K, false, running);
        running.complete(null);
        assertTrue(order.predecessors(K, true).isDone());
        assertEquals(0, order.size(), "entries done meanwhile are dropped");
    }

    @Test
    void aCommandWaitsForEarlierOnesOnItsKeysOnly() {
        CompletableFuture<Void> first = new CompletableFuture<>();
        order.track(K, false, first);
        assertTrue(order.predecessors(OTHER, false).isDone(), "another key goes at once");
        CompletableFuture<Void> sameKey = order.predecessors(K, false);
        CompletableFuture<Void> wholeKeySpace = order.predecessors(OTHER, true);
        assertFalse(sameKey.isDone());
        assertFalse(wholeKeySpace.isDone());
        first.completeExceptionally(new IllegalStateException("failed"));
        assertTrue(sameKey.isDone() && !sameKey.isCompletedExceptionally(), "a failure still lets the next one go");
        assertTrue(wholeKeySpace.isDone());
    }
}
