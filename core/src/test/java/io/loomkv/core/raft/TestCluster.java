package io.loomkv.core.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A small in-memory cluster for unit tests (etcd's raft_test "network"): nodes on
 * {@link MemoryStorage}, messages delivered in FIFO order, links that can be cut, nodes that can
 * be isolated, crashed (losing what was not persisted) and restarted. Each node's Ready is
 * handled exactly as the package documentation prescribes.
 */
final class TestCluster {
    final Map<Long, RaftNode> nodes = new TreeMap<>();
    final Map<Long, MemoryStorage> storages = new TreeMap<>();
    final Map<Long, List<Entry>> applied = new TreeMap<>();
    final Map<Long, List<ReadState>> reads = new TreeMap<>();
    final Map<Long, ConfState> confStates = new TreeMap<>();
    final Map<Long, RaftConfig> configs = new TreeMap<>();
    private final Map<Long, ByteString> staging = new TreeMap<>();
    final ArrayDeque<Message> inFlight = new ArrayDeque<>();
    final List<Message> delivered = new ArrayList<>();
    private final Set<String> cutLinks = new HashSet<>();
    private final Set<Long> down = new HashSet<>();
    /** Messages matching this are dropped (in addition to cut links). */
    Predicate<Message> dropFilter = m -> false;
    /** When set, applied normal entries are also written into a snapshot-able state string. */
    final Map<Long, ByteString> stateMachine = new TreeMap<>();

    static RaftConfig.Builder defaults(long id) {
        return RaftConfig.builder(id).electionTimeoutTicks(10).heartbeatTicks(1).randomSeed(42)
                .preVote(false).checkQuorum(false);
    }

    static TestCluster of(int size) {
        return of(size, TestCluster::defaults);
    }

    static TestCluster of(int size, java.util.function.LongFunction<RaftConfig.Builder> config) {
        List<Long> voters = new ArrayList<>();
        for (long id = 1; id <= size; id++) {
            voters.add(id);
        }
        TestCluster c = new TestCluster();
        for (long id : voters) {
            c.add(id, MemoryStorage.bootstrap(voters), config.apply(id).build());
        }
        return c;
    }

    void add(long id, MemoryStorage storage, RaftConfig config) {
        storages.put(id, storage);
        configs.put(id, config);
        nodes.put(id, new RaftNode(config, storage));
        applied.putIfAbsent(id, new ArrayList<>());
        reads.putIfAbsent(id, new ArrayList<>());
        stateMachine.putIfAbsent(id, ByteString.EMPTY);
    }

    RaftNode node(long id) {
        return nodes.get(id);
    }

    void cut(long a, long b) {
        cutLinks.add(a + "-" + b);
        cutLinks.add(b + "-" + a);
    }

    void isolate(long id) {
        for (long other : nodes.keySet()) {
            if (other != id) {
                cut(id, other);
            }
        }
    }

    void heal() {
        cutLinks.clear();
    }

    /** Crashes a node: unpersisted state and in-flight messages to it are lost. */
    void crash(long id) {
        down.add(id);
        inFlight.removeIf(m -> m.getTo() == id);
        staging.remove(id);
    }

    /** Restarts a crashed node from its storage; its state machine restarts from the snapshot. */
    void restart(long id) {
        down.remove(id);
        MemoryStorage s = storages.get(id);
        nodes.put(id, new RaftNode(configs.get(id), s));
        stateMachine.put(id, s.snapshotData());
        List<Entry> kept = new ArrayList<>();
        for (Entry e : applied.get(id)) {
            if (e.getIndex() <= s.snapshotMetadata().getIndex()) {
                kept.add(e);
            }
        }
        applied.put(id, kept);
    }

    /**
     * Restarts a crashed node whose Raft reads its storage through {@code view} (a wrapper that
     * changes what the storage answers, e.g. a snapshot that is not ready); the Ready handling
     * still writes to the node's {@link MemoryStorage}.
     */
    void restart(long id, java.util.function.UnaryOperator<Storage> view) {
        restart(id);
        nodes.put(id, new RaftNode(configs.get(id), view.apply(storages.get(id))));
    }

    boolean isDown(long id) {
        return down.contains(id);
    }

    /** Handles every pending Ready of {@code id}; returns whether there was one. */
    boolean process(long id) {
        RaftNode n = nodes.get(id);
        if (down.contains(id) || !n.hasReady()) {
            return false;
        }
        Ready rd = n.ready();
        MemoryStorage s = storages.get(id);
        inFlight.addAll(rd.messagesBeforePersist());
        for (SnapshotChunk chunk : rd.snapshotChunks()) {
            ByteString staged = chunk.offsetBytes() == 0 ? ByteString.EMPTY : staging.getOrDefault(id, ByteString.EMPTY);
            if (staged.size() != chunk.offsetBytes()) {
                throw new IllegalStateException("chunk at " + chunk.offsetBytes() + " but staged " + staged.size());
            }
            staging.put(id, staged.concat(chunk.data()));
        }
        if (rd.snapshot() != null) {
            ByteString data = staging.remove(id);
            s.applySnapshot(rd.snapshot(), data);
            stateMachine.put(id, data);
            confStates.put(id, rd.snapshot().getConfState());
        }
        s.append(rd.entries());
        if (rd.hardState() != null) {
            s.setHardState(rd.hardState());
        }
        inFlight.addAll(rd.messagesAfterPersist());
        for (Entry e : rd.committedEntries()) {
            applied.get(id).add(e);
            if (e.getType() == EntryType.ENTRY_CONF_CHANGE) {
                try {
                    confStates.put(id, n.applyConfChange(ConfChange.parseFrom(e.getData())));
                } catch (InvalidProtocolBufferException ex) {
                    throw new IllegalStateException(ex);
                }
            } else if (!e.getData().isEmpty()) {
                stateMachine.put(id, stateMachine.get(id).concat(e.getData()));
            }
        }
        reads.get(id).addAll(rd.readStates());
        n.advance();
        return true;
    }

    /** Delivers one message; false if none is in flight. */
    boolean deliverOne() {
        Message m = inFlight.pollFirst();
        if (m == null) {
            return false;
        }
        if (down.contains(m.getTo()) || down.contains(m.getFrom()) || cutLinks.contains(m.getFrom() + "-" + m.getTo())
                || dropFilter.test(m) || !nodes.containsKey(m.getTo())) {
            return true;
        }
        delivered.add(m);
        nodes.get(m.getTo()).step(m);
        return true;
    }

    /** Runs until no node has a Ready and no message is in flight. */
    void stabilize() {
        for (int round = 0; round < 100_000; round++) {
            boolean any = false;
            for (long id : nodes.keySet()) {
                while (process(id)) {
                    any = true;
                }
            }
            while (deliverOne()) {
                any = true;
            }
            if (!any) {
                return;
            }
        }
        throw new IllegalStateException("cluster did not stabilize");
    }

    void tick(long id) {
        if (!down.contains(id)) {
            nodes.get(id).tick();
        }
    }

    void tickAll(int ticks) {
        for (int i = 0; i < ticks; i++) {
            for (long id : nodes.keySet()) {
                tick(id);
            }
            stabilize();
        }
    }

    /** Makes {@code id} campaign and runs the cluster until quiet. */
    void elect(long id) {
        nodes.get(id).campaign();
        stabilize();
    }

    long leader() {
        long leader = 0;
        for (Map.Entry<Long, RaftNode> e : nodes.entrySet()) {
            if (!down.contains(e.getKey()) && e.getValue().softState().role() == Role.LEADER) {
                if (leader != 0) {
                    throw new IllegalStateException("two leaders: " + leader + " and " + e.getKey());
                }
                leader = e.getKey();
            }
        }
        return leader;
    }

    void propose(long id, String data) {
        nodes.get(id).propose(ByteString.copyFromUtf8(data));
        stabilize();
    }

    /** The data of the normal, non-empty entries {@code id} applied, as strings. */
    List<String> appliedData(long id) {
        List<String> out = new ArrayList<>();
        for (Entry e : applied.get(id)) {
            if (e.getType() == EntryType.ENTRY_NORMAL && !e.getData().isEmpty()) {
                out.add(e.getData().toStringUtf8());
            }
        }
        return out;
    }

    /** Snapshots {@code id}'s state machine at its applied index and compacts its log up to there. */
    io.loomkv.core.raft.proto.SnapshotMetadata snapshotAndCompact(long id) {
        List<Entry> done = applied.get(id);
        long index = done.get(done.size() - 1).getIndex();
        MemoryStorage s = storages.get(id);
        io.loomkv.core.raft.proto.SnapshotMetadata meta =
                s.createSnapshot(index, nodes.get(id).status().confState(), stateMachine.get(id));
        s.compact(index);
        return meta;
    }

    List<Message> deliveredOfType(MessageType type) {
        return delivered.stream().filter(m -> m.getType() == type).toList();
    }
}
