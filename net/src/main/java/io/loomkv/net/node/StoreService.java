package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvCommands;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.KvValidator;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.raft.RaftNode;
import io.loomkv.core.raft.RequestDroppedException;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.metrics.StoreMetrics;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.MemberInfo;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.proto.ErrorReply;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.rpc.RpcException;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import io.loomkv.net.store.proto.StoreAddress;
import io.loomkv.net.store.proto.StoreReportsReply;
import io.loomkv.net.store.proto.StoreReportsRequest;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The client-facing methods of a store: validates each KV request on arrival (a bad one never
 * reaches a log), routes it to its group's replica here ({@code WRONG_GROUP} with our layout
 * version when this store hosts none, {@code NOT_LEADER} naming the leader's store from a
 * follower for writes), and answers when the request is applied or its deadline passes. Also the
 * status, layout and membership methods, and a group's snapshot for backups
 * ({@link GroupSnapshotSource}). Runs on connection reader threads and never blocks.
 */
final class StoreService implements AutoCloseable {
    /** Stray slots one group's view lists at most (a STATUS asked with audit_slots). */
    static final int MAX_STRAY_SLOTS_LISTED = 64;

    /** What the service needs from its store. */
    interface Replicas {
        SlotLayout layout();

        /**
         * The live layout, first moved up to the configuration this store's replica of group 0 has
         * applied when that is newer (so the addresses of a store just added are known here).
         */
        SlotLayout freshestLayout();

        /** This store's replica of {@code groupId}, or null. */
        Replica replica(long groupId);

        Iterable<Replica> all();

        Membership addresses();

        /** WAL force() calls so far. */
        long walForceCount();

        /** The data bytes of the log entries all groups hold in memory (since their snapshots). */
        long logBytesInMemory();

        /** Above this many {@link #logBytesInMemory()}, client writes are refused until snapshots catch up. */
        long logBytesLimit();

        /** The stores that host group 0, the shard controller, since the cluster was created. */
        java.util.List<Long> controllerStores();

        /** The stores' reports, kept while this store leads the shard controller. */
        StoreReports reports();
    }

    private final NodeConfig config;
    private final Replicas replicas;
    private final KvValidator validator;
    private final RequestDeadlines<KvReply> deadlines;
    private final StoreMetrics metrics;
    private final GroupSnapshotSource snapshots;

    StoreService(NodeConfig config, Replicas replicas, KvLimits limits, StoreMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.replicas = replicas;
        this.validator = new KvValidator(limits);
        this.snapshots = new GroupSnapshotSource(config.nodeId(), replicas::replica, replicas.addresses());
        this.deadlines = new RequestDeadlines<>("request-deadlines-" + config.nodeId(), config.requestTimeoutMillis(),
                KvReplies.error(Status.TIMEOUT, "no outcome within " + config.requestTimeoutMillis()
                        + " ms; a write may or may not be applied: retry with the same sequence"));
    }

    /** Times out the requests still waiting (the store is stopping). */
    @Override
    public void close() {
        deadlines.close();
    }

    RpcHandlers.Builder register(RpcHandlers.Builder builder) {
        return builder.add(NodeMethods.KV, this::execute)
                .add(NodeMethods.STATUS, this::status)
                .add(NodeMethods.LAYOUT, this::layout)
                .add(NodeMethods.STORE_REPORTS, this::storeReports)
                .add(NodeMethods.GROUP_SNAPSHOT, snapshots::serve)
                .add(NodeMethods.MEMBER_CHANGE, this::memberChange)
                .add(NodeMethods.TRANSFER_LEADER, this::transferLeader);
    }

    CompletionStage<KvReply> execute(KvRequest request, CallContext context) {
        if (request.getOpCase() == KvRequest.OpCase.MIGRATION_READ || request.getOpCase() == KvRequest.OpCase.MIGRATION_WRITE) {
            return done(KvReplies.invalidArgument("slot migration requests come from the stores, on the peer port"));
        }
        return executeFromStore(request);
    }

