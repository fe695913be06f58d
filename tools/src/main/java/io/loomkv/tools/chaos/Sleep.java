package io.loomkv.tools.chaos;

/** Sleeping in the fault and client threads, where an interrupt means "stop now". */
final class Sleep {
    private Sleep() {
    }

    static void millis(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
