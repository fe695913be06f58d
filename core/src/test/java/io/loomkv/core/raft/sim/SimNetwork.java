package io.loomkv.core.raft.sim;

import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;

/**
 * The simulated network between stores {@code 1..nodeCount}: a queue of messages in flight, ordered
 * by delivery tick and then by send order, so that equal seeds deliver in an equal order. Each
 * message travels in an envelope naming its Raft group (as the runtime's one connection per pair
 * of stores carries every group's messages), so links, partitions and random faults hit every
 * group between two stores alike.
 *
 * <p>Links can fail in three ways, and a message needs its link up both when it is sent and when
 * it arrives (like labrpc, which also drops the reply of a server disconnected meanwhile):
 * <ul>
 *   <li>a store is disconnected from everyone (6.824's {@code disconnect(i)});
 *   <li>the stores are split into partitions that cannot talk to each other;
 *   <li>a single direction {@code from -> to} is cut (asymmetric faults).
 * </ul>
 * On top of that, {@link NetworkFaults} drops, duplicates and delays messages at random.
 */
public final class SimNetwork {

    private record InFlight(long deliverAtTick, long sequence, int group, Message message) {}

    /** A message that arrived at its store, for that store's replica of {@code group}. */
    record Delivery(int group, Message message) {}

    /** Bounds the queue: a run that piles up this many messages is itself a bug worth failing on. */
    private static final int MAX_IN_FLIGHT_MESSAGES = 1_000_000;

    private final int nodeCount;
    private final RandomGenerator random;
    private final PriorityQueue<InFlight> inFlight = new PriorityQueue<>(
            Comparator.comparingLong(InFlight::deliverAtTick).thenComparingLong(InFlight::sequence));
    private final boolean[] connected;
    private final int[] partitionGroup;
    private final boolean[][] cut;
    private final long[] requestsDelivered;
    private NetworkFaults faults = NetworkFaults.RELIABLE;
    private long nextSequence;
    private long requestBytesSent;
    private long messagesSent;
    private long messagesDropped;
    private final long[] sentByType = new long[MessageType.values().length];

    SimNetwork(int nodeCount, RandomGenerator random) {
        if (nodeCount < 1) {
            throw new IllegalArgumentException("nodeCount must be >= 1, got " + nodeCount);
        }
        this.nodeCount = nodeCount;
        this.random = random;
        this.connected = new boolean[nodeCount + 1];
        this.partitionGroup = new int[nodeCount + 1];
        this.cut = new boolean[nodeCount + 1][nodeCount + 1];
        this.requestsDelivered = new long[nodeCount + 1];
        for (int id = 1; id <= nodeCount; id++) {
            connected[id] = true;
        }
    }

    public NetworkFaults faults() {
        return faults;
    }

    public void setFaults(NetworkFaults faults) {
        this.faults = faults;
    }

    public void connect(int id) {
        connected[checkId(id)] = true;
    }

    public void disconnect(int id) {
        connected[checkId(id)] = false;
    }

    public boolean isConnected(int id) {
        return connected[checkId(id)];
    }

    /** Splits the stores into sides that cannot talk to each other; a store on no side is alone. */
    public void partition(List<List<Integer>> groups) {
        for (int id = 1; id <= nodeCount; id++) {
            partitionGroup[id] = -id;
        }
        for (int group = 0; group < groups.size(); group++) {
            for (int id : groups.get(group)) {
                partitionGroup[checkId(id)] = group + 1;
            }
        }
    }

    /** Cuts the direction {@code from -> to} only. */
    public void cut(int from, int to) {
        cut[checkId(from)][checkId(to)] = true;
    }

    /** Ends every partition and one-way cut (but not {@link #disconnect}ions). */
    public void heal() {
        for (int id = 1; id <= nodeCount; id++) {
            partitionGroup[id] = 0;
            for (int other = 1; other <= nodeCount; other++) {
                cut[id][other] = false;
            }
        }
    }

    public boolean linkUp(int from, int to) {
        return connected[from] && connected[to] && partitionGroup[from] == partitionGroup[to] && !cut[from][to];
    }

    /**
     * The fate of one leg of a call outside Raft (a store's migration reads, a sharded client's
     * request) from {@code from} to {@code to}, drawn like a Raft message's under the current faults:
     * -1 when it is lost, else its delay in ticks. The caller checks {@link #linkUp} again on delivery.
     */
    public long callLegDelayTicks(int from, int to, boolean request) {
        checkId(from);
        checkId(to);
        if (!linkUp(from, to)) {
            return -1;
        }
        int dropPerMille = request ? faults.dropRequestPerMille() : faults.dropResponsePerMille();
        if (dropPerMille > 0 && random.nextInt(1000) < dropPerMille) {
            return -1;
        }
        return delayTicks(request);
    }