    /**
     * A request from a store: this store's own slot migration, or a peer's on the peer port. The
     * same routing and answers as a client's, migration operations included.
     */
    CompletionStage<KvReply> executeFromStore(KvRequest request) {
        long startNanos = System.nanoTime();
        Optional<String> error = validator.checkRequest(request);
        if (error.isEmpty()) {
            error = unknownStores(request);
        }
        if (error.isPresent()) {
            return done(KvReplies.invalidArgument(error.get()));
        }
        SlotLayout layout = replicas.layout();
        RequestRouter.Route route = RequestRouter.route(request, layout);
        if (route.refusal() != null) {
            return done(route.refusal());
        }
        Replica replica = replicas.replica(route.groupId());
        if (replica == null) {
            return done(RequestRouter.wrongGroup(layout, "store " + config.nodeId() + " hosts no replica of group "
                    + route.groupId()));
        }
        String unavailable = replica.state().unavailableReason();
        if (unavailable != null) {
            return done(KvReplies.error(Status.UNAVAILABLE, replica.name() + ": " + unavailable));
        }
        CompletableFuture<KvReply> reply = new TimedReply(metrics.requestDuration(request.getOpCase()), startNanos);
        LoopInput input;
        if (KvCommands.isWrite(request)) {
            if (!replica.state().isLeader()) {
                return done(withGroup(replica.notLeader(), route.groupId()));
            }
            if (isClientDataWrite(request) && replicas.logBytesInMemory() > replicas.logBytesLimit()) {
                // The logs stay in memory until their groups' snapshots cover them; when snapshots
                // fall behind the writes (a persistent engine's snapshot reads all of a group's data),
                // admitting more would run the heap out. Nothing was proposed: the client retries.
                return done(withGroup(KvReplies.error(Status.UNAVAILABLE, "store " + config.nodeId() + " holds "
                        + (replicas.logBytesInMemory() >> 20) + " MiB of log entries not yet covered by snapshots (limit "
                        + (replicas.logBytesLimit() >> 20) + " MiB); retry shortly"), route.groupId()));
            }
            // The replica restamps the timestamp when it proposes; this one only satisfies the builder's check.
            input = new LoopInput.Propose(KvCommands.fromRequest(request, System.currentTimeMillis()), reply);
        } else if (request.getConsistency() == ReadConsistency.SERIALIZABLE && PointReads.isPointRead(request)) {
            // A stale single-key read needs neither the replica's turn nor the apply stage.
            KvReply read = replica.pointReads().read(request);
            metrics.requestDuration(request.getOpCase()).observe(StoreMetrics.seconds(System.nanoTime() - startNanos));
            return done(read);
        } else {
            input = new LoopInput.Read(request, reply);
        }
        if (!replica.submit(input)) {
            return done(KvReplies.error(Status.UNAVAILABLE, replica.name() + " is overloaded or stopping; retry"));
        }
        return deadlines.track(reply);
    }

    /**
     * A Join or a replica move must place its groups on stores of this cluster, and an AddStore
     * must name a new one: the controller knows only the stores added to the cluster, not those it
     * was created with, so the store that admits the request checks the members it knows (a group
     * placed on a store that does not exist would never form).
     */
    private Optional<String> unknownStores(KvRequest request) {
        if (request.getOpCase() != KvRequest.OpCase.CONTROLLER) {
            return Optional.empty();
        }
        replicas.freshestLayout(); // learns the stores added up to the controller's newest configuration
        if (request.getController().hasAddStore()) {
            io.loomkv.core.shard.proto.StoreEndpoint store = request.getController().getAddStore().getStore();
            MemberAddress known = replicas.addresses().get(store.getStoreId());
            if (known != null) {
                return Optional.of("store " + store.getStoreId() + " is already a member of the cluster (client "
                        + MemberAddress.format(known.clientAddress()) + ", peer " + MemberAddress.format(known.peerAddress()) + ")");
            }
            try {
                MemberAddress.parseHostPort(store.getClientAddress());
                MemberAddress.parseHostPort(store.getPeerAddress());
            } catch (IllegalArgumentException e) {
                return Optional.of("store " + store.getStoreId() + ": " + e.getMessage());
            }
            return Optional.empty();
        }
        if (request.getController().hasReplaceReplica()) {
            long store = request.getController().getReplaceReplica().getToStore();
            return replicas.addresses().get(store) != null ? Optional.empty()
                    : Optional.of("store " + store + " is not a member of the cluster (members: " + replicas.addresses().ids() + ")");
        }
        if (!request.getController().hasJoin()) {
            return Optional.empty();
        }
        for (io.loomkv.core.shard.proto.GroupReplicas group : request.getController().getJoin().getGroupsList()) {
            for (long store : group.getStoreIdsList()) {
                if (replicas.addresses().get(store) == null) {
                    return Optional.of("group " + group.getGroupId() + " names store " + store
                            + ", which is not a member of the cluster (members: " + replicas.addresses().ids() + ")");
                }
            }
        }
        return Optional.empty();
    }

