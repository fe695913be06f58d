/**
 * The sharded service in the seeded simulator (tests only; issue #15): the shard controller and
 * two data groups running the real {@code KvStateMachine} on the simulator's stores.
 *
 * <ul>
 *   <li>{@link io.loomkv.core.kv.sim.ShardedKvRun}: one seed: the cluster, the faults, the
 *       settling, and the checks (slot ownership during and after the run; the clients' histories
 *       in {@link io.loomkv.core.kv.sim.HistoryChecks}).
 *   <li>{@link io.loomkv.core.kv.sim.SimMigrationDriver}: the server's migration driver with the
 *       simulator's I/O, deciding with {@link io.loomkv.core.kv.MigrationPlanner}.
 *   <li>{@link io.loomkv.core.kv.sim.SimReplicaMover}: the server's replica placement driver with
 *       the simulator's I/O, deciding with {@link io.loomkv.core.shard.ReplicaMovePlanner}, and
 *       retiring removed replicas (runs with replica moves only).
 *   <li>{@link io.loomkv.core.kv.sim.SimCalls}: store-to-store calls over the simulated network.
 *   <li>{@link io.loomkv.core.kv.sim.SimKvClient}, {@link io.loomkv.core.kv.sim.SimSession},
 *       {@link io.loomkv.core.kv.sim.SimProposal}: clients with sessions, as the server's clients
 *       use them; {@link io.loomkv.core.kv.sim.SimAdmin}: Move, Join, Leave and ReplaceReplica.
 *   <li>{@link io.loomkv.core.kv.sim.ShardedFault}: deliberate bugs for the self-test only.
 * </ul>
 *
 * Seeds and replay use the simulator's properties ({@code -Dloomkv.sim.seed=S},
 * {@code -Dloomkv.sim.seeds=N}, {@code -Dloomkv.sim.firstSeed=F}, {@code -Dloomkv.sim.chaosTicks=T},
 * {@code -Dloomkv.sim.trace=true}); every failure names its seed and the command that replays it.
 */
package io.loomkv.core.kv.sim;
