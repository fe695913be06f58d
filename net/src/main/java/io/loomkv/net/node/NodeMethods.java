package io.loomkv.net.node;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.net.node.proto.AdminReply;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.RemovalQuery;
import io.loomkv.net.node.proto.RemovedNotice;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.store.proto.GroupSnapshotReply;
import io.loomkv.net.store.proto.GroupSnapshotRequest;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.LayoutRequest;
import io.loomkv.net.store.proto.RaftBatch;
import io.loomkv.net.store.proto.StoreHeartbeat;
import io.loomkv.net.store.proto.StoreReport;
import io.loomkv.net.store.proto.StoreReportsReply;
import io.loomkv.net.store.proto.StoreReportsRequest;
import io.loomkv.net.rpc.MethodAccess;
import io.loomkv.net.rpc.OneWayMethod;
import io.loomkv.net.rpc.RpcMethod;

/** The RPC methods a node serves; the client library and the peers use the same constants. */
public final class NodeMethods {
    /** Client-facing service: KV requests and administration. */
    public static final int KV_SERVICE_ID = 1;
    /** Peer-only service: Raft messages. */
    public static final int RAFT_SERVICE_ID = 2;

    public static final RpcMethod<KvRequest, KvReply> KV = new RpcMethod<>(
            KV_SERVICE_ID, 1, "loomkv.kv.Execute", KvRequest.parser(), KvReply.parser(), MethodAccess.ANY);
    public static final RpcMethod<NodeStatusRequest, NodeStatusReply> STATUS = new RpcMethod<>(
            KV_SERVICE_ID, 2, "loomkv.node.Status", NodeStatusRequest.parser(), NodeStatusReply.parser(),
            MethodAccess.ANY);
    public static final RpcMethod<MemberChangeRequest, AdminReply> MEMBER_CHANGE = new RpcMethod<>(
            KV_SERVICE_ID, 3, "loomkv.node.MemberChange", MemberChangeRequest.parser(), AdminReply.parser(),
            MethodAccess.ANY);
    public static final RpcMethod<TransferLeaderRequest, AdminReply> TRANSFER_LEADER = new RpcMethod<>(
            KV_SERVICE_ID, 4, "loomkv.node.TransferLeader", TransferLeaderRequest.parser(), AdminReply.parser(),
            MethodAccess.ANY);

    /** The layout (slots to groups, groups to stores) and this store's view of every group. */
    public static final RpcMethod<LayoutRequest, LayoutReply> LAYOUT = new RpcMethod<>(
            KV_SERVICE_ID, 5, "loomkv.store.Layout", LayoutRequest.parser(), LayoutReply.parser(), MethodAccess.ANY);

    /** The stores' latest reports, from the shard controller's leader. */
    public static final RpcMethod<StoreReportsRequest, StoreReportsReply> STORE_REPORTS = new RpcMethod<>(
            KV_SERVICE_ID, 9, "loomkv.store.StoreReports", StoreReportsRequest.parser(), StoreReportsReply.parser(),
            MethodAccess.ANY);

    /** A group's snapshot file from its leader, in chunks: what {@code ctl snapshot save} backs up. */
    public static final RpcMethod<GroupSnapshotRequest, GroupSnapshotReply> GROUP_SNAPSHOT = new RpcMethod<>(
            KV_SERVICE_ID, 10, "loomkv.store.GroupSnapshot", GroupSnapshotRequest.parser(), GroupSnapshotReply.parser(),
            MethodAccess.ANY);

    /**
     * Store to store: a KV request that may carry slot-migration operations (exports, progress,
     * and shard controller queries), answered like a client's; clients cannot call it.
     */
    public static final RpcMethod<KvRequest, KvReply> MIGRATION = new RpcMethod<>(
            RAFT_SERVICE_ID, 10, "loomkv.store.Migration", KvRequest.parser(), KvReply.parser(), MethodAccess.PEER_ONLY);

    /** Raft messages of any number of groups for one store, in one frame. */
    public static final OneWayMethod<RaftBatch> RAFT_BATCH = new OneWayMethod<>(
            RAFT_SERVICE_ID, 1, "loomkv.store.RaftBatch", RaftBatch.parser(), MethodAccess.PEER_ONLY);
    public static final OneWayMethod<RemovedNotice> REMOVED_NOTICE = new OneWayMethod<>(
            RAFT_SERVICE_ID, 2, "loomkv.node.RemovedNotice", RemovedNotice.parser(), MethodAccess.PEER_ONLY);
    public static final OneWayMethod<RemovalQuery> REMOVAL_QUERY = new OneWayMethod<>(
            RAFT_SERVICE_ID, 4, "loomkv.store.RemovalQuery", RemovalQuery.parser(), MethodAccess.PEER_ONLY);
    /** "I am alive": sent to a peer store in a tick in which nothing else was sent to it. */
    public static final OneWayMethod<StoreHeartbeat> STORE_HEARTBEAT = new OneWayMethod<>(
            RAFT_SERVICE_ID, 3, "loomkv.store.StoreHeartbeat", StoreHeartbeat.parser(), MethodAccess.PEER_ONLY);
    /** A store's periodic report to the shard controller's leader. */
    public static final OneWayMethod<StoreReport> STORE_REPORT = new OneWayMethod<>(
            RAFT_SERVICE_ID, 9, "loomkv.store.StoreReport", StoreReport.parser(), MethodAccess.PEER_ONLY);

    private NodeMethods() {
    }
}
