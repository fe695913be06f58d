package io.loomkv.core.kv;

import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.Status;

/** Small constructors for replies that carry only a status and a message. */
public final class KvReplies {

    private KvReplies() {}

    public static KvReply error(Status status, String message) {
        if (status == Status.OK || status == Status.STATUS_UNSPECIFIED) {
            throw new IllegalArgumentException("not an error status: " + status);
        }
        return KvReply.newBuilder().setStatus(status).setMessage(message).build();
    }

    public static KvReply invalidArgument(String message) {
        return error(Status.INVALID_ARGUMENT, message);
    }

    /** A service-level redirect: this node is not the leader. {@code leaderId} 0 means unknown. */
    public static KvReply notLeader(long leaderId, String leaderAddress) {
        return KvReply.newBuilder()
                .setStatus(Status.NOT_LEADER)
                .setMessage(leaderId == 0 ? "not the leader; leader unknown" : "not the leader")
                .setLeaderId(leaderId)
                .setLeaderAddress(leaderAddress == null ? "" : leaderAddress)
                .build();
    }
}
