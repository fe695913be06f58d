package io.loomkv.core.kv.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.SimReplica;
import io.loomkv.core.raft.sim.Simulator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A client of the sharded simulation: through one {@link SimSession} (opened at its home data
 * group), it appends unique tokens ({@code c<client>.<sequence>,}) to random keys, one operation
 * at a time, until stopped; and reads keys, linearizably: a ReadIndex at the leader of the group
 * the key routes to, then a get from that replica once it applied that far (as the server serves
 * a LINEARIZABLE read). Requests and answers cross the simulated network. Each request goes to the group the controller's newest configuration names
 * and follows WRONG_GROUP refusals. Every token it was told OK for is acknowledged: at the end it
 * must be in its key exactly once; every read is checked against the appends' times.
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

    /** The index a read (by simulator group and context) was confirmed at, or -1 while it is not. */
    interface ReadIndexes {
        long confirmedIndex(int simGroup, long context);
    }

    /** A completed read of {@code key}: sent first at {@code invokedTick}, answered at {@code returnedTick}. */
    record Read(String key, long invokedTick, long returnedTick, List<String> tokens) {}

    /** Reads time out and are sent again (with a new ReadIndex) after 3 s of simulated time. */
    private static final long READ_TIMEOUT_TICKS = Simulator.ticksForMillis(3_000);

    private final Simulator sim;
    private final int index;
    private final List<String> keys;
    private final Random random;
    private final Router router;
    private final SimSession session;
    private final ReadIndexes readIndexes;
    private final ShardedFault fault;
    private final List<Read> reads = new ArrayList<>();
    // The read in flight (none when readKey is null): linearizable, by ReadIndex at the group's leader.
    private String readKey;
    private long readInvokedTick;
    private long readGroup;
    private int readStore;
    private long readIncarnation;
    private long readContext = -1;
    private long readDeadlineTick;
    private long readWakeTick;
    /** The store the read request is travelling to (0: none); it arrives at {@link #readWakeTick}. */
    private int readRequestStore;
    /** The read's answer travelling back (null: none), and when it arrives. */
    private KvReply readAnswer;
    private long readAnswerArrivalTick;
    private final List<Token> acknowledged = new ArrayList<>();
    private Token inFlight;
    private boolean stopped;

    SimKvClient(Simulator sim, int index, long homeGroup, List<String> keys, Router router, ReadIndexes readIndexes,
            ShardedFault fault) {
        this.readIndexes = readIndexes;
        this.fault = fault;
        this.sim = sim;
        this.index = index;
        this.keys = List.copyOf(keys);
        this.random = sim.random();
        this.router = router;
        this.session = new SimSession(sim, "client " + index, homeGroup, fault);
    }

    void tick() {
        session.tick();
        if (readKey != null) {
            readTick();
            return;
        }
        if (!session.idle() || stopped || random.nextInt(2) != 0) {
            return;
        }
        String key = keys.get(random.nextInt(keys.size()));
        ByteString keyBytes = ByteString.copyFrom(key, StandardCharsets.UTF_8);
        if (random.nextInt(3) == 0) {
            readKey = key;
            readInvokedTick = sim.nowTick();
            readGroup = router.route(keyBytes, -1);
            readContext = -1;
            readTick();
            return;
        }
        inFlight = new Token(key, index, session.nextSequence(), sim.nowTick(), -1);
        Command.Builder append = Command.newBuilder().setAppend(Append.newBuilder().setKey(keyBytes)
                .setValue(ByteString.copyFrom(inFlight.text() + ",", StandardCharsets.UTF_8)));
        session.write(append, refusedBy -> router.route(keyBytes, refusedBy), this::outcome);
    }

    /**
     * The read in flight: sent over the network to the group's leader, which asks for a ReadIndex
     * and reads once it applied that far; the answer travels back. A lost leg, a lost leadership
     * or a timeout sends it again (it changes nothing, so a retry is always safe).
     */
    private void readTick() {
        long now = sim.nowTick();
        if (now < readWakeTick) {
            return;
        }
        int simGroup = SimMigrationDriver.simGroup(readGroup);
        if (fault == ShardedFault.STALE_READS) {
            SimReplica any = sim.store(1 + random.nextInt(sim.nodeCount())).replica(simGroup);
            if (any.machine() != null) {
                answered(read((KvSimMachine) any.machine()));
            }
            return;
        }
        if (readAnswer != null) {
            if (now >= readAnswerArrivalTick) {
                KvReply reply = readAnswer;
                readAnswer = null;
                answered(reply);
            }
            return;
        }
        if (readContext < 0) {
            askForReadIndex(simGroup);
            return;
        }
        SimReplica replica = sim.store(readStore).replica(simGroup);
        if (replica.machine() == null || replica.incarnation() != readIncarnation || now >= readDeadlineTick) {
            readContext = -1;
            return;
        }
        long readIndex = readIndexes.confirmedIndex(simGroup, readContext);
        if (readIndex < 0 || replica.machine().appliedIndex() < readIndex) {
            return;
        }
        readContext = -1;
        long delay = sim.network().callLegDelayTicks(readStore, readStore, false);
        if (delay < 0) {
            readWakeTick = now + SimSession.ANSWER_TIMEOUT_TICKS;
        } else {
            readAnswer = read((KvSimMachine) replica.machine());
            readAnswerArrivalTick = now + delay;
        }
    }

    /** The request's way to the leader, then its ReadIndex there. */
    private void askForReadIndex(int simGroup) {
        long now = sim.nowTick();
        if (readRequestStore == 0) {
            int leader = sim.group(simGroup).newestLeader();
            long delay = leader == 0 ? -1 : sim.network().callLegDelayTicks(leader, leader, true);
            if (delay < 0) {
                readWakeTick = now + (leader == 0 ? 5 : SimSession.ANSWER_TIMEOUT_TICKS);
                return;
            }
            readRequestStore = leader;
            readWakeTick = now + delay;
            return;
        }
        int store = readRequestStore;
        readRequestStore = 0;
        boolean reachable = sim.store(store).running() && sim.network().linkUp(store, store);
        long context = reachable ? sim.group(simGroup).readIndex(store) : -1;
        if (context < 0) {
            readWakeTick = now + 5;
            return;
        }
        readContext = context;
        readStore = store;
        readIncarnation = sim.store(store).incarnation();
        readDeadlineTick = now + READ_TIMEOUT_TICKS;
    }

    private KvReply read(KvSimMachine machine) {
        ByteString keyBytes = ByteString.copyFrom(readKey, StandardCharsets.UTF_8);
        return machine.machine().read(KvRequest.newBuilder().setGet(Get.newBuilder().setKey(keyBytes)).build());
    }

    /** The read's answer reached the client: done, or sent again later (elsewhere after WRONG_GROUP). */
    private void answered(KvReply reply) {
        long now = sim.nowTick();
        switch (reply.getStatus()) {
            case OK -> readDone(reply.getGet().getValue().toStringUtf8());
            case NOT_FOUND -> readDone("");
            case WRONG_GROUP -> {
                readGroup = router.route(ByteString.copyFrom(readKey, StandardCharsets.UTF_8), readGroup);
                readWakeTick = now + 5;
            }
            case UNAVAILABLE -> readWakeTick = now + 10;
            default -> throw sim.fail("client " + index + ": read of " + readKey + " ended " + reply.getStatus() + ": "
                    + reply.getMessage());
        }
    }

    private void readDone(String value) {
        List<String> tokens = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isEmpty()) {
                tokens.add(part);
            }
        }
        reads.add(new Read(readKey, readInvokedTick, sim.nowTick(), List.copyOf(tokens)));
        readKey = null;
    }

    List<Read> reads() {
        return reads;
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
        return stopped && inFlight == null && readKey == null;
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
