package io.loomkv.bench.rpc;

import com.google.protobuf.ByteString;
import io.loomkv.net.proto.EchoReply;
import io.loomkv.net.proto.EchoRequest;
import io.loomkv.net.rpc.EchoService;
import io.loomkv.net.rpc.RpcEndpoint;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed loop of echo calls: {@code inFlight} chains, each issuing its next call when the
 * previous one completes, so exactly that many requests are outstanding. Every reply is checked
 * against the request; a wrong or failed one counts as an error, never as a success.
 */
final class EchoLoad {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    private static final java.util.concurrent.Executor RETRY_AFTER_ERROR =
            java.util.concurrent.CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS);

    private final RpcEndpoint endpoint;
    private final EchoRequest request;
    private final Recorder latencyNanos = new Recorder(3);
    private final LongAdder operations = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final CountDownLatch drained = new CountDownLatch(1);
    private volatile boolean stopping;

    EchoLoad(RpcEndpoint endpoint, int bodySizeBytes, long seed) {
        byte[] payload = new byte[bodySizeBytes];
        new Random(seed).nextBytes(payload);
        this.endpoint = endpoint;
        this.request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(payload)).build();
    }

    void start(int inFlight) {
        outstanding.set(inFlight);
        for (int i = 0; i < inFlight; i++) {
            issue();
        }
    }

    private void issue() {
        if (stopping) {
            if (outstanding.decrementAndGet() == 0) {
                drained.countDown();
            }
            return;
        }
        long startNanos = System.nanoTime();
        endpoint.call(EchoService.ECHO, request, CALL_TIMEOUT).whenComplete((reply, failure) -> {
            if (failure == null && matches(reply)) {
                latencyNanos.recordValue(System.nanoTime() - startNanos);
                operations.increment();
                issue();
            } else {
                errors.increment();
                // Re-issue later and off this thread: a call that fails at once would otherwise
                // recurse, and a dead server would turn the loop into a busy spin.
                RETRY_AFTER_ERROR.execute(this::issue);
            }
        });
    }

    private boolean matches(EchoReply reply) {
        return reply.getPayload().equals(request.getPayload());
    }

    /** Starts a measurement interval: forgets what was recorded so far. */
    void resetCounters() {
        latencyNanos.getIntervalHistogram();
        operations.reset();
        errors.reset();
    }

    long operations() {
        return operations.sum();
    }

    long errors() {
        return errors.sum();
    }

    /** What was recorded since the last reset. */
    Histogram takeHistogram() {
        return latencyNanos.getIntervalHistogram();
    }

    /** Lets the chains run out; true when every outstanding call finished in time. */
    boolean stopAndDrain(Duration timeout) throws InterruptedException {
        stopping = true;
        return drained.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
