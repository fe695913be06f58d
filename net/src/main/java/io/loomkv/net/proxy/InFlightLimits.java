package io.loomkv.net.proxy;

import io.loomkv.net.rpc.CallContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the requests a proxy is working on, per connection and in total, and admits one more only
 * within both limits. A connection's counter exists only while it has requests in flight, so
 * closed connections leave nothing behind. A {@link CallContext} is one per connection, and the
 * remote address in it tells open connections apart.
 */
final class InFlightLimits {
    private final int maxPerConnection;
    private final int maxTotal;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<CallContext, Integer> perConnection = new ConcurrentHashMap<>();

    InFlightLimits(int maxPerConnection, int maxTotal) {
        this.maxPerConnection = maxPerConnection;
        this.maxTotal = maxTotal;
    }

    /** Takes a place for one request of {@code connection}; returns null when admitted, else why not (nothing taken). */
    String tryAcquire(CallContext connection) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return "the proxy has " + maxTotal + " requests in flight (its limit over all connections); retry later";
        }
        boolean[] admitted = {false};
        perConnection.compute(connection, (key, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerConnection) {
                return count;
            }
            admitted[0] = true;
            return now + 1;
        });
        if (!admitted[0]) {
            total.decrementAndGet();
            return "this connection has " + maxPerConnection + " requests in flight at the proxy (its limit per connection); "
                    + "wait for answers before sending more";
        }
        return null;
    }

    /** Gives back the place of one admitted request of {@code connection}. */
    void release(CallContext connection) {
        perConnection.compute(connection, (key, count) -> {
            if (count == null || count < 1) {
                throw new IllegalStateException("released a request of " + key + " that held no place (count " + count + ")");
            }
            return count == 1 ? null : count - 1;
        });
        total.decrementAndGet();
    }

    /** Requests in flight over all connections. */
    int total() {
        return total.get();
    }
}
