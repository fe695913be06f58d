package io.loomkv.core.kv.sim;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvSimMachine;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.kv.proto.ExpireKeys;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.core.kv.proto.FindExpired;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.sim.NetworkFaults;
import io.loomkv.core.raft.sim.SimOptions;
import io.loomkv.core.raft.sim.Simulator;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One seeded run of keys with a time to live in the simulator (docs/ttl.md): one data group on 3
 * stores running the real {@code KvStateMachine} under the server's replica driver, where **every
 * store's wall clock is skewed** by up to ±{@link #MAX_SKEW_MILLIS} and store 1's Raft ticks also
 * drift (it misses one tick in every 7). Clients put values with random times to live (and some
 * without) through sessions; each write is stamped by the clock of the store it reaches, as a
 * leader stamps its proposals. An expiry driver at the leader walks the deadlines at the leader's
 * clock and proposes the expired keys, as the store's {@code ExpiryDriver} does. Faults: lost,
 * delayed and reordered messages, partitions, crashes (also inside a Ready), restarts, pauses,
 * leadership transfers, snapshots.
 *
 * <p>Checked: every replica, reading at its own clock every few ticks, reports for a value the same
 * deadline as every other replica at every other time (a deadline is fixed once, when the write is
 * applied: never recomputed by a replica's clock, a restart, a snapshot or a new leader); that
 * deadline lies between the smallest stamp any copy of the write carried plus its time to live and
 * the largest stamp issued by then plus it; no replica returns a value at or past its deadline by
 * its own clock. After healing and after every deadline has passed: the replicas hold exactly the
 * same engine contents (data and deadlines: expiry at apply depends on the log alone), active
 * expiry has removed every expired key and deadline, and each key holds its last acknowledged
 * value exactly when that value had no time to live.
 */
public final class TtlSimulationRun {
    /** Each store's wall clock differs from the simulated time by up to this much. */
    static final long MAX_SKEW_MILLIS = 150;
    public static final int CHAOS_TICKS = 600;
    private static final long SETTLE_TICKS = Simulator.ticksForMillis(60_000);
    private static final int CLIENTS = 3;
    private static final int KEYS_PER_CLIENT = 3;
    private static final int READ_EVERY_TICKS = 3;
    private static final int EXPIRY_EVERY_TICKS = 10;
    /** Simulator group 2 is data group 1 (group 1 is an idle controller replica, as {@link SimSession} numbers them). */
    private static final int DATA_SIM_GROUP = 2;
    private static final List<NetworkFaults> PROFILES = List.of(NetworkFaults.RELIABLE, NetworkFaults.UNRELIABLE,
            NetworkFaults.UNRELIABLE_LONG_REORDER);

    /** What one run did, for the test's report. */
    public record Summary(long seed, long ticks, int writesAcknowledged, long readsChecked, long valuesWithDeadline,
            long expiryProposals, long crashes, String skews) {}

    /** A value a client wrote: its time to live (0: none), its copies' smallest stamp and an upper bound of its deadline. */
    private record Written(String key, long ttlMillis, long minStampMillis, long maxDeadlineMillis, boolean acknowledged) {}

    private final Simulator sim;
    private final Random random;
    private final long[] skewMillis;
    private final List<SimSession> sessions = new ArrayList<>();
    private final Map<String, Written> written = new HashMap<>();
    /** The deadline every replica reported for a value (0: none), the first time one did. */
    private final Map<String, Long> reportedDeadlines = new HashMap<>();
    /** Per key, the value of its last acknowledged write. */
    private final Map<String, String> lastAcknowledged = new HashMap<>();
    private final boolean[] stopped = new boolean[CLIENTS];
    private long maxStampIssued;
    private long readsChecked;
    private long expiryProposals;
    private int acknowledged;
    private int nextValue;

    private TtlSimulationRun(Simulator sim, long[] skewMillis) {
        this.sim = sim;
        this.random = sim.random();
        this.skewMillis = skewMillis;
    }

    static SimOptions optionsFor(long seed, boolean trace) {
        Random shape = new Random(seed * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL);
        int snapshotInterval = shape.nextBoolean() ? 10 : 40;
        int maxPersistDelayTicks = shape.nextInt(3);
        return new SimOptions(3, 3, 2, seed, SimOptions.DEFAULT_ELECTION_TIMEOUT_TICKS,
                SimOptions.DEFAULT_HEARTBEAT_INTERVAL_TICKS, true, true, snapshotInterval, shape.nextInt(300), false,
                7, maxPersistDelayTicks, trace, SimOptions.RuntimeFault.NONE);
    }

    /** Runs {@code seed}; throws an AssertionError naming the seed when a check fails. */
    public static Summary run(long seed, int chaosTicks, String replayHint, boolean trace) {
        SimOptions options = optionsFor(seed, trace);
        Simulator sim = new Simulator(options, replayHint, group -> group == 1
                ? new KvSimMachine(GroupIds.CONTROLLER_GROUP_ID, SlotSet.empty())
                : new KvSimMachine(1, SlotSet.all()));
        long[] skew = new long[options.nodeCount() + 1];
        Random clocks = new Random(seed ^ 0x5DEECE66DL);
        for (int store = 1; store <= options.nodeCount(); store++) {
            skew[store] = clocks.nextLong(-MAX_SKEW_MILLIS, MAX_SKEW_MILLIS + 1);
        }
        TtlSimulationRun run = new TtlSimulationRun(sim, skew);
        run.start();
        run.chaos(chaosTicks);
        run.settle();
        return run.check();
    }

    /** Store {@code store}'s wall clock now. */
    long clockMillis(int store) {
        return SimSession.CLOCK_BASE_MILLIS + sim.nowTick() * Simulator.MILLIS_PER_TICK + skewMillis[store];
    }

    private long stamp(int store) {
        long stamp = clockMillis(store);
        maxStampIssued = Math.max(maxStampIssued, stamp);
        return stamp;
    }

    private void start() {
        for (int client = 0; client < CLIENTS; client++) {
            sessions.add(new SimSession(sim, "ttl-client-" + client, 1).withStampClock(this::stamp));
        }
        sim.addTickHook(() -> {
            for (int client = 0; client < CLIENTS; client++) {
                SimSession session = sessions.get(client);
                session.tick();
                if (session.idle() && !stopped[client] && random.nextInt(4) == 0) {
                    write(client);
                }
            }
            if (sim.nowTick() % READ_EVERY_TICKS == 0) {
                readEverywhere();
            }
            if (sim.nowTick() % EXPIRY_EVERY_TICKS == 0) {
                activeExpiry();
            }
            return true;
        });
    }

    /** A put of a fresh value to one of the client's own keys: 3 in 4 with a time to live of 20 ms..1.5 s. */
    private void write(int client) {
        String key = "{c" + client + "}k" + random.nextInt(KEYS_PER_CLIENT);
        String value = "v" + (nextValue++);
        long ttl = random.nextInt(4) == 0 ? 0 : 20 + random.nextInt(1_480);
        Put.Builder put = Put.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value));
        if (ttl > 0) {
            put.setExpiry(Expiry.newBuilder().setTtlMillis(ttl));
        }
        SimSession session = sessions.get(client);
        written.put(value, new Written(key, ttl, Long.MAX_VALUE, Long.MAX_VALUE, false));
        session.write(Command.newBuilder().setPut(put), refused -> 1, reply -> {
            if (reply.getStatus() != Status.OK) {
                throw sim.fail("put " + value + " of " + key + " was refused: " + reply.getStatus() + " " + reply.getMessage());
            }
            // Applied by now, so its deadline is at most the largest stamp issued so far plus its time to live.
            written.put(value, new Written(key, ttl, session.minStampMillis(), maxStampIssued + ttl, true));
            lastAcknowledged.put(key, value);
            acknowledged++;
        });
    }

    /** Every live replica reads every key at its own clock, as a follower read would. */
    private void readEverywhere() {
        for (int store = 1; store <= sim.nodeCount(); store++) {
            KvSimMachine machine = machine(store);
            if (machine == null) {
                continue;
            }
            long now = clockMillis(store);
            for (int client = 0; client < CLIENTS; client++) {
                for (int k = 0; k < KEYS_PER_CLIENT; k++) {
                    String key = "{c" + client + "}k" + k;
                    KvReply reply = machine.machine().read(KvRequest.newBuilder()
                            .setGet(Get.newBuilder().setKey(ByteString.copyFromUtf8(key))).build(), now);
                    readsChecked++;
                    if (reply.getStatus() == Status.NOT_FOUND) {
                        continue;
                    }
                    if (reply.getStatus() != Status.OK) {
                        throw sim.fail("store " + store + " read " + key + ": " + reply.getStatus() + " " + reply.getMessage());
                    }
                    String value = reply.getGet().getValue().toStringUtf8();
                    long deadline = reply.getGet().getExpiresAtMillis();
                    Long first = reportedDeadlines.putIfAbsent(value, deadline);
                    if (first != null && first != deadline) {
                        throw sim.fail("store " + store + " (clock skew " + skewMillis[store] + " ms) reports deadline "
                                + deadline + " for " + key + "=" + value + ", another replica or time reported " + first);
                    }
                    if (deadline != 0 && deadline <= now) {
                        throw sim.fail("store " + store + " returned " + key + "=" + value + " at its clock " + now
                                + ", at or past its deadline " + deadline);
                    }
                }
            }
        }
    }

    /** At the leader, as its store's expiry driver: find the keys expired by its clock and propose them. */
    private void activeExpiry() {
        int leader = sim.group(DATA_SIM_GROUP).newestLeader();
        KvSimMachine machine = leader == 0 ? null : machine(leader);
        if (machine == null) {
            return;
        }
        KvReply found = machine.machine().read(KvRequest.newBuilder().setGroupId(1).setMigrationRead(MigrationRead.newBuilder()
                .setFindExpired(FindExpired.getDefaultInstance())).build(), clockMillis(leader));
        if (found.getStatus() != Status.OK) {
            throw sim.fail("find_expired at store " + leader + ": " + found.getStatus() + " " + found.getMessage());
        }
        if (found.getMigration().getExpired().getKeysCount() == 0) {
            return;
        }
        Command expire = Command.newBuilder().setTimestampMillis(stamp(leader)).setMigrationWrite(MigrationWrite.newBuilder()
                .setExpireKeys(ExpireKeys.newBuilder().addAllKeys(found.getMigration().getExpired().getKeysList()))).build();
        sim.group(DATA_SIM_GROUP).propose(leader, CommandBatch.newBuilder().addCommands(expire).build().toByteString());
        expiryProposals++;
    }

    private KvSimMachine machine(int store) {
        if (!sim.alive(store)) {
            return null;
        }
        return (KvSimMachine) sim.store(store).replica(DATA_SIM_GROUP).machine();
    }

    private void chaos(int chaosTicks) {
        for (int tick = 0; tick < chaosTicks; tick++) {
            int dice = random.nextInt(1000);
            int store = 1 + random.nextInt(sim.nodeCount());
            if (dice < 5) {
                if (sim.alive(store)) {
                    sim.crash(store);
                }
            } else if (dice < 25) {
                if (!sim.alive(store)) {
                    sim.restart(store);
                    sim.connect(store);
                }
            } else if (dice < 29) {
                sim.disconnect(store);
            } else if (dice < 39) {
                sim.connect(store);
            } else if (dice < 45) {
                sim.network().heal();
            } else if (dice < 50) {
                sim.network().setFaults(PROFILES.get(random.nextInt(PROFILES.size())));
            } else if (dice < 53) {
                sim.pause(store, 1 + random.nextInt(2 * sim.options().electionTimeoutTicks()));
            } else if (dice < 58) {
                int leader = sim.group(DATA_SIM_GROUP).newestLeader();
                if (leader != 0 && leader != store && sim.alive(store)) {
                    sim.group(DATA_SIM_GROUP).transferLeader(leader, store);
                }
            }
            sim.runTicks(1);
        }
    }

    /**
     * Heals, lets the clients finish their writes, then lets simulated time pass every deadline
     * (plus the clock skews) while active expiry runs, until every replica has applied the same
     * entries and the leader's engine holds no deadline.
     */
    private void settle() {
        sim.network().heal();
        sim.network().setFaults(NetworkFaults.RELIABLE);
        for (int store = 1; store <= sim.nodeCount(); store++) {
            sim.store(store).armCrash(null);
            if (!sim.alive(store)) {
                sim.restart(store);
            }
            sim.connect(store);
        }
        java.util.Arrays.fill(stopped, true);
        if (!sim.runUntil(() -> sessions.stream().allMatch(s -> s.idle() || !s.open()), SETTLE_TICKS)) {
            throw sim.fail("the clients' writes did not finish within " + SETTLE_TICKS + " ticks after healing");
        }
        long lastDeadline = written.values().stream().mapToLong(Written::maxDeadlineMillis)
                .filter(d -> d != Long.MAX_VALUE).max().orElse(0);
        long passAllTick = sim.nowTick() + Simulator.ticksForMillis(Math.max(0,
                lastDeadline + 2 * MAX_SKEW_MILLIS - clockMillis(1)) + 1_000);
        if (!sim.runUntil(() -> sim.nowTick() >= passAllTick && reclaimedEverywhere(), SETTLE_TICKS)) {
            throw sim.fail("expired keys were not all reclaimed within " + SETTLE_TICKS + " ticks after every deadline");
        }
    }

    /** Every replica applied the same index, and none holds a deadline (so no expired key) any more. */
    private boolean reclaimedEverywhere() {
        long applied = -1;
        for (int store = 1; store <= sim.nodeCount(); store++) {
            KvSimMachine machine = machine(store);
            if (machine == null) {
                return false;
            }
            if (applied == -1) {
                applied = machine.appliedIndex();
            } else if (machine.appliedIndex() != applied) {
                return false;
            }
            if (machine.engineContents().keySet().stream().anyMatch(key -> (key.byteAt(0) & 0xC0) == 0x40)) {
                return false;
            }
        }
        return true;
    }

    private Summary check() {
        Map<ByteString, ByteString> first = machine(1).engineContents();
        for (int store = 2; store <= sim.nodeCount(); store++) {
            if (!machine(store).engineContents().equals(first)) {
                throw sim.fail("store " + store + "'s engine differs from store 1's after every replica applied the same log"
                        + " (expiry at apply must depend on the log alone)");
            }
        }
        long withDeadline = 0;
        for (Map.Entry<String, Long> reported : reportedDeadlines.entrySet()) {
            Written write = written.get(reported.getKey());
            long deadline = reported.getValue();
            if (write.ttlMillis() == 0) {
                if (deadline != 0) {
                    throw sim.fail(reported.getKey() + " was put without a time to live but reported deadline " + deadline);
                }
                continue;
            }
            withDeadline++;
            if (write.acknowledged() && (deadline < write.minStampMillis() + write.ttlMillis()
                    || deadline > write.maxDeadlineMillis())) {
                throw sim.fail(reported.getKey() + " (ttl " + write.ttlMillis() + " ms) has deadline " + deadline
                        + ", outside [its smallest stamp " + write.minStampMillis() + " + ttl, " + write.maxDeadlineMillis() + "]");
            }
        }
        KvSimMachine leader = machine(1);
        for (Map.Entry<String, String> last : lastAcknowledged.entrySet()) {
            KvReply reply = leader.machine().read(KvRequest.newBuilder()
                    .setGet(Get.newBuilder().setKey(ByteString.copyFromUtf8(last.getKey()))).build(), clockMillis(1));
            boolean persistent = written.get(last.getValue()).ttlMillis() == 0;
            if (persistent && (reply.getStatus() != Status.OK
                    || !reply.getGet().getValue().toStringUtf8().equals(last.getValue()))) {
                throw sim.fail(last.getKey() + " must hold its last acknowledged value " + last.getValue()
                        + " (no time to live), got " + reply.getStatus() + " " + reply.getGet().getValue().toStringUtf8());
            }
            if (!persistent && reply.getStatus() != Status.NOT_FOUND) {
                throw sim.fail(last.getKey() + "'s last value " + last.getValue() + " expired long ago but is still served");
            }
        }
        StringBuilder skews = new StringBuilder();
        for (int store = 1; store <= sim.nodeCount(); store++) {
            skews.append(store == 1 ? "" : ",").append(skewMillis[store]);
        }
        return new Summary(sim.seed(), sim.nowTick(), acknowledged, readsChecked, withDeadline, expiryProposals,
                sim.stats().crashes(), skews.toString());
    }
}
