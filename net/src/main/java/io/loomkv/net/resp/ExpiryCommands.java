package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.Deadlines;
import io.loomkv.core.kv.proto.Expire;
import io.loomkv.core.kv.proto.ExpireCondition;
import io.loomkv.core.kv.proto.Expiry;
import io.loomkv.net.client.KeyTtl;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Keys with a time to live (docs/ttl.md): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST, TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME, SETEX, PSETEX and GETEX, with Redis's replies and error texts. The
 * deadline is fixed by the group's leader when the write is applied (a relative time counts from
 * the leader's timestamp of the command), so every replica expires the key at the same moment.
 * EXPIRE's NX/XX/GT/LT conditions travel with the command and are checked by the state machine
 * against the key's deadline when it is applied, so they are atomic.
 */
final class ExpiryCommands {
    private ExpiryCommands() {}

    static List<RespCommand> all() {
        return List.of(
                keyWrite("expire", -3, "1.0.0", "Sets a key's time to live in seconds.",
                        (c, a) -> expire(c, a, "expire", Unit.SECONDS, false)),
                keyWrite("pexpire", -3, "2.6.0", "Sets a key's time to live in milliseconds.",
                        (c, a) -> expire(c, a, "pexpire", Unit.MILLISECONDS, false)),
                keyWrite("expireat", -3, "1.2.0", "Sets a key's expiry as a Unix time in seconds.",
                        (c, a) -> expire(c, a, "expireat", Unit.SECONDS, true)),
                keyWrite("pexpireat", -3, "2.6.0", "Sets a key's expiry as a Unix time in milliseconds.",
                        (c, a) -> expire(c, a, "pexpireat", Unit.MILLISECONDS, true)),
                keyWrite("persist", 2, "2.2.0", "Removes a key's time to live.", ExpiryCommands::persist),
                keyRead("ttl", "1.0.0", "Returns a key's time to live in seconds.", (c, a) -> ttl(c, a, Unit.SECONDS, false)),
                keyRead("pttl", "2.6.0", "Returns a key's time to live in milliseconds.",
                        (c, a) -> ttl(c, a, Unit.MILLISECONDS, false)),
                keyRead("expiretime", "7.0.0", "Returns a key's expiry as a Unix time in seconds.",
                        (c, a) -> ttl(c, a, Unit.SECONDS, true)),
                keyRead("pexpiretime", "7.0.0", "Returns a key's expiry as a Unix time in milliseconds.",
                        (c, a) -> ttl(c, a, Unit.MILLISECONDS, true)),
                StringCommands.write("setex", 4, 1, 1, 1, "2.0.0", "Sets a key with a time to live in seconds.",
                        (c, a) -> setWithTtl(c, a, "setex", Unit.SECONDS)),
                StringCommands.write("psetex", 4, 1, 1, 1, "2.6.0", "Sets a key with a time to live in milliseconds.",
                        (c, a) -> setWithTtl(c, a, "psetex", Unit.MILLISECONDS)),
                StringCommands.write("getex", -2, 1, 1, 1, "6.2.0", "Returns a key's value and sets or removes its time to live.",
                        ExpiryCommands::getEx));
    }

    private static RespCommand keyWrite(String name, int arity, String since, String summary, RespCommand.Handler handler) {
        return new RespCommand(name, arity, RespCommand.Kind.WRITE, 1, 1, 1, "generic", since, summary, handler);
    }

    private static RespCommand keyRead(String name, String since, String summary, RespCommand.Handler handler) {
        return new RespCommand(name, 2, RespCommand.Kind.READ, 1, 1, 1, "generic", since, summary, handler);
    }

    enum Unit {
        SECONDS(1_000), MILLISECONDS(1);

        final long millis;

        Unit(long millis) {
            this.millis = millis;
        }

        /** {@code amount} of this unit in milliseconds, or empty when that overflows. */
        Optional<Long> toMillis(long amount) {
            try {
                return Optional.of(Math.multiplyExact(amount, millis));
            } catch (ArithmeticException e) {
                return Optional.empty();
            }
        }
    }

    static RespError invalidExpireTime(String command) {
        return RespError.err("invalid expire time in '" + command + "' command");
    }

    /**
     * The expiry of SET's EX/PX/EXAT/PXAT, SETEX, PSETEX and GETEX: a positive amount (Redis
     * refuses zero and negative ones), within loomkv's bounds.
     */
    static Expiry expiry(ByteString argument, Unit unit, boolean absolute, String command) {
        long amount = RespArgs.integer(argument);
        Optional<Long> millis = unit.toMillis(amount);
        if (amount <= 0 || millis.isEmpty()) {
            throw invalidExpireTime(command);
        }
        if (absolute) {
            if (millis.get() > Deadlines.MAX_DEADLINE_MILLIS) {
                throw invalidExpireTime(command);
            }
            return Expiry.newBuilder().setAtUnixMillis(millis.get()).build();
        }
        if (millis.get() > Deadlines.MAX_TTL_MILLIS) {
            throw invalidExpireTime(command);
        }
        return Expiry.newBuilder().setTtlMillis(millis.get()).build();
    }

