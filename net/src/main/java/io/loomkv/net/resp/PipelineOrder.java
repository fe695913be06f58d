package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps one connection's pipelined commands in Redis's order where it matters: a command starts
 * only after the earlier commands of its connection that touch one of its keys (or walk the whole
 * key space) are done, so {@code SET k 1; INCR k; GET k} sent at once reads its own writes, while
 * commands on other keys go to the cluster at the same time. Replies leave in request order either
 * way (the connection's writer sees to that).
 *
 * <p>Used by the connection's reader thread only. Holds at most the connection's in-flight limit of entries.
 */
final class PipelineOrder {
    private static final CompletableFuture<Void> NOTHING = CompletableFuture.completedFuture(null);
    /**
     * A command with more keys than this is ordered as if it walked the whole key space: comparing
     * key lists pairwise stays cheap, and a large MSET or DEL simply waits for what came before.
     */
    static final int MAX_COMPARED_KEYS = 64;

    private record Entry(List<ByteString> keys, boolean wholeKeySpace, CompletableFuture<?> done) {}

    private final ArrayDeque<Entry> inFlight = new ArrayDeque<>();

    /** Completes (never exceptionally) once every earlier command this one must follow is done. */
    CompletableFuture<Void> predecessors(List<ByteString> keys, boolean wholeKeySpace) {
        wholeKeySpace |= keys.size() > MAX_COMPARED_KEYS;
        inFlight.removeIf(entry -> entry.done.isDone());
        if (inFlight.isEmpty()) {
            return NOTHING; // One request at a time, the usual case: nothing to compare or allocate.
        }
        List<CompletableFuture<?>> waits = new ArrayList<>();
        for (Entry entry : inFlight) {
            if (wholeKeySpace || entry.wholeKeySpace || overlaps(entry.keys, keys)) {
                waits.add(entry.done);
            }
        }
        if (waits.isEmpty()) {
            return NOTHING;
        }
        return CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new)).handle((ignored, failure) -> null);
    }

    /** Registers a started command that later ones may have to wait for. */
    void track(List<ByteString> keys, boolean wholeKeySpace, CompletableFuture<?> done) {
        if (!done.isDone()) {
            inFlight.addLast(new Entry(keys, wholeKeySpace || keys.size() > MAX_COMPARED_KEYS, done));
        }
    }

    int size() {
        return inFlight.size();
    }

    private static boolean overlaps(List<ByteString> a, List<ByteString> b) {
        for (ByteString x : a) {
            for (ByteString y : b) {
                if (x.equals(y)) {
                    return true;
                }
            }
        }
        return false;
    }
}