    /** Hands a message of {@code group} to the network at {@code nowTick}; it may be lost, delayed or duplicated. */
    void send(int group, Message message, long nowTick) {
        int from = checkId((int) message.getFrom());
        int to = checkId((int) message.getTo());
        messagesSent++;
        if (message.getType() != MessageType.UNRECOGNIZED) {
            sentByType[message.getType().ordinal()]++;
        }
        boolean request = isRequest(message.getType());
        if (request) {
            requestBytesSent += message.getSerializedSize();
        }
        if (!linkUp(from, to)) {
            messagesDropped++;
            return;
        }
        int dropPerMille = request ? faults.dropRequestPerMille() : faults.dropResponsePerMille();
        if (dropPerMille > 0 && random.nextInt(1000) < dropPerMille) {
            messagesDropped++;
            return;
        }
        enqueue(group, message, nowTick + delayTicks(request));
        if (faults.duplicatePerMille() > 0 && random.nextInt(1000) < faults.duplicatePerMille()) {
            enqueue(group, message, nowTick + delayTicks(request));
        }
    }

    private long delayTicks(boolean request) {
        long delay = faults.minDelayTicks()
                + random.nextInt(faults.maxDelayTicks() - faults.minDelayTicks() + 1);
        if (!request && faults.longReorderPerMille() > 0 && random.nextInt(1000) < faults.longReorderPerMille()) {
            // labrpc: 200 + rand(1 + rand(2000)) ms, so short long-delays are the common case.
            delay = faults.longReorderMinTicks()
                    + random.nextInt(1 + random.nextInt(faults.longReorderMaxExtraTicks() + 1));
        }
        return delay;
    }

    private void enqueue(int group, Message message, long deliverAtTick) {
        if (inFlight.size() >= MAX_IN_FLIGHT_MESSAGES) {
            throw new IllegalStateException("more than " + MAX_IN_FLIGHT_MESSAGES + " messages in flight");
        }
        inFlight.add(new InFlight(deliverAtTick, nextSequence++, group, message));
    }

    /**
     * Removes and returns every message due by {@code nowTick} whose link is still up, in delivery
     * order; messages whose link went down meanwhile are lost.
     */
    List<Delivery> takeDue(long nowTick) {
        List<Delivery> due = new ArrayList<>();
        while (!inFlight.isEmpty() && inFlight.peek().deliverAtTick() <= nowTick) {
            InFlight next = inFlight.poll();
            Message message = next.message();
            if (linkUp((int) message.getFrom(), (int) message.getTo())) {
                due.add(new Delivery(next.group(), message));
                if (isRequest(message.getType())) {
                    requestsDelivered[(int) message.getTo()]++;
                }
            } else {
                messagesDropped++;
            }
        }
        return due;
    }

    /** Whether any message is due by {@code nowTick}. */
    boolean hasDue(long nowTick) {
        return !inFlight.isEmpty() && inFlight.peek().deliverAtTick() <= nowTick;
    }

    public int inFlightCount() {
        return inFlight.size();
    }

    /** Requests delivered to {@code id} so far: 6.824's {@code rpcCount(server)} (a request and its reply are one RPC). */
    public long requestsDeliveredTo(int id) {
        return requestsDelivered[checkId(id)];
    }

    /** Serialized bytes of all requests sent: 6.824's {@code bytesTotal()}. */
    public long requestBytesSent() {
        return requestBytesSent;
    }

    public long messagesSent() {
        return messagesSent;
    }

    /** Messages of {@code type} handed to the network (delivered or not). */
    public long messagesSent(MessageType type) {
        return sentByType[type.ordinal()];
    }

    public long messagesDropped() {
        return messagesDropped;
    }

    static boolean isRequest(MessageType type) {
        return switch (type) {
            case MSG_APP_RESP, MSG_VOTE_RESP, MSG_PRE_VOTE_RESP, MSG_HEARTBEAT_RESP, MSG_SNAP_RESP,
                    MSG_READ_INDEX_RESP -> false;
            default -> true;
        };
    }

    private int checkId(int id) {
        if (id < 1 || id > nodeCount) {
            throw new IllegalArgumentException("store id must be in [1, " + nodeCount + "], got " + id);
        }
        return id;
    }
}
