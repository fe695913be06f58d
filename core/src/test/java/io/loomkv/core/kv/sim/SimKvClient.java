package io.loomkv.core.kv.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.Simulator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A client of the sharded simulation: through one {@link SimSession} (opened at its home data
 * group), it appends unique tokens ({@code c<client>.<sequence>,}) to random keys, one at a time,
 * until stopped; each write goes to the group the controller's newest configuration names and
 * follows WRONG_GROUP refusals. Every token it was told OK for is acknowledged: at the end it must
 * be in its key exactly once.
 */
final class SimKvClient {

    /**
     * A token appended to a key: client {@code client}'s write number {@code sequence}, sent first
     * at {@code invokedTick} and acknowledged at {@code acknowledgedTick} (-1 while in flight).
     */
    record Token(String key, int client, long sequence, long invokedTick, long acknowledgedTick) {
        String text() {
            return "c" + client + "." + sequence;
        }
    }

    /** Where a key's write goes: the owner in the newest configuration, or another group after a refusal. */
    interface Router {
        long route(ByteString key, long refusedBy);
    }

    private final Simulator sim;
    private final int index;
    private final List<String> keys;
    private final Random random;
    private final Router router;
    private final SimSession session;
    private final List<Token> acknowledged = new ArrayList<>();
    private Token inFlight;
    private boolean stopped;

    SimKvClient(Simulator sim, int index, long homeGroup, List<String> keys, Router router, ShardedFault fault) {
        this.sim = sim;
        this.index = index;
        this.keys = List.copyOf(keys);
        this.random = sim.random();
        this.router = router;
        this.session = new SimSession(sim, "client " + index, homeGroup, fault);
    }

    void tick() {
        session.tick();
        if (session.idle() && !stopped && random.nextInt(4) == 0) {
            String key = keys.get(random.nextInt(keys.size()));
            ByteString keyBytes = ByteString.copyFrom(key, StandardCharsets.UTF_8);
            inFlight = new Token(key, index, session.nextSequence(), sim.nowTick(), -1);
            Command.Builder append = Command.newBuilder().setAppend(Append.newBuilder().setKey(keyBytes)
                    .setValue(ByteString.copyFrom(inFlight.text() + ",", StandardCharsets.UTF_8)));
            session.write(append, refusedBy -> router.route(keyBytes, refusedBy), this::outcome);
        }
    }

    private void outcome(KvReply reply) {
        if (reply.getStatus() != Status.OK) {
            throw sim.fail("client " + index + ": append of " + inFlight + " ended " + reply.getStatus() + ": "
                    + reply.getMessage());
        }
        acknowledged.add(new Token(inFlight.key(), inFlight.client(), inFlight.sequence(), inFlight.invokedTick(),
                sim.nowTick()));
        inFlight = null;
    }

    /** Issues no new writes; the one in flight goes on until it has its outcome. */
    void stop() {
        stopped = true;
    }

    boolean done() {
        return stopped && inFlight == null;
    }

    List<Token> acknowledged() {
        return acknowledged;
    }

    Token inFlight() {
        return inFlight;
    }

    long attempts() {
        return session.attempts();
    }

    long wrongGroupReplies() {
        return session.wrongGroupReplies();
    }

    long unavailableReplies() {
        return session.unavailableReplies();
    }
}
