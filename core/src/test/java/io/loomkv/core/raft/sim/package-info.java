/**
 * The deterministic Raft simulator (tests only).
 *
 * <ul>
 *   <li>{@link io.loomkv.core.raft.sim.Simulator}: N {@code RaftNode}s in one thread, simulated
 *       time in ticks (1 tick = 10 ms), one seeded {@link java.util.Random}; every failure names
 *       the seed and the command that replays it.
 *   <li>{@link io.loomkv.core.raft.sim.SimNode}: the Ready loop as a runtime must run it (send
 *       early messages, persist snapshot/entries/hard state, send acknowledgements, apply,
 *       advance); crashes lose the volatile state and any Ready not yet persisted; persists may
 *       be in flight for a few ticks; a crash may hit inside a Ready.
 *   <li>{@link io.loomkv.core.raft.sim.SimNetwork}: drop, duplicate, delay, reorder (incl. 6.824's
 *       long reordering), disconnect, partition, one-way cuts; counts RPCs and bytes as labrpc.
 *   <li>{@link io.loomkv.core.raft.sim.SafetyChecker}: election safety, log matching, leader
 *       completeness, state machine safety, commit monotonicity, applied &lt;= committed, after
 *       every step; {@link io.loomkv.core.raft.sim.SimStateMachine} catches double applies;
 *       the simulator checks every confirmed read against earlier commits.
 *   <li>{@link io.loomkv.core.raft.sim.LabHarness}: MIT 6.824's {@code config.go} helpers
 *       ({@code one}, {@code checkOneLeader}, {@code nCommitted}, ...) in simulated time.
 *   <li>{@link io.loomkv.core.raft.sim.RandomRun}: one randomized seed (versioned by generation).
 * </ul>
 *
 * Properties: {@code -Dloomkv.sim.seed=S} (replay), {@code -Dloomkv.sim.trace=true},
 * {@code -Dloomkv.sim.seeds=N}, {@code -Dloomkv.sim.firstSeed=F}, {@code -Dloomkv.sim.chaosTicks=T}
 * (see {@link io.loomkv.core.raft.sim.SimProperties}).
 */
package io.loomkv.core.raft.sim;