    /** A client's write of keys (not a session, controller or slot-migration command, which must go on). */
    private static boolean isClientDataWrite(KvRequest request) {
        return switch (request.getOpCase()) {
            case PUT, APPEND, DELETE, COMPARE_AND_SET, MULTI_PUT, EXPIRE -> true;
            default -> false;
        };
    }

    private static KvReply withGroup(KvReply reply, long groupId) {
        return reply.toBuilder().setGroupId(groupId).build();
    }

    CompletionStage<LayoutReply> layout(LayoutRequest request, CallContext context) {
        SlotLayout layout = replicas.layout();
        LayoutReply.Builder reply = LayoutReply.newBuilder().setLayout(layout.toProto())
                .setStoreId(config.nodeId()).setRespAddress(advertisedRespAddress(config));
        for (MemberAddress address : replicas.addresses().all()) {
            reply.addStores(StoreAddress.newBuilder().setStoreId(address.id())
                    .setClientAddress(MemberAddress.format(address.clientAddress()))
                    .setPeerAddress(MemberAddress.format(address.peerAddress())));
        }
        reply.addAllControllerStoreIds(replicas.controllerStores());
        Replica controller = replicas.replica(GroupIds.CONTROLLER_GROUP_ID);
        if (controller != null) {
            reply.addGroups(view(controller));
        }
        for (long group : layout.groups()) {
            Replica replica = replicas.replica(group);
            reply.addGroups(replica == null ? GroupView.newBuilder().setGroupId(group).setRole("NONE").build()
                    : view(replica));
        }
        return done(reply.build());
    }

    /** The stores' reports when this store leads the shard controller; otherwise a hint at the one that does. */
    CompletionStage<StoreReportsReply> storeReports(StoreReportsRequest request, CallContext context) {
        Replica controller = replicas.replica(GroupIds.CONTROLLER_GROUP_ID);
        if (controller != null && controller.state().isLeader() && !controller.state().removed()) {
            return done(StoreReportsReply.newBuilder().setLeader(true).setLeaderId(config.nodeId())
                    .addAllStores(replicas.reports().view(System.nanoTime())).build());
        }
        StoreReportsReply.Builder reply = StoreReportsReply.newBuilder().setLeader(false);
        long leader = controller == null ? 0 : controller.state().leaderId();
        MemberAddress address = leader == 0 ? null : replicas.addresses().get(leader);
        if (address != null) {
            reply.setLeaderId(leader).setLeaderAddress(MemberAddress.format(address.clientAddress()));
        }
        return done(reply.build());
    }

    /**
     * The RESP address peers and clients are told: the configured one, with a wildcard host
     * (0.0.0.0, ::) replaced by the client address's host, which clients can reach.
     */
    static String advertisedRespAddress(NodeConfig config) {
        InetSocketAddress resp = config.respAddress();
        if (resp == null) {
            return "";
        }
        String host = resp.getAddress() != null && resp.getAddress().isAnyLocalAddress()
                ? config.clientAddress().getHostString() : resp.getHostString();
        return host + ":" + resp.getPort();
    }

    /** A replica's view of its group from the published state only (no turn needed, so a quiet group stays quiet). */
    static GroupView view(Replica replica) {
        ReplicaState state = replica.state();
        String role = state.failure() != null ? "FAILED" : state.removed() ? "REMOVED" : state.role().name();
        return GroupView.newBuilder().setGroupId(replica.groupId()).setLeaderId(state.leaderId()).setRole(role)
                .setAppliedIndex(state.appliedIndex()).setSnapshotIndex(replica.lastSnapshotIndex())
                .setQuiet(replica.isQuiet()).setConfigNumber(replica.configNumber()).setMovingSlots(replica.movingSlots())
                // The membership as applied (published, wakes nothing): ctl config wait compares it with the configuration.
                .addAllVoters(replica.confState().getVotersList()).addAllLearners(replica.confState().getLearnersList()).build();
    }

