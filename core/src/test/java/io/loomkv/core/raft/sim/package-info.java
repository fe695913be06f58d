/**
 * The deterministic Multi-Raft simulator (tests only).
 *
 * <ul>
 *   <li>{@link io.loomkv.core.raft.sim.Simulator}: stores {@code 1..N} hosting groups {@code 1..G}
 *       in one thread, simulated time in ticks (1 tick = 10 ms), one seeded
 *       {@link java.util.Random}; every failure names the seed and the command that replays it.
 *       Without a group, its methods mean group 1.
 *   <li>{@link io.loomkv.core.raft.sim.SimStore}: a server process: one replica of every group over
 *       one WAL; crashes (all groups at once, also at an armed {@link io.loomkv.core.raft.sim.CrashPoint}
 *       inside a Ready), pauses, fsync scheduling (one in flight), waking replicas when one completes.
 *   <li>{@link io.loomkv.core.raft.sim.SimReplica}: one store's replica of one group, run by the
 *       server's own {@link io.loomkv.core.replica.ReplicaDriver}: it is the driver's I/O (network,
 *       WAL, state machine, the checker's observations).
 *   <li>{@link io.loomkv.core.raft.sim.SimWal}: the store's shared log: writes visible at once,
 *       durable in write order when an fsync covering them completes; a crash keeps the durable
 *       image and a random prefix of what the fsync in flight was writing.
 *   <li>{@link io.loomkv.core.raft.sim.SimGroup}: one group across stores: client operations
 *       (6.824's {@code Start}, reads, membership changes, transfers) and its own checker.
 *   <li>{@link io.loomkv.core.raft.sim.SimNetwork}: (group, message) envelopes between stores;
 *       drop, duplicate, delay, reorder (incl. 6.824's long reordering), disconnect, partition,
 *       one-way cuts; counts RPCs and bytes as labrpc.
 *   <li>{@link io.loomkv.core.raft.sim.SafetyChecker}: per group, election safety, log matching,
 *       leader completeness, state machine safety, commit monotonicity, applied &lt;= committed,
 *       membership agreement and snapshot membership, after every step;
 *       {@link io.loomkv.core.raft.sim.SimStateMachine} catches double applies; every confirmed
 *       read is checked against earlier commits.
 *   <li>{@link io.loomkv.core.raft.sim.LabHarness}: MIT 6.824's {@code config.go} helpers
 *       ({@code one}, {@code checkOneLeader}, {@code nCommitted}, ...) in simulated time, on group 1.
 *   <li>{@link io.loomkv.core.raft.sim.SimMachine}: the state machine a replica applies to: the toy
 *       {@link io.loomkv.core.raft.sim.SimStateMachine} by default, or a real one given to the
 *       {@link io.loomkv.core.raft.sim.Simulator} as a factory (the sharded runs of
 *       {@code io.loomkv.core.kv.sim} run {@code KvStateMachine} in every group).
 *   <li>{@link io.loomkv.core.raft.sim.RandomRun}: one randomized seed (versioned by generation).
 * </ul>
 *
 * Properties: {@code -Dloomkv.sim.seed=S} (replay), {@code -Dloomkv.sim.trace=true},
 * {@code -Dloomkv.sim.seeds=N}, {@code -Dloomkv.sim.firstSeed=F}, {@code -Dloomkv.sim.chaosTicks=T}
 * (see {@link io.loomkv.core.raft.sim.SimProperties}).
 */
package io.loomkv.core.raft.sim;
