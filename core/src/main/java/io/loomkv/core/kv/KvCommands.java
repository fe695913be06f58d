package io.loomkv.core.kv;

import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.shard.controller.proto.ControllerCommand;

/** Turns a client's write request into the command the leader proposes. */
public final class KvCommands {

    private KvCommands() {}

    /**
     * Whether the request is a write (goes through the log) rather than a read. A shard controller
     * query is a read: the configurations change only through the log, so a query is served like
     * a get (linearizable through ReadIndex by default, or stale from any replica).
     */
    public static boolean isWrite(KvRequest request) {
        return switch (request.getOpCase()) {
            case PUT, APPEND, DELETE, COMPARE_AND_SET, MULTI_PUT, OPEN_SESSION -> true;
            case CONTROLLER -> !isControllerQuery(request);
            case GET, MULTI_GET, SCAN, OP_NOT_SET -> false;
        };
    }

    /** Whether the request is a shard controller query (a read of group 0). */
    public static boolean isControllerQuery(KvRequest request) {
        return request.getOpCase() == KvRequest.OpCase.CONTROLLER
                && request.getController().getOpCase() == ControllerCommand.OpCase.QUERY;
    }

    /**
     * The command for a write request, stamped with the leader's {@code timestampMillis}. The
     * caller validates the request first ({@link KvValidator#checkRequest}).
     *
     * @throws IllegalArgumentException if the request is not a write or the timestamp is not positive
     */
    public static Command fromRequest(KvRequest request, long timestampMillis) {
        if (timestampMillis <= 0) {
            throw new IllegalArgumentException("timestampMillis must be positive, got " + timestampMillis);
        }
        Command.Builder command = Command.newBuilder().setTimestampMillis(timestampMillis);
        switch (request.getOpCase()) {
            case PUT -> command.setPut(request.getPut());
            case APPEND -> command.setAppend(request.getAppend());
            case DELETE -> command.setDelete(request.getDelete());
            case COMPARE_AND_SET -> command.setCompareAndSet(request.getCompareAndSet());
            case MULTI_PUT -> command.setMultiPut(request.getMultiPut());
            case CONTROLLER -> command.setController(request.getController());
            case OPEN_SESSION -> {
                return command.setOpenSession(request.getOpenSession()).build();
            }
            case GET, MULTI_GET, SCAN, OP_NOT_SET -> throw new IllegalArgumentException(
                    request.getOpCase() + " is not a write");
        }
        return command
                .setClientId(request.getClientId())
                .setSequence(request.getSequence())
                .setAcknowledgedBelow(request.getAcknowledgedBelow())
                .build();
    }
}
