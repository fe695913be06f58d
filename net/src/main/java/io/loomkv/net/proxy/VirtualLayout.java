package io.loomkv.net.proxy;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.node.MemberAddress;
import io.loomkv.net.node.proto.NodeStatusReply;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.LayoutReply;
import io.loomkv.net.store.proto.StoreAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The cluster as a proxy's callers see it: one store (the proxy) leading one group that owns every
 * slot. A slot-aware client such as {@link io.loomkv.net.client.KvClient} asks for the layout
 * first; this one makes it send every request, unsplit, to the proxy, which splits and routes.
 * The store lists the proxy's advertised address when it has one; otherwise (it listens on a
 * wildcard address) none, and the client keeps using the address it was given.
 */
final class VirtualLayout {
    /** The proxy's store id and its group's id in the virtual layout. */
    static final long STORE_ID = 1;
    static final long GROUP_ID = 1;
    /** The role a proxy reports in status replies and group views. */
    static final String ROLE = "PROXY";

    private static final SlotLayout LAYOUT = SlotLayout.evenSplit(1, 1, List.of(STORE_ID), 1);

    private final LayoutReply layoutReply;
    private final NodeStatusReply statusReply;

    /** {@code advertised}: where callers reach the proxy, or null when it listens on a wildcard address. */
    VirtualLayout(InetSocketAddress advertised) {
        String address = advertised == null ? "" : MemberAddress.format(advertised);
        GroupView group = GroupView.newBuilder().setGroupId(GROUP_ID).setLeaderId(STORE_ID).setRole(ROLE)
                .addVoters(STORE_ID).build();
        LayoutReply.Builder layout = LayoutReply.newBuilder().setLayout(LAYOUT.toProto()).setStoreId(STORE_ID).addGroups(group)
                .addControllerStoreIds(STORE_ID);
        if (advertised != null) {
            layout.addStores(StoreAddress.newBuilder().setStoreId(STORE_ID).setClientAddress(address));
        }
        this.layoutReply = layout.build();
        this.statusReply = NodeStatusReply.newBuilder().setNodeId(STORE_ID).setRole(ROLE).setLeaderId(STORE_ID)
                .setLeaderAddress(address).addGroups(group).setLayoutVersion(LAYOUT.version()).build();
    }

    LayoutReply layoutReply() {
        return layoutReply;
    }

    NodeStatusReply statusReply() {
        return statusReply;
    }
}