    CompletionStage<NodeStatusReply> status(NodeStatusRequest request, CallContext context) {
        if (request.getController() && request.getGroupId() != 0) {
            return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_BAD_REQUEST,
                    "a status request for the shard controller names no other group, got group " + request.getGroupId()));
        }
        Replica target = request.getController() ? replicas.replica(GroupIds.CONTROLLER_GROUP_ID)
                : request.getGroupId() != 0 ? replicas.replica(request.getGroupId()) : first();
        if (target == null) {
            return CompletableFuture.failedFuture(new RpcException(ErrorReply.Code.CODE_BAD_REQUEST,
                    "store " + config.nodeId() + " hosts no replica of "
                            + (request.getController() ? "the shard controller (group 0)" : "group " + request.getGroupId())));
        }
        return onTurn(target, false, reply -> node -> {
            var status = node.status();
            ReplicaState state = target.state();
            NodeStatusReply.Builder builder = NodeStatusReply.newBuilder()
                    .setNodeId(config.nodeId())
                    .setRole(state.removed() ? "REMOVED" : status.role().name())
                    .setTerm(status.term())
                    .setCommitIndex(status.commitIndex())
                    .setAppliedIndex(state.appliedIndex())
                    .setLeaderId(status.leaderId())
                    .setLastIndex(status.lastIndex())
                    .setSnapshotIndex(target.lastSnapshotIndex())
                    .setLayoutVersion(replicas.layout().version())
                    .setWalForceCount(replicas.walForceCount());
            MemberAddress leader = status.leaderId() == 0 ? null : replicas.addresses().get(status.leaderId());
            if (leader != null) {
                builder.setLeaderAddress(MemberAddress.format(leader.clientAddress()));
            }
            var conf = status.confState();
            for (long id : conf.getVotersList()) {
                builder.addMembers(member(id, false));
            }
            for (long id : conf.getLearnersList()) {
                builder.addMembers(member(id, true));
            }
            for (Replica replica : replicas.all()) {
                GroupView view = replica == target ? detailedView(target, status) : view(replica);
                if (request.getAuditSlots() && replica.groupId() != GroupIds.CONTROLLER_GROUP_ID) {
                    view = view.toBuilder().addAllStraySlots(replica.straySlots(MAX_STRAY_SLOTS_LISTED)).build();
                }
                builder.addGroups(view);
            }
            reply.complete(builder.build());
        });
    }

    private static GroupView detailedView(Replica replica, io.loomkv.core.raft.Status status) {
        // The node's own membership on its turn replaces the published one the plain view carries.
        return view(replica).toBuilder().clearVoters().clearLearners().setTerm(status.term()).setCommitIndex(status.commitIndex())
                .setLastIndex(status.lastIndex()).addAllVoters(status.confState().getVotersList())
                .addAllLearners(status.confState().getLearnersList()).build();
    }

    /** The replica STATUS describes when no group is named: the first data group here, else the controller. */
    private Replica first() {
        Replica controller = null;
        for (Replica replica : replicas.all()) {
            if (replica.groupId() != GroupIds.CONTROLLER_GROUP_ID) {
                return replica;
            }
            controller = replica;
        }
        return controller;
    }

    private MemberInfo member(long id, boolean learner) {
        MemberInfo.Builder info = MemberInfo.newBuilder().setId(id).setLearner(learner);
        MemberAddress address = replicas.addresses().get(id);
        if (address != null) {
            info.setClientAddress(MemberAddress.format(address.clientAddress()))
                    .setPeerAddress(MemberAddress.format(address.peerAddress()));
        }
        return info.build();
    }

    CompletionStage<AdminReply> memberChange(MemberChangeRequest request, CallContext context) {
        if (request.getNodeId() <= 0) {
            return done(admin(false, "node_id must be positive"));
        }
        ConfChange.Builder change = ConfChange.newBuilder();
        switch (request.getKind()) {
            case ADD -> {
                MemberAddress address;
                try {
                    address = new MemberAddress(request.getNodeId(), MemberAddress.parseHostPort(request.getClientAddress()),
                            MemberAddress.parseHostPort(request.getPeerAddress()));
                } catch (IllegalArgumentException e) {
                    return done(admin(false, "bad address: " + e.getMessage()));
                }
                change.addChanges(single(ConfChangeType.CONF_CHANGE_ADD_LEARNER_NODE, request.getNodeId()))
                        .setContext(ByteString.copyFrom(address.toContext()));
            }
            case REMOVE -> change.addChanges(single(ConfChangeType.CONF_CHANGE_REMOVE_NODE, request.getNodeId()));
            default -> {
                return done(admin(false, "kind must be ADD or REMOVE, got " + request.getKind()));
            }
        }
        ConfChange built = change.build();
        if (ReplicaPlacementDriver.managed(replicas.layout(), request.getGroupId())) {
            return done(admin(false, "group " + request.getGroupId() + "'s stores are set by the shard controller since one of"
                    + " its replicas moved (its leader would undo this change): use ctl config move-replica"));
        }
        return onLeader(request.getGroupId(), false, reply -> node -> {
            var conf = node.status().confState();
            boolean member = conf.getVotersList().contains(request.getNodeId())
                    || conf.getLearnersList().contains(request.getNodeId());
            if (request.getKind() == MemberChangeRequest.Kind.ADD && member) {
                reply.complete(admin(false, "node " + request.getNodeId() + " is already a member"));
                return;
            }
            if (request.getKind() == MemberChangeRequest.Kind.REMOVE && !member) {
                reply.complete(admin(false, "node " + request.getNodeId() + " is not a member"));
                return;
            }
            try {
                node.proposeConfChange(built);
                reply.complete(admin(true, request.getKind() == MemberChangeRequest.Kind.ADD
                        ? "proposed node " + request.getNodeId() + " as a learner; it becomes a voter once caught up"
                        : "proposed removing node " + request.getNodeId()));
            } catch (RequestDroppedException e) {
                // Raft drops a proposal only for a passing state: a leadership transfer (at most an
                // election timeout; the balancer starts them at any time), a conf change not yet
                // applied, or a leader that stepped down since the client found it. Say so as a
                // pause, not a refusal, so the client asks again (at the next leader if there is one).
                reply.complete(retrySoon("change not accepted now: " + e.getMessage()));
            }
        });
    }

    CompletionStage<AdminReply> transferLeader(TransferLeaderRequest request, CallContext context) {
        if (request.getController() && request.getGroupId() != 0) {
            return done(admin(false, "a leadership transfer of the shard controller names no other group, got group "
                    + request.getGroupId()));
        }
        // group_id 0 means "the only data group", so the controller group is asked for by the flag.
        long group = request.getController() ? GroupIds.CONTROLLER_GROUP_ID : request.getGroupId();
        return onLeader(group, request.getController(), reply -> node -> {
            if (!node.status().confState().getVotersList().contains(request.getTargetId())) {
                reply.complete(admin(false, "node " + request.getTargetId() + " is not a voter"));
                return;
            }
            try {
                node.transferLeader(request.getTargetId());
                reply.complete(admin(true, "leadership transfer to node " + request.getTargetId() + " started"));
            } catch (RequestDroppedException e) {
                reply.complete(retrySoon("transfer not accepted now: " + e.getMessage()));
            }
        });
    }

    private static ConfChangeSingle single(ConfChangeType type, long id) {
        return ConfChangeSingle.newBuilder().setType(type).setNodeId(id).build();
    }

    /**
     * The replica of {@code groupId} (0: the only data group of a single-group layout, unless
     * {@code controller} says group 0 itself is meant), or a refusal.
     */
    private CompletionStage<AdminReply> onLeader(long groupId, boolean controller,
            Function<CompletableFuture<AdminReply>, Consumer<RaftNode>> action) {
        SlotLayout layout = replicas.layout();
        long group = groupId;
        if (group == 0 && !controller) {
            if (layout.groups().size() != 1) {
                return done(admin(false, "this cluster has " + layout.groups().size() + " groups: name one (--group)"));
            }
            group = layout.groups().iterator().next();
        }
        Replica replica = replicas.replica(group);
        if (replica == null) {
            return done(admin(false, "store " + config.nodeId() + " hosts no replica of "
                    + (controller ? "the shard controller (group 0)" : "group " + group)));
        }
        return onTurn(replica, true, reply -> node -> {
            if (!replica.state().leadsNow(node) || replica.state().removed()) {
                KvReply redirect = replica.notLeader();
                reply.complete(AdminReply.newBuilder().setOk(false).setMessage("not the leader")
                        .setLeaderId(redirect.getLeaderId()).setLeaderAddress(redirect.getLeaderAddress()).build());
                return;
            }
            action.apply(reply).accept(node);
        });
    }

    private <T> CompletionStage<T> onTurn(Replica replica, boolean admin,
            Function<CompletableFuture<T>, Consumer<RaftNode>> action) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!replica.submit(new LoopInput.Control(action.apply(reply)))) {
            reply.completeExceptionally(new RpcException(ErrorReply.Code.CODE_UNAVAILABLE,
                    replica.name() + " is overloaded or stopping"));
            return reply;
        }
        return reply.orTimeout(config.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    private static AdminReply admin(boolean ok, String message) {
        return AdminReply.newBuilder().setOk(ok).setMessage(message).build();
    }

    /** Not done, for a passing reason: the client asks again within its deadline. */
    private static AdminReply retrySoon(String message) {
        return AdminReply.newBuilder().setOk(false).setRetrySoon(true).setMessage(message).build();
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
