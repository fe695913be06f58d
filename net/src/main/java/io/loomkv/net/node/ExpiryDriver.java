package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.ExpireKeys;
import io.loomkv.core.kv.proto.ExpiredKeys;
import io.loomkv.core.kv.proto.FindExpired;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active expiry (docs/ttl.md): for every data group this store leads that may hold deadlines,
 * walks the deadlines a bounded step at a time ({@code FindExpired}, a local read) and proposes the
 * keys found expired as one {@code ExpireKeys} command, so expired keys leave memory and disk
 * through the log without waiting for a read, and on every replica alike.
 *
 * <p>Like Redis's active expiry it is a background sweep with a bounded cost per round: a step
 * looks at up to {@link #EXAMINED_PER_STEP} deadlines and deletes up to {@link #KEYS_PER_STEP}
 * keys; a step that found a full batch runs again at once (many keys are due), otherwise the group
 * waits for the next round. Groups that hold no deadline are never asked, so quiet groups stay
 * quiet. One virtual thread per store; it only proposes, and the state machine deletes a key only
 * if its deadline is still the one seen and has passed by the command's own timestamp.
 */
final class ExpiryDriver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ExpiryDriver.class);
    /** Pause between rounds. */
    static final long ROUND_MILLIS = 100;
    /** The longest pause while no group led here may hold a deadline (the first one set waits at most this long for its sweep). */
    static final long IDLE_ROUND_MILLIS = 1_000;
    static final int EXAMINED_PER_STEP = 4_096;
    static final int KEYS_PER_STEP = 1_000;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);

    private final LocalStore host;
    /** Counts the keys deleted by the commands this store proposed. */
    private final LongConsumer expiredKeys;
    /** Where each group's walk resumes (empty: from the start). Driver thread only. */
    private final Map<Long, ByteString> cursors = new HashMap<>();
    private final RoundLoop loop;

    ExpiryDriver(LocalStore host, LongConsumer expiredKeys) {
        this.host = host;
        this.expiredKeys = expiredKeys;
        this.loop = new RoundLoop("expiry-" + host.storeId(), ROUND_MILLIS, IDLE_ROUND_MILLIS, this::round,
                e -> LOG.warn("store {}: active expiry round failed: {}", host.storeId(), e.toString()));
    }

    void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }

    /** A step of every group this store leads that may hold deadlines; true when one found a full batch. */
    private RoundLoop.Outcome round() throws InterruptedException {
        boolean busy = false;
        boolean watching = false;
        for (Replica replica : host.replicas()) {
            if (loop.closed()) {
                return RoundLoop.Outcome.WAIT;
            }
            if (replica.mayHoldDeadlines() && replica.leadsDataGroup()) {
                watching = true;
                busy |= step(replica.groupId());
            }
        }
        // A group led here that may hold deadlines is watched every round: one can pass at any moment.
        return busy ? RoundLoop.Outcome.MORE : watching ? RoundLoop.Outcome.WAIT : RoundLoop.Outcome.IDLE;
    }

    /** One step of a group's walk; true when it found a full batch (more are probably due). */
    private boolean step(long group) throws InterruptedException {
        KvReply found = call(KvRequest.newBuilder().setGroupId(group).setConsistency(ReadConsistency.SERIALIZABLE)
                .setMigrationRead(MigrationRead.newBuilder().setFindExpired(FindExpired.newBuilder()
                        .setAfter(cursors.getOrDefault(group, ByteString.EMPTY))
                        .setMaxExamined(EXAMINED_PER_STEP).setMaxKeys(KEYS_PER_STEP)))
                .build());
        if (found == null || found.getStatus() != Status.OK || !found.getMigration().hasExpired()) {
            // Not leading any more, or the group is busy: the next round asks again from the same place.
            return false;
        }
        ExpiredKeys result = found.getMigration().getExpired();
        cursors.put(group, result.getNextAfter());
        if (result.getKeysCount() == 0) {
            return false;
        }
        KvReply deleted = call(KvRequest.newBuilder().setGroupId(group)
                .setMigrationWrite(MigrationWrite.newBuilder().setExpireKeys(ExpireKeys.newBuilder()
                        .addAllKeys(result.getKeysList())))
                .build());
        if (deleted != null && deleted.getStatus() == Status.OK) {
            expiredKeys.accept(deleted.getMigration().getExpired().getKeysCount());
        }
        return result.getKeysCount() >= KEYS_PER_STEP;
    }

    private KvReply call(KvRequest request) throws InterruptedException {
        try {
            return host.local(request).toCompletableFuture().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }
}
