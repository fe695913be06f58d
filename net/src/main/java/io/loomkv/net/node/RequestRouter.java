package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvReplies;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.Slots;
import java.util.List;
import java.util.TreeSet;

/**
 * Which group a KV request belongs to: its keys' slots under the layout (Redis Cluster's CRC16
 * with hash tags), checked against the group the request names, if any. A multi-key request must
 * stay within one group (atomicity holds within a group only; keys with a common hash tag always
 * share one); a scan names its group on a sharded store, since its keys are not known up front.
 */
final class RequestRouter {

    /** The group, or the reply that refuses the request. */
    record Route(long groupId, KvReply refusal) {
        static Route to(long groupId) {
            return new Route(groupId, null);
        }

        static Route refuse(KvReply reply) {
            return new Route(0, reply);
        }
    }

    private RequestRouter() {
    }

    static Route route(KvRequest request, SlotLayout layout) {
        long named = request.getGroupId();
        return switch (request.getOpCase()) {
            case GET -> single(request.getGet().getKey(), named, layout);
            case PUT -> single(request.getPut().getKey(), named, layout);
            case APPEND -> single(request.getAppend().getKey(), named, layout);
            case DELETE -> single(request.getDelete().getKey(), named, layout);
            case COMPARE_AND_SET -> single(request.getCompareAndSet().getKey(), named, layout);
            case EXPIRE -> single(request.getExpire().getKey(), named, layout);
            case MULTI_GET -> multi(request.getMultiGet().getKeysList(), named, layout);
            case MULTI_PUT -> multi(request.getMultiPut().getEntriesList().stream().map(KeyValue::getKey).toList(), named, layout);
            case OPEN_SESSION -> request.getOpenSession().getController()
                    ? controller(named, layout)
                    : named(named, layout, "open_session");
            case SCAN -> named(named, layout, "scan");
            case MIGRATION_READ, MIGRATION_WRITE -> named != 0 ? Route.to(named)
                    : Route.refuse(KvReplies.invalidArgument("a slot migration request names its group"));
            case CONTROLLER -> controller(named, layout);
            case OP_NOT_SET -> Route.refuse(KvReplies.invalidArgument("request has no operation"));
        };
    }

    /** Group 0; a request that names another group is refused. */
    private static Route controller(long named, SlotLayout layout) {
        if (named != 0) {
            return Route.refuse(wrongGroup(layout, "shard controller requests go to group 0, not to group " + named));
        }
        return Route.to(GroupIds.CONTROLLER_GROUP_ID);
    }

    private static Route single(ByteString key, long named, SlotLayout layout) {
        long group = layout.groupOf(Slots.slotOf(key));
        if (named != 0 && named != group) {
            return Route.refuse(wrongGroup(layout, "key's slot " + Slots.slotOf(key) + " belongs to group " + group
                    + ", not to group " + named));
        }
        return Route.to(group);
    }

    private static Route multi(List<ByteString> keys, long named, SlotLayout layout) {
        if (keys.isEmpty()) {
            return named(named, layout, "multi-key request");
        }
        TreeSet<Long> groups = new TreeSet<>();
        for (ByteString key : keys) {
            groups.add(layout.groupOf(Slots.slotOf(key)));
        }
        if (named != 0 && (groups.size() > 1 || groups.first() != named)) {
            return Route.refuse(wrongGroup(layout, "keys belong to groups " + groups + ", not to group " + named));
        }
        if (groups.size() > 1) {
            return Route.refuse(KvReplies.invalidArgument("the keys of a multi-key request span groups " + groups
                    + ": send one request per group (the Java client splits them; keys with a common {hash tag} share a group)"));
        }
        return Route.to(groups.first());
    }

    private static Route named(long named, SlotLayout layout, String what) {
        if (named != 0) {
            if (!layout.hasGroup(named)) {
                return Route.refuse(wrongGroup(layout, "group " + named + " is not in layout " + layout.version()));
            }
            return Route.to(named);
        }
        if (layout.groups().size() == 1) {
            return Route.to(layout.groups().iterator().next());
        }
        return Route.refuse(KvReplies.invalidArgument("a " + what + " on a sharded store must name its group (group_id); "
                + "the Java client does this for you"));
    }

    static KvReply wrongGroup(SlotLayout layout, String why) {
        return KvReply.newBuilder().setStatus(Status.WRONG_GROUP).setLayoutVersion(layout.version())
                .setMessage(why + " (layout " + layout.version() + "); refresh the layout").build();
    }
}
