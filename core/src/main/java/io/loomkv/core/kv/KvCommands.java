package io.loomkv.core.kv;

import io.loomkv.core.shard.Slots;
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
            case PUT, APPEND, DELETE, COMPARE_AND_SET, MULTI_PUT, EXPIRE, OPEN_SESSION, MIGRATION_WRITE -> true;
            case CONTROLLER -> !isControllerQuery(request);
            case GET, MULTI_GET, SCAN, MIGRATION_READ, OP_NOT_SET -> false;
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
            case EXPIRE -> command.setExpire(request.getExpire());
            case CONTROLLER -> command.setController(request.getController());
            case OPEN_SESSION -> {
                return command.setOpenSession(request.getOpenSession()).build();
            }
            case MIGRATION_WRITE -> {
                return command.setMigrationWrite(request.getMigrationWrite()).build();
            }
            case GET, MULTI_GET, SCAN, MIGRATION_READ, OP_NOT_SET -> throw new IllegalArgumentException(
                    request.getOpCase() + " is not a write");
        }
        return command
                .setClientId(request.getClientId())
                .setSequence(request.getSequence())
                .setAcknowledgedBelow(request.getAcknowledgedBelow())
                .build();
    }

    /**
     * The slots a data write touches, distinct, in the order of its keys (none for other commands):
     * its cached reply is tagged with them so it moves with the slots.
     */
    public static int[] writtenSlots(Command command) {
        return switch (command.getOpCase()) {
            case PUT -> new int[] {Slots.slotOf(command.getPut().getKey())};
            case APPEND -> new int[] {Slots.slotOf(command.getAppend().getKey())};
            case DELETE -> new int[] {Slots.slotOf(command.getDelete().getKey())};
            case COMPARE_AND_SET -> new int[] {Slots.slotOf(command.getCompareAndSet().getKey())};
            case EXPIRE -> new int[] {Slots.slotOf(command.getExpire().getKey())};
            case MULTI_PUT -> command.getMultiPut().getEntriesList().stream()
                    .mapToInt(entry -> Slots.slotOf(entry.getKey())).distinct().toArray();
            case OPEN_SESSION, CONTROLLER, MIGRATION_WRITE, OP_NOT_SET -> new int[0];
        };
    }
}
