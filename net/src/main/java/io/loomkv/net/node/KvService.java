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
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.MemberInfo;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.rpc.RpcHandlers;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The client-facing methods: validates each KV request on arrival (a bad one never reaches the
 * log), sends writes to the Raft loop as proposals and reads as reads, and answers when the
 * request is applied or its deadline passes. Runs on connection reader threads and never blocks.
 */
final class KvService implements AutoCloseable {
    private final NodeConfig config;
    private final RaftLoop loop;
    private final NodeState state;
    private final Membership membership;
    private final KvValidator validator;
    private final Applier applier;
    private final PointReads pointReads;
    private final RequestDeadlines<KvReply> deadlines;

    KvService(NodeConfig config, RaftLoop loop, NodeState state, Membership membership, KvLimits limits, Applier applier,
            PointReads pointReads) {
        this.config = config;
        this.loop = loop;
        this.state = state;
        this.membership = membership;
        this.validator = new KvValidator(limits);
        this.applier = applier;
        this.pointReads = pointReads;
        this.deadlines = new RequestDeadlines<>("request-deadlines-" + config.nodeId(), config.requestTimeoutMillis(),
                KvReplies.error(Status.TIMEOUT, "no outcome within " + config.requestTimeoutMillis()
                        + " ms; a write may or may not be applied: retry with the same sequence"));
    }

    /** Times out the requests still waiting (the node is stopping). */
    @Override
    public void close() {
        deadlines.close();
    }

    RpcHandlers.Builder register(RpcHandlers.Builder builder) {
        return builder.add(NodeMethods.KV, this::execute)
                .add(NodeMethods.STATUS, this::status)
                .add(NodeMethods.MEMBER_CHANGE, this::memberChange)
                .add(NodeMethods.TRANSFER_LEADER, this::transferLeader);
    }

    CompletionStage<KvReply> execute(KvRequest request, CallContext context) {
        String unavailable = state.unavailableReason();
        if (unavailable != null) {
            return done(KvReplies.error(Status.UNAVAILABLE, unavailable));
        }
        Optional<String> error = validator.checkRequest(request);
        if (error.isPresent()) {
            return done(KvReplies.invalidArgument(error.get()));
        }
        CompletableFuture<KvReply> reply = new CompletableFuture<>();
        LoopInput input;
        if (KvCommands.isWrite(request)) {
            if (!state.isLeader()) {
                return done(loop.notLeader());
            }
            // The loop restamps the timestamp when it proposes; this one only satisfies the builder's check.
            input = new LoopInput.Propose(KvCommands.fromRequest(request, System.currentTimeMillis()), reply);
        } else if (request.getConsistency() == ReadConsistency.SERIALIZABLE && PointReads.isPointRead(request)) {
            // A stale single-key read needs neither the loop nor the apply thread.
            return done(pointReads.read(request));
        } else {
            input = new LoopInput.Read(request, reply);
        }
        if (!loop.submit(input)) {
            return done(KvReplies.error(Status.UNAVAILABLE, "node " + config.nodeId() + " is overloaded or stopping; retry"));
        }
        return deadlines.track(reply);
    }

    CompletionStage<NodeStatusReply> status(NodeStatusRequest request, CallContext context) {
        return onLoop(reply -> node -> {
            var status = node.status();
            NodeStatusReply.Builder builder = NodeStatusReply.newBuilder()
                    .setNodeId(config.nodeId())
                    .setRole(state.removed() ? "REMOVED" : status.role().name())
                    .setTerm(status.term())
                    .setCommitIndex(status.commitIndex())
                    .setAppliedIndex(state.appliedIndex())
                    .setLeaderId(status.leaderId())
                    .setLastIndex(status.lastIndex())
                    .setSnapshotIndex(applier.lastSnapshotIndex());
            MemberAddress leader = status.leaderId() == 0 ? null : membership.get(status.leaderId());
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
            reply.complete(builder.build());
        });
    }

    private MemberInfo member(long id, boolean learner) {
        MemberInfo.Builder info = MemberInfo.newBuilder().setId(id).setLearner(learner);
        MemberAddress address = membership.get(id);
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
        return onLeader(reply -> node -> {
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
                reply.complete(admin(false, "change not accepted now: " + e.getMessage()));
            }
        });
    }

    CompletionStage<AdminReply> transferLeader(TransferLeaderRequest request, CallContext context) {
        return onLeader(reply -> node -> {
            if (!node.status().confState().getVotersList().contains(request.getTargetId())) {
                reply.complete(admin(false, "node " + request.getTargetId() + " is not a voter"));
                return;
            }
            node.transferLeader(request.getTargetId());
            reply.complete(admin(true, "leadership transfer to node " + request.getTargetId() + " started"));
        });
    }

    private static ConfChangeSingle single(ConfChangeType type, long id) {
        return ConfChangeSingle.newBuilder().setType(type).setNodeId(id).build();
    }

    private CompletionStage<AdminReply> onLeader(
            java.util.function.Function<CompletableFuture<AdminReply>, Consumer<RaftNode>> action) {
        return onLoop(reply -> node -> {
            if (!state.isLeader() || state.removed()) {
                KvReply redirect = loop.notLeader();
                reply.complete(AdminReply.newBuilder().setOk(false).setMessage("not the leader")
                        .setLeaderId(redirect.getLeaderId()).setLeaderAddress(redirect.getLeaderAddress()).build());
                return;
            }
            action.apply(reply).accept(node);
        });
    }

    private <T> CompletionStage<T> onLoop(java.util.function.Function<CompletableFuture<T>, Consumer<RaftNode>> action) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!loop.submit(new LoopInput.Control(action.apply(reply)))) {
            reply.completeExceptionally(new io.loomkv.net.rpc.RpcException(
                    io.loomkv.net.proto.ErrorReply.Code.CODE_UNAVAILABLE, "node is overloaded or stopping"));
            return reply;
        }
        return reply.orTimeout(config.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    private static AdminReply admin(boolean ok, String message) {
        return AdminReply.newBuilder().setOk(ok).setMessage(message).build();
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
