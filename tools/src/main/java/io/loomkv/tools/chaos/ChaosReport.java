package io.loomkv.tools.chaos;

import io.loomkv.core.lincheck.Verdict;
import java.util.List;

/**
 * The outcome of a chaos run.
 *
 * @param operations client operations during the load (answered, unknown outcome and failed)
 * @param faults faults injected
 * @param faultKinds distinct kinds among them
 * @param violations linearizability violations, plus appends applied twice or out of nowhere,
 *     replicas that disagree after recovery, and servers that exited or could not recover
 * @param lostAckedWrites acknowledged appends missing from the final value of their key
 * @param unavailableMillisMax the longest stretch of the load in which no operation got an answer
 * @param verdict what the linearizability checker said
 * @param findings one line per violation or problem, for the human summary
 */
public record ChaosReport(long operations, int faults, int faultKinds, long violations, long lostAckedWrites,
        long unavailableMillisMax, Verdict verdict, List<String> findings) {
    public ChaosReport {
        findings = List.copyOf(findings);
    }

    /** The last line of {@code ./loomkv chaos --json}. */
    public String json() {
        return "{\"ops\":" + operations + ",\"faults\":" + faults + ",\"violations\":" + violations
                + ",\"lost_acked_writes\":" + lostAckedWrites + ",\"unavailable_ms_max\":" + unavailableMillisMax + "}";
    }

    /** 0 when clean, 1 on any violation or lost write, 3 when the checker could not decide. */
    public int exitCode() {
        if (violations > 0 || lostAckedWrites > 0) {
            return 1;
        }
        return verdict == Verdict.OK ? 0 : 3;
    }
}
