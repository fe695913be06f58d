package io.loomkv.net.metrics;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * One named check of {@code /livez} or {@code /readyz}, as etcd lists them with {@code ?verbose}
 * ({@code [+]name ok} or {@code [-]name failed: reason}).
 *
 * @param name a short lower-case name, shown in the verbose output
 * @param problem null when the check passes, otherwise why it fails; read on every probe, so cheap
 */
public record HealthCheck(String name, Supplier<String> problem) {
    public HealthCheck {
        Objects.requireNonNull(problem, "problem");
        if (name == null || !name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("check name must be lower-case letters, digits and _, got " + name);
        }
    }

    /** Why the check fails, or null; a check that throws fails with the exception as its reason. */
    String run() {
        try {
            return problem.get();
        } catch (RuntimeException e) {
            return "check threw " + e;
        }
    }
}
