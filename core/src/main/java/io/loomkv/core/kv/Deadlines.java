package io.loomkv.core.kv;

import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireCondition;
import io.loomkv.core.kv.proto.Expiry;

/**
 * The rules of key deadlines (docs/ttl.md): their bounds, and the deadline a write gives a key,
 * computed from the log clock so that every replica computes the same one.
 */
public final class Deadlines {
    /** 9999-12-31T23:59:59.999Z: far enough for any use, and a deadline plus a TTL cannot overflow. */
    public static final long MAX_DEADLINE_MILLIS = 253_402_300_799_999L;
    /** 100 years. */
    public static final long MAX_TTL_MILLIS = 3_155_760_000_000L;
    /** What {@link #deadline} returns for "keep the key's deadline". */
    static final long KEEP = -1;

    private Deadlines() {}

    /** Why an expiry is refused, or null when it is valid (an unset one is: it means "no deadline"). */
    static String check(Expiry expiry, String what) {
        return switch (expiry.getDeadlineCase()) {
            case DEADLINE_NOT_SET -> null;
            case TTL_MILLIS -> checkTtl(expiry.getTtlMillis(), what + ".ttl_millis");
            case AT_UNIX_MILLIS -> checkAt(expiry.getAtUnixMillis(), what + ".at_unix_millis");
            case KEEP -> expiry.getKeep() ? null : what + ".keep must be true when given";
        };
    }

    /** Why an expire operation is refused, or null. */
    static String check(Expire expire) {
        if (expire.getConditionValue() < 0 || expire.getConditionValue() > ExpireCondition.IF_EARLIER_THAN_SOME_VALUE) {
            return "expire condition " + expire.getConditionValue() + " is not one of ALWAYS, IF_NONE, IF_SOME, IF_LATER,"
                    + " IF_EARLIER, IF_EARLIER_THAN_SOME";
        }
        if (expire.hasPersist() && expire.getCondition() != ExpireCondition.ALWAYS) {
            return "persist takes no condition";
        }
        return switch (expire.getChangeCase()) {
            case CHANGE_NOT_SET -> "expire needs ttl_millis, at_unix_millis or persist";
            case TTL_MILLIS -> checkTtl(expire.getTtlMillis(), "ttl_millis");
            case AT_UNIX_MILLIS -> checkAt(expire.getAtUnixMillis(), "at_unix_millis");
            case PERSIST -> expire.getPersist() ? null : "persist must be true when given";
        };
    }

    private static String checkTtl(long ttlMillis, String what) {
        if (ttlMillis < 1 || ttlMillis > MAX_TTL_MILLIS) {
            return what + " " + Long.toUnsignedString(ttlMillis) + " is outside 1.." + MAX_TTL_MILLIS;
        }
        return null;
    }

    private static String checkAt(long atMillis, String what) {
        if (atMillis < 1 || atMillis > MAX_DEADLINE_MILLIS) {
            return what + " " + Long.toUnsignedString(atMillis) + " is outside 1.." + MAX_DEADLINE_MILLIS;
        }
        return null;
    }

    /**
     * The deadline a checked expiry gives at log clock {@code clockMillis}: 0 for none,
     * {@link #KEEP} to keep the key's own, else Unix milliseconds (possibly already past).
     */
    static long deadline(Expiry expiry, long clockMillis) {
        return switch (expiry.getDeadlineCase()) {
            case DEADLINE_NOT_SET -> 0;
            case TTL_MILLIS -> clockMillis + expiry.getTtlMillis();
            case AT_UNIX_MILLIS -> expiry.getAtUnixMillis();
            case KEEP -> KEEP;
        };
    }

    /**
     * Whether an expire's condition lets a key with deadline {@code current} (0: none) get
     * {@code next} (Redis's NX, XX, GT and LT; no deadline counts as later than any).
     */
    public static boolean allows(ExpireCondition condition, long current, long next) {
        return switch (condition) {
            case ALWAYS, UNRECOGNIZED -> true;
            case IF_NONE -> current == 0;
            case IF_SOME -> current != 0;
            case IF_LATER -> current != 0 && next > current;
            case IF_EARLIER -> current == 0 || next < current;
            case IF_EARLIER_THAN_SOME -> current != 0 && next < current;
        };
    }

    /** Whether a key with {@code deadlineMillis} (0: none) has expired at {@code nowMillis}. */
    public static boolean expired(long deadlineMillis, long nowMillis) {
        return deadlineMillis != 0 && deadlineMillis <= nowMillis;
    }
}
