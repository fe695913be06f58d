package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Delete;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MultiGet;
import io.loomkv.core.kv.proto.MultiPut;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.kv.proto.Scan;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Checks requests and commands against {@link KvLimits} and the rules of each operation. Every
 * check returns the reason a request is refused, or empty when it is valid; it never throws on
 * bad input.
 *
 * <p>The service checks a request when it arrives (so a bad write is never proposed), and the
 * state machine checks each command again when it applies it (so a bad log entry is refused the
 * same way on every replica instead of changing state).
 */
public final class KvValidator {

    private final KvLimits limits;

    public KvValidator(KvLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    public KvLimits limits() {
        return limits;
    }

    /** Checks a client request: its encoded size, its operation, and its session fields for writes. */
    public Optional<String> checkRequest(KvRequest request) {
        int sizeBytes = request.getSerializedSize();
        if (sizeBytes > limits.maxRequestBytes()) {
            return fail("request of " + sizeBytes + " bytes exceeds maxRequestBytes " + limits.maxRequestBytes());
        }
        String error = switch (request.getOpCase()) {
            case OP_NOT_SET -> "request has no operation";
            case GET -> checkGet(request.getGet());
            case MULTI_GET -> checkMultiGet(request.getMultiGet());
            case SCAN -> checkScan(request.getScan());
            case OPEN_SESSION -> null;
            case PUT -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkPut(request.getPut()));
            case APPEND -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkAppend(request.getAppend()));
            case DELETE -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkDelete(request.getDelete()));
            case COMPARE_AND_SET -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkCompareAndSet(request.getCompareAndSet()));
            case MULTI_PUT -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkMultiPut(request.getMultiPut()));
            case EXPIRE -> firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkExpire(request.getExpire()));
            case CONTROLLER -> KvCommands.isControllerQuery(request) ? null : firstError(
                    checkSession(request.getClientId(), request.getSequence(), request.getAcknowledgedBelow()),
                    checkClientControllerCommand(request.getController()));
            // The stores' own requests; the service refuses them from clients before this.
            case MIGRATION_WRITE -> request.getClientId() != 0 || request.getSequence() != 0
                    ? "a migration write is session-less" : request.getGroupId() == 0
                    ? "a migration write names its group" : null;
            case MIGRATION_READ -> request.getGroupId() == 0 ? "a migration read names its group" : null;
        };
        return Optional.ofNullable(error);
    }

    /** Checks a replicated command: its envelope ({@link #checkEnvelope}) and its operation. */
    public Optional<String> checkCommand(Command command) {
        Optional<String> envelope = checkEnvelope(command);
        return envelope.isPresent() ? envelope : checkOperation(command);
    }

    /**
     * Checks what the state machine needs before it can even look up the session: a timestamp,
     * an operation, and session fields that fit the operation.
     */
    public Optional<String> checkEnvelope(Command command) {
        if (command.getTimestampMillis() <= 0) {
            return fail("command has no valid timestamp_millis (the leader stamps every proposal), got "
                    + Long.toUnsignedString(command.getTimestampMillis()));
        }
        String error = switch (command.getOpCase()) {
            case OP_NOT_SET -> "command has no operation";
            case OPEN_SESSION -> command.getClientId() != 0 || command.getSequence() != 0
                    ? "open_session must not carry client_id or sequence"
                    : null;
            case PUT, APPEND, DELETE, COMPARE_AND_SET, MULTI_PUT, EXPIRE -> checkCommandSession(command);
            // The bootstrap is the one session-less write: the store writes it into a new controller
            // group's log (identically on every initial replica), where no session can exist yet.
            case CONTROLLER -> isBootstrap(command) && command.getClientId() == 0 && command.getSequence() == 0
                    ? null : checkCommandSession(command);
            // Proposed by the group's leader store: session-less, checked against the slot state.
            case MIGRATION_WRITE -> command.getClientId() != 0 || command.getSequence() != 0
                    ? "a migration write must not carry client_id or sequence" : null;
        };
        return Optional.ofNullable(error);
    }

    /** Checks a command's operation against the limits and the operation's rules. */
    public Optional<String> checkOperation(Command command) {
        String error = switch (command.getOpCase()) {
            case OP_NOT_SET -> "command has no operation";
            case OPEN_SESSION -> null;
            case PUT -> checkPut(command.getPut());
            case APPEND -> checkAppend(command.getAppend());
            case DELETE -> checkDelete(command.getDelete());
            case COMPARE_AND_SET -> checkCompareAndSet(command.getCompareAndSet());
            case MULTI_PUT -> checkMultiPut(command.getMultiPut());
            case EXPIRE -> checkExpire(command.getExpire());
            case CONTROLLER -> command.getController().getOpCase() == ControllerCommand.OpCase.OP_NOT_SET
                    ? "controller command has no operation" : null; // the controller checks the rest
            case MIGRATION_WRITE -> null; // SlotMigration checks it against the slot state
        };
        return Optional.ofNullable(error);
    }

    /** Whether {@code command} is the controller bootstrap written at a controller group's creation. */
    public static boolean isBootstrap(Command command) {
        return command.getOpCase() == Command.OpCase.CONTROLLER
                && command.getController().getOpCase() == ControllerCommand.OpCase.BOOTSTRAP;
    }

    /** A controller command from a client: any but the bootstrap, which only the store writes. */
    private static String checkClientControllerCommand(ControllerCommand command) {
        return switch (command.getOpCase()) {
            case OP_NOT_SET -> "controller command has no operation";
            case BOOTSTRAP -> "the controller's bootstrap is written by the stores when the cluster is created, not by clients";
            case JOIN, LEAVE, MOVE, QUERY, REPLACE_REPLICA, ADD_STORE, FORGET_STORE -> null; // the controller checks the rest
        };
    }

    /** Checks a key: non-empty and at most {@code maxKeyBytes}. Null when valid. */
    public String checkKey(ByteString key, String what) {
        if (key.isEmpty()) {
            return what + " is empty";
        }
        if (key.size() > limits.maxKeyBytes()) {
            return what + " of " + key.size() + " bytes exceeds maxKeyBytes " + limits.maxKeyBytes();
        }
        return null;
    }

    /** Checks a value: at most {@code maxValueBytes} (empty values are allowed). Null when valid. */
    public String checkValue(ByteString value, String what) {
        if (value.size() > limits.maxValueBytes()) {
            return what + " of " + value.size() + " bytes exceeds maxValueBytes " + limits.maxValueBytes();
        }
        return null;
    }

    private String checkCommandSession(Command command) {
        return checkSession(command.getClientId(), command.getSequence(), command.getAcknowledgedBelow());
    }

    private static String checkSession(long clientId, long sequence, long acknowledgedBelow) {
        if (clientId == 0) {
            return "write has no client_id (open a session first)";
        }
        if (sequence == 0) {
            return "write has no sequence (sequences start at 1)";
        }
        if (acknowledgedBelow == 0) {
            return "write has no acknowledged_below (1 when no reply has been received)";
        }
        // Session numbers are uint64 on the wire; the upper half is refused so that Java's
        // signed longs order them correctly everywhere else.
        if (clientId < 0 || sequence < 0 || acknowledgedBelow < 0) {
            return "client_id, sequence and acknowledged_below must be below 2^63";
        }
        if (acknowledgedBelow > sequence) {
            return "acknowledged_below " + acknowledgedBelow + " is above the write's own sequence " + sequence;
        }
        return null;
    }

    private String checkGet(Get get) {
        return checkKey(get.getKey(), "key");
    }

    private String checkPut(Put put) {
        return firstError(firstError(checkKey(put.getKey(), "key"), checkValue(put.getValue(), "value")),
                Deadlines.check(put.getExpiry(), "expiry"));
    }

    private String checkExpire(Expire expire) {
        return firstError(checkKey(expire.getKey(), "key"), Deadlines.check(expire));
    }

    private String checkAppend(Append append) {
        return firstError(checkKey(append.getKey(), "key"), checkValue(append.getValue(), "value"));
    }

    private String checkDelete(Delete delete) {
        return checkKey(delete.getKey(), "key");
    }

    private String checkCompareAndSet(CompareAndSet cas) {
        String error = firstError(firstError(checkKey(cas.getKey(), "key"), checkValue(cas.getNewValue(), "new_value")),
                Deadlines.check(cas.getExpiry(), "expiry"));
        if (error != null) {
            return error;
        }
        return switch (cas.getExpectedCase()) {
            case EXPECTED_NOT_SET -> "compare_and_set needs expected_value or expect_absent";
            case EXPECT_ABSENT -> cas.getExpectAbsent() ? null : "expect_absent must be true when given";
            case EXPECTED_VALUE -> checkValue(cas.getExpectedValue(), "expected_value");
        };
    }

    private String checkMultiGet(MultiGet multiGet) {
        int count = multiGet.getKeysCount();
        if (count == 0) {
            return "multi_get has no keys";
        }
        if (count > limits.maxKeysPerMultiOp()) {
            return "multi_get has " + count + " keys, over maxKeysPerMultiOp " + limits.maxKeysPerMultiOp();
        }
        for (int i = 0; i < count; i++) {
            String error = checkKey(multiGet.getKeys(i), "keys[" + i + "]");
            if (error != null) {
                return error;
            }
        }
        return null;
    }

    private String checkMultiPut(MultiPut multiPut) {
        int count = multiPut.getEntriesCount();
        if (count == 0) {
            return "multi_put has no entries";
        }
        if (count > limits.maxKeysPerMultiOp()) {
            return "multi_put has " + count + " entries, over maxKeysPerMultiOp " + limits.maxKeysPerMultiOp();
        }
        Set<ByteString> seen = new HashSet<>(count * 2);
        long totalBytes = 0;
        for (int i = 0; i < count; i++) {
            KeyValue entry = multiPut.getEntries(i);
            // Also checked here, not only as the request's encoded size, so that a command in the
            // log is held to the same bound as the request it came from.
            totalBytes += entry.getKey().size() + entry.getValue().size();
            if (totalBytes > limits.maxRequestBytes()) {
                return "multi_put keys and values exceed maxRequestBytes " + limits.maxRequestBytes();
            }
            String error = firstError(
                    checkKey(entry.getKey(), "entries[" + i + "].key"),
                    checkValue(entry.getValue(), "entries[" + i + "].value"));
            if (error != null) {
                return error;
            }
            if (entry.getExpiresAtMillis() != 0) {
                return "entries[" + i + "].expires_at_millis is set: a multi-put gives its keys no deadline";
            }
            if (!seen.add(entry.getKey())) {
                return "multi_put has duplicate key at entries[" + i + "]";
            }
        }
        return null;
    }

    private String checkScan(Scan scan) {
        String error = switch (scan.getSelectionCase()) {
            case SELECTION_NOT_SET -> "scan needs a prefix or a range";
            case PREFIX -> checkBound(scan.getPrefix(), "prefix");
            case RANGE -> checkRange(scan.getRange().getStart(), scan.getRange().getEnd());
        };
        if (error != null) {
            return error;
        }
        int limit = scan.getLimit();
        if (limit < 0 || limit > limits.maxScanLimit()) {
            return "scan limit " + Integer.toUnsignedString(limit) + " exceeds maxScanLimit " + limits.maxScanLimit();
        }
        return checkBound(scan.getResumeAfter(), "resume_after");
    }

    private String checkRange(ByteString start, ByteString end) {
        String error = firstError(checkBound(start, "range.start"), checkBound(end, "range.end"));
        if (error != null) {
            return error;
        }
        if (!end.isEmpty() && KvKeys.compare(end, start) < 0) {
            return "range.end is before range.start";
        }
        return null;
    }

    /** Scan bounds may be empty (unbounded) but not longer than a key. */
    private String checkBound(ByteString bound, String what) {
        if (bound.size() > limits.maxKeyBytes()) {
            return what + " of " + bound.size() + " bytes exceeds maxKeyBytes " + limits.maxKeyBytes();
        }
        return null;
    }

    private static String firstError(String first, String second) {
        return first != null ? first : second;
    }

    private static Optional<String> fail(String reason) {
        return Optional.of(reason);
    }
}