    private static CompletableFuture<RespReply> expire(CommandContext context, List<ByteString> arguments, String command,
            Unit unit, boolean absolute) {
        ExpireCondition condition = condition(arguments);
        long amount = RespArgs.integer(arguments.get(2));
        Optional<Long> millis = unit.toMillis(amount);
        if (millis.isEmpty()) {
            throw invalidExpireTime(command);
        }
        Expire.Builder expire = Expire.newBuilder().setKey(arguments.get(1)).setCondition(condition);
        if (absolute) {
            if (millis.get() > Deadlines.MAX_DEADLINE_MILLIS) {
                throw invalidExpireTime(command);
            }
            // A time already past deletes the key, as in Redis (1 ms after the epoch is past).
            expire.setAtUnixMillis(Math.max(1, millis.get()));
        } else if (millis.get() <= 0) {
            expire.setAtUnixMillis(1);
        } else {
            if (millis.get() > Deadlines.MAX_TTL_MILLIS) {
                throw invalidExpireTime(command);
            }
            expire.setTtlMillis(millis.get());
        }
        return context.backend().expire(expire.build())
                .thenApply(result -> RespReply.integer(result.getExisted() && !result.getSkipped() ? 1 : 0));
    }

    /** EXPIRE's NX, XX, GT and LT (Redis 7), checked by the state machine against the key's deadline. */
    private static ExpireCondition condition(List<ByteString> arguments) {
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        for (int i = 3; i < arguments.size(); i++) {
            switch (RespArgs.lower(arguments.get(i))) {
                case "nx" -> nx = true;
                case "xx" -> xx = true;
                case "gt" -> gt = true;
                case "lt" -> lt = true;
                default -> throw RespError.err("Unsupported option " + RespArgs.text(arguments.get(i)));
            }
        }
        if (nx && (xx || gt || lt)) {
            throw RespError.err("NX and XX, GT or LT options at the same time are not compatible");
        }
        if (gt && lt) {
            throw RespError.err("GT and LT options at the same time are not compatible");
        }
        // XX with GT or LT: GT and LT already need a deadline to compare with (LT treats none as forever).
        if (xx && lt) {
            return ExpireCondition.IF_EARLIER_THAN_SOME;
        }
        return nx ? ExpireCondition.IF_NONE : gt ? ExpireCondition.IF_LATER : lt ? ExpireCondition.IF_EARLIER
                : xx ? ExpireCondition.IF_SOME : ExpireCondition.ALWAYS;
    }

    private static CompletableFuture<RespReply> persist(CommandContext context, List<ByteString> arguments) {
        return context.backend().expire(Expire.newBuilder().setKey(arguments.get(1)).setPersist(true).build())
                .thenApply(result -> RespReply.integer(result.getChanged() ? 1 : 0));
    }

    /** TTL and PTTL (time left, rounded as Redis does), EXPIRETIME and PEXPIRETIME (the deadline); -2 absent, -1 none. */
    private static CompletableFuture<RespReply> ttl(CommandContext context, List<ByteString> arguments, Unit unit,
            boolean absolute) {
        return context.backend().ttl(arguments.get(1)).thenApply(ttl -> RespReply.integer(reply(ttl, unit, absolute)));
    }

    static long reply(KeyTtl ttl, Unit unit, boolean absolute) {
        if (!ttl.exists()) {
            return -2;
        }
        if (!ttl.expires()) {
            return -1;
        }
        if (absolute) {
            return ttl.expiresAtMillis() / unit.millis;
        }
        return (ttl.remainingMillis() + unit.millis / 2) / unit.millis;
    }

    private static CompletableFuture<RespReply> setWithTtl(CommandContext context, List<ByteString> arguments, String command,
            Unit unit) {
        Expiry expiry = expiry(arguments.get(2), unit, false, command);
        return context.backend().put(arguments.get(1), arguments.get(3), expiry).thenApply(existed -> RespReply.OK);
    }

    /**
     * GETEX: the value, and with EX/PX/EXAT/PXAT or PERSIST a new deadline for it, set by a
     * compare-and-set of the value onto itself, so the deadline changes only if the value is still
     * the one returned (atomic, as in Redis).
     */
    private static CompletableFuture<RespReply> getEx(CommandContext context, List<ByteString> arguments) {
        ByteString key = arguments.get(1);
        if (arguments.size() == 2) {
            return context.backend().get(key).thenApply(StringCommands::bulkOrNull);
        }
        String option = RespArgs.lower(arguments.get(2));
        Expiry expiry;
        if (option.equals("persist")) {
            if (arguments.size() != 3) {
                throw RespError.syntax();
            }
            expiry = Expiry.getDefaultInstance();
        } else {
            if (arguments.size() != 4) {
                throw RespError.syntax();
            }
            expiry = switch (option) {
                case "ex" -> expiry(arguments.get(3), Unit.SECONDS, false, "getex");
                case "px" -> expiry(arguments.get(3), Unit.MILLISECONDS, false, "getex");
                case "exat" -> expiry(arguments.get(3), Unit.SECONDS, true, "getex");
                case "pxat" -> expiry(arguments.get(3), Unit.MILLISECONDS, true, "getex");
                default -> throw RespError.syntax();
            };
        }
        return ReadModifyWrite.apply(context.backend(), key, context.config().maxCasRetries(), expiry, current -> current)
                .thenApply(result -> StringCommands.bulkOrNull(result.before()));
    }
}
