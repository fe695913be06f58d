package io.loomkv.net.resp;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.proto.Expiry;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * INCR, INCRBY, DECR, DECRBY, INCRBYFLOAT: read-modify-write by compare-and-set
 * ({@link ReadModifyWrite}), so concurrent increments are never lost. Values are decimal strings,
 * as in Redis; a value that is not one is refused with Redis's error and left alone.
 */
final class CounterCommands {
    /** Redis's %.17Lf: INCRBYFLOAT prints 17 digits after the point, then drops trailing zeros. */
    private static final int FLOAT_DECIMALS = 17;
    /** Beyond a double's range Redis (long double) would still count, but no client could read it back. */
    private static final BigDecimal FLOAT_LIMIT = new BigDecimal(Double.MAX_VALUE);

    /** A counter keeps its key's time to live, as INCR does in Redis. */
    private static final Expiry KEEP_TTL = Expiry.newBuilder().setKeep(true).build();

    private CounterCommands() {}

    static List<RespCommand> all() {
        return List.of(
                StringCommands.write("incr", 2, 1, 1, 1, "1.0.0", "Increments a key's integer value by one.",
                        (c, a) -> incrementBy(c, a.get(1), 1)),
                StringCommands.write("decr", 2, 1, 1, 1, "1.0.0", "Decrements a key's integer value by one.",
                        (c, a) -> incrementBy(c, a.get(1), -1)),
                StringCommands.write("incrby", 3, 1, 1, 1, "1.0.0", "Increments a key's integer value by a number.",
                        (c, a) -> incrementBy(c, a.get(1), RespArgs.integer(a.get(2)))),
                StringCommands.write("decrby", 3, 1, 1, 1, "1.0.0", "Decrements a key's integer value by a number.",
                        CounterCommands::decrementBy),
                StringCommands.write("incrbyfloat", 3, 1, 1, 1, "2.6.0", "Increments a key's value by a decimal number.",
                        CounterCommands::incrementByFloat));
    }

    private static CompletableFuture<RespReply> decrementBy(CommandContext context, List<ByteString> arguments) {
        long decrement = RespArgs.integer(arguments.get(2));
        if (decrement == Long.MIN_VALUE) {
            throw RespError.err("decrement would overflow");
        }
        return incrementBy(context, arguments.get(1), -decrement);
    }

    private static CompletableFuture<RespReply> incrementBy(CommandContext context, ByteString key, long increment) {
        return ReadModifyWrite.apply(context.backend(), key, context.config().maxCasRetries(), KEEP_TTL, current -> {
            long value = current.map(RespArgs::integer).orElse(0L);
            long next;
            try {
                next = Math.addExact(value, increment);
            } catch (ArithmeticException e) {
                throw RespError.err("increment or decrement would overflow");
            }
            return Optional.of(ByteString.copyFromUtf8(Long.toString(next)));
        }).thenApply(result -> RespReply.integer(Long.parseLong(result.after().orElseThrow().toStringUtf8())));
    }

    /**
     * Adds in exact decimal arithmetic (Redis uses an 80-bit long double, which also prints
     * {@code 0.1 + 0.2} as {@code 0.3}; binary doubles would print {@code 0.30000000000000004}).
     */
    private static CompletableFuture<RespReply> incrementByFloat(CommandContext context, List<ByteString> arguments) {
        BigDecimal increment = RespArgs.decimal(arguments.get(2));
        return ReadModifyWrite.apply(context.backend(), arguments.get(1), context.config().maxCasRetries(), KEEP_TTL, current -> {
            BigDecimal value = current.map(RespArgs::decimal).orElse(BigDecimal.ZERO);
            BigDecimal next = value.add(increment);
            if (next.abs().compareTo(FLOAT_LIMIT) > 0) {
                throw RespError.err("increment would produce NaN or Infinity");
            }
            return Optional.of(ByteString.copyFromUtf8(formatFloat(next)));
        }).thenApply(result -> new RespReply.Bulk(result.after().orElseThrow()));
    }

    static String formatFloat(BigDecimal value) {
        BigDecimal rounded = value.setScale(FLOAT_DECIMALS, RoundingMode.HALF_EVEN).stripTrailingZeros();
        return rounded.signum() == 0 ? "0" : rounded.toPlainString();
    }
}
