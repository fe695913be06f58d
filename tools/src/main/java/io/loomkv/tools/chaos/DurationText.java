package io.loomkv.tools.chaos;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Durations as people type them: {@code 90s}, {@code 10m}, {@code 2h}, {@code 500ms}, plain seconds, or ISO-8601. */
public final class DurationText {
    private DurationText() {
    }

    public static Duration parse(String text) {
        String trimmed = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (trimmed.matches("\\d+")) {
                return Duration.ofSeconds(Long.parseLong(trimmed));
            }
            if (trimmed.matches("\\d+(ms|s|m|h)")) {
                long amount = Long.parseLong(trimmed.replaceAll("\\D", ""));
                return switch (trimmed.replaceAll("\\d", "")) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
            }
            return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a duration like 90s, 10m or 2h");
        }
    }
}
