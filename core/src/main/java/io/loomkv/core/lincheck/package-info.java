/**
 * A linearizability checker for client histories: the Wing &amp; Gong search with Lowe's
 * memoization, partitioned by key like Porcupine, plus the key-value model of loomkv.
 *
 * <p>Use: record every client operation as an {@link io.loomkv.core.lincheck.Operation} (timeouts
 * as pending), then {@code LinearizabilityChecker.withDefaults().check(new KvModel(), history)}
 * and require {@link io.loomkv.core.lincheck.Verdict#OK}; print the result's explanation
 * otherwise. Pure: no clocks, threads or I/O; the search budget is counted in steps.
 */
package io.loomkv.core.lincheck;
