package io.loomkv.core.raft.sim;

import io.loomkv.core.raft.proto.Message;

/** One-line descriptions of messages for the verbose trace ({@code -Dloomkv.sim.trace=true}). */
final class SimTrace {

    private SimTrace() {}

    static String describe(Message message) {
        StringBuilder text = new StringBuilder()
                .append(message.getType()).append(' ')
                .append(message.getFrom()).append("->").append(message.getTo())
                .append(" term=").append(message.getTerm());
        switch (message.getType()) {
            case MSG_APP -> text.append(" prev=").append(message.getIndex()).append('/').append(message.getLogTerm())
                    .append(" entries=").append(message.getEntriesCount())
                    .append(" commit=").append(message.getCommit());
            case MSG_APP_RESP -> text.append(" index=").append(message.getIndex())
                    .append(message.getReject() ? " reject hint=" + message.getRejectHint() + "/" + message.getRejectHintTerm() : "");
            case MSG_VOTE, MSG_PRE_VOTE -> text.append(" last=").append(message.getIndex()).append('/')
                    .append(message.getLogTerm());
            case MSG_VOTE_RESP, MSG_PRE_VOTE_RESP -> text.append(message.getReject() ? " reject" : " grant");
            case MSG_HEARTBEAT -> text.append(" commit=").append(message.getCommit());
            case MSG_SNAP -> text.append(" snap=").append(message.getSnapshot().getIndex()).append('/')
                    .append(message.getSnapshot().getTerm()).append(" offset=").append(message.getSnapshotOffset())
                    .append(" bytes=").append(message.getSnapshotChunk().size())
                    .append(message.getSnapshotDone() ? " done" : "");
            default -> {
                // The common fields say enough.
            }
        }
        return text.toString();
    }
}
