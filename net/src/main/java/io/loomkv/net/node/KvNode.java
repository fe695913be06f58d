package io.loomkv.net.node;

import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvStateMachine;
import io.loomkv.core.kv.SessionPolicy;
import io.loomkv.core.raft.RaftConfig;
import io.loomkv.core.raft.RaftNode;
import com.google.protobuf.ByteString;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.ConfState;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import io.loomkv.persist.engine.MemoryKvEngine;
import io.loomkv.persist.identity.DataDirectoryIdentity;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.raft.StoreLogOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.jctools.queues.SpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loomkv server node: recovers its Raft storage (snapshot + WAL) and state machine, then runs
 * the Raft loop thread, the apply thread, a peer RPC server (Raft messages, peer handshake only)
 * and a client RPC server (KV requests, status, membership). See DESIGN.md "A write, end to end".
 */
public final class KvNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KvNode.class);
    static final long MAX_SNAPSHOT_BYTES = 64L << 30;
    /**
     * Snapshot also once this many bytes of entries were applied since the last snapshot, whatever
     * their count: this bounds the log kept in memory and replayed on restart (issue 6: a node with
     * 1,000,000 keys must restart within 5 s and hold at most 3x its data in heap).
     */
    static final long SNAPSHOT_THRESHOLD_BYTES = 64L << 20;
    /**
     * The one Raft group this node runs, in the store's shared storage. Not 0: that id belongs to
     * the shard controller once stores host many groups.
     */
    static final long KV_GROUP_ID = 1;

    private final NodeConfig config;
    private final StoreLog storeLog;
    private final GroupStorage storage;
    private final Membership membership;
    private final NodeState state = new NodeState();
    private final ProposalTracker tracker = new ProposalTracker();
    private final PeerTransport transport;
    private final RaftLoop loop;
    private final Applier applier;
    private final Thread loopThread;
    private final Thread applyThread;
    private final RpcServer peerServer;
    private final RpcServer clientServer;
    private final KvLimits limits;
    private final KvService service;
    private volatile boolean closed;

    private KvNode(NodeConfig config) throws IOException {
        this.config = config;
        Files.createDirectories(config.dataDirectory());
        // Refuse another node's or another cluster's data before reading any of it.
        new DataDirectoryIdentity(config.clusterId(), config.nodeId()).claimOrVerify(config.dataDirectory());
        this.storeLog = StoreLog.open(StoreLogOptions.defaults(config.dataDirectory().resolve("raft"))
                .withFsync(config.fsync()));
        try {
            this.storage = storeLog.groups().containsKey(KV_GROUP_ID) ? storeLog.group(KV_GROUP_ID) : storeLog.createGroup(KV_GROUP_ID);
            this.membership = new Membership(config.dataDirectory(), config.members());
            this.limits = KvLimits.defaults().withMaxKeyBytes(config.maxKeyBytes()).withMaxValueBytes(config.maxValueBytes());
            // One group owning every slot until the store runtime, which hosts many groups, replaces this node.
            KvStateMachine stateMachine = new KvStateMachine(new MemoryKvEngine(), limits, SessionPolicy.defaults(),
                    1, SlotSet.all());
            long snapshotIndex = storage.snapshotMetadata().getIndex();
            if (snapshotIndex > 0) {
                try (InputStream in = storage.openSnapshotData(MAX_SNAPSHOT_BYTES)) {
                    stateMachine.restore(in);
                }
                LOG.info("node {}: state machine restored from snapshot at {}", config.nodeId(), snapshotIndex);
            }
            bootstrapIfNew(config, storage);
            RaftNode node = new RaftNode(raftConfig(config, stateMachine.lastAppliedIndex()), storage);
            ConfState current = node.status().confState();
            this.transport = new PeerTransport(config.clusterId(), config.nodeId(), membership);
            SpscArrayQueue<ApplyTask> applyQueue = new SpscArrayQueue<>(RaftLoop.APPLY_QUEUE_CAPACITY);
            RaftLoop[] loopRef = new RaftLoop[1];
            this.applier = new Applier(config.nodeId(), stateMachine, storage, tracker, state, applyQueue, current,
                    config.snapshotThresholdEntries(), SNAPSHOT_THRESHOLD_BYTES, MAX_SNAPSHOT_BYTES,
                    (index, keepEntries) -> loopRef[0].submit(new LoopInput.Control(n -> storage.compact(index - keepEntries))));
            this.applyThread = Thread.ofPlatform().name("apply-" + config.nodeId()).daemon().unstarted(applier);
            PointReads pointReads = new PointReads(config.nodeId(), stateMachine, state);
            this.loop = new RaftLoop(config, node, storage, transport, membership, tracker, state, applyQueue, applyThread,
                    pointReads);
            loopRef[0] = loop;
            // A virtual thread, like the connection readers and writers it trades with: a reader that
            // hands the loop an input, and the loop that hands a writer a message, then continue on
            // the same carrier instead of waking a parked platform thread through the kernel (about
            // 35 us a wakeup on a virtualised host; it halved the context switches per ReadIndex
            // read). The apply thread stays a platform thread: it is CPU-bound under load and would
            // hold a carrier. Long CPU-bound work (snapshot compression) stays off the carriers too.
            this.loopThread = Thread.ofVirtual().name("raft-loop-" + config.nodeId()).unstarted(loop);
            this.service = new KvService(config, loop, state, membership, limits, applier, pointReads);
            this.peerServer = new RpcServer(RpcServerConfig.defaults(config.clusterId()).withNodeId(config.nodeId()),
                    RpcHandlers.builder().addOneWay(NodeMethods.RAFT_MESSAGE, this::onPeerMessage)
                            .addOneWay(NodeMethods.REMOVED_NOTICE, (notice, context) -> {
                                if (notice.getNodeId() == config.nodeId() && notice.getFrom() == context.peerNodeId()) {
                                    loop.onRemovedNotice(notice.getFrom());
                                }
                            }).build());
            this.clientServer = new RpcServer(RpcServerConfig.defaults(config.clusterId()).withNodeId(config.nodeId()),
                    service.register(RpcHandlers.builder()).build());
        } catch (IOException | RuntimeException e) {
            storeLog.close();
            throw e;
        }
    }

    /** Recovers and starts a node; returns once its servers listen. */
    public static KvNode start(NodeConfig config) throws IOException {
        KvNode node = new KvNode(config);
        try {
            node.applyThread.start();
            node.loop.start(node.loopThread);
            node.peerServer.start(config.peerAddress());
            node.clientServer.start(config.clientAddress());
        } catch (IOException | RuntimeException e) {
            node.close();
            throw e;
        }
        LOG.info("node {} of cluster '{}' serving clients on {} and peers on {} (data in {})", config.nodeId(),
                config.clusterId(), MemberAddress.format(config.clientAddress()), MemberAddress.format(config.peerAddress()),
                config.dataDirectory());
        return node;
    }

    /**
     * A brand-new member of the initial cluster writes the initial membership into its log as
     * committed conf-change entries at term 1 (one per member, in id order, so every initial
     * member writes identical entries), as etcd's bootstrap does. The membership then lives in the
     * log like every later change, so a node that joins later and replays the log from index 1
     * learns the whole history, not just the changes after the cluster started.
     */
    private static void bootstrapIfNew(NodeConfig config, GroupStorage storage) throws IOException {
        if (config.join() || storage.lastIndex() != 0 || storage.snapshotMetadata().getIndex() != 0
                || storage.initialState().hardState().getTerm() != 0) {
            return;
        }
        List<Entry> entries = new ArrayList<>();
        List<MemberAddress> members = config.members().stream().sorted(Comparator.comparingLong(MemberAddress::id)).toList();
        for (MemberAddress member : members) {
            ConfChange change = ConfChange.newBuilder()
                    .addChanges(ConfChangeSingle.newBuilder().setType(ConfChangeType.CONF_CHANGE_ADD_NODE).setNodeId(member.id()))
                    .setContext(ByteString.copyFrom(member.toContext()))
                    .build();
            entries.add(Entry.newBuilder().setTerm(1).setIndex(entries.size() + 1).setType(EntryType.ENTRY_CONF_CHANGE)
                    .setData(change.toByteString()).build());
        }
        HardState hardState = HardState.newBuilder().setTerm(1).setCommit(entries.size()).build();
        try {
            storage.append(hardState, entries).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the bootstrap entries", e);
        } catch (ExecutionException e) {
            throw new IOException("writing the bootstrap entries failed", e.getCause());
        }
        LOG.info("node {}: new cluster member; wrote the initial membership {} as entries 1..{}", config.nodeId(),
                members.stream().map(MemberAddress::id).toList(), entries.size());
    }

    private static RaftConfig raftConfig(NodeConfig config, long appliedIndex) {
        RaftConfig.Builder builder = RaftConfig.builder(config.nodeId())
                .electionTimeoutTicks(config.electionTimeoutTicks())
                .heartbeatTicks(config.heartbeatTicks())
                // The core's only randomness; seeding it per run is the runtime's business.
                .randomSeed(System.nanoTime() ^ (config.nodeId() * 0x9E3779B97F4A7C15L))
                .preVote(true)
                .checkQuorum(true)
                .appliedIndex(appliedIndex);
        if (config.leaseReads()) {
            // Shorter than the election timeout, so a new leader cannot be elected while the old lease holds.
            builder.leaseReads(Math.max(1, config.electionTimeoutTicks() * 8 / 10));
        }
        return builder.build();
    }

    private void onPeerMessage(Message message, CallContext context) {
        if (message.getFrom() != context.peerNodeId() || message.getTo() != config.nodeId()) {
            LOG.warn("node {}: dropping {} claiming from={} to={} on a connection of peer {}", config.nodeId(),
                    message.getType(), message.getFrom(), message.getTo(), context.peerNodeId());
            return;
        }
        loop.deliver(message);
    }

    /** Fault injection on this node's outgoing Raft messages (tests only; nothing is injected by default). */
    public PeerFaults peerFaults() {
        return transport.faults();
    }

    /** Reads this node served from its leader lease, without a ReadIndex round. */
    public long leaseReadsServed() {
        return loop.leaseReadsServed();
    }

    public NodeConfig config() {
        return config;
    }

    public long nodeId() {
        return config.nodeId();
    }

    /** Whether this node currently believes it is the leader. */
    public boolean isLeader() {
        return state.isLeader() && state.unavailableReason() == null;
    }

    public long leaderId() {
        return state.leaderId();
    }

    /** WAL force() calls so far; for tests. */
    long walForceCount() {
        return storeLog.walForceCount();
    }

    public long appliedIndex() {
        return state.appliedIndex();
    }

    /** Null while the node serves; otherwise why it stopped (removed, failed). */
    public String unavailableReason() {
        return state.unavailableReason();
    }

    /** Index of the newest local snapshot (0 when none). */
    public long snapshotIndex() {
        return storage.snapshotMetadata().getIndex();
    }

    /** First index still in the log (entries before it were compacted into a snapshot). */
    public long firstLogIndex() {
        return storage.firstIndex();
    }

    /** Stops serving and closes everything; idempotent. Data stays on disk for a restart. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        clientServer.shutdown(Duration.ofSeconds(1));
        peerServer.shutdown(Duration.ofMillis(200));
        loop.stop();
        join(loopThread);
        applier.stop();
        join(applyThread);
        transport.close();
        tracker.failAll("node " + config.nodeId() + " is shutting down");
        service.close();
        try {
            storeLog.close();
        } catch (IOException e) {
            LOG.warn("node {}: closing storage: {}", config.nodeId(), e.toString());
        }
        LOG.info("node {} stopped", config.nodeId());
    }

    private static void join(Thread thread) {
        if (thread.getState() == Thread.State.NEW) {
            return;
        }
        try {
            thread.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
