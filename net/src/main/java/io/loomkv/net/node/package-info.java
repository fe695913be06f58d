/**
 * The node runtime: one loomkv server wiring core (Raft, KV state machine), persist (WAL,
 * snapshots) and the RPC layer together, as in DESIGN.md "A write, end to end".
 *
 * <p>Threads of a {@link io.loomkv.net.node.KvNode}:
 * <ul>
 *   <li>RPC connection readers (virtual threads) run {@code KvService}: validate a request, then
 *       hand it to the Raft loop through a bounded JCTools MPSC queue; they never block.</li>
 *   <li>The Raft loop ({@code RaftLoop}, one platform thread per group) owns the {@code RaftNode}
 *       with no locks: steps peer messages (bounded inbox), batches writes into one log entry and
 *       reads into one ReadIndex, ticks, and handles each Ready in the required order (send the
 *       leader's appends, stage/install snapshots, persist entries and hard state and wait for the
 *       fsync, send votes/acks, hand committed entries and safe reads to the apply thread through
 *       a bounded SPSC queue, apply membership changes, {@code advance()}).</li>
 *   <li>The apply thread ({@code Applier}) owns the {@code KvStateMachine}: applies entries in
 *       log order, completes the waiting requests (a request completes when applied), serves reads
 *       once the applied index reaches theirs, restores snapshots from the leader, and starts local
 *       snapshots past the threshold (written on a virtual thread from a point-in-time view, then
 *       the log is compacted on the loop).</li>
 * </ul>
 *
 * <p>Outcomes: a write whose entry is overwritten after a leader change, or that gets no outcome
 * within the request timeout, is answered {@code TIMEOUT} ("outcome unknown"); clients retry with
 * the same session sequence and the state machine's session table applies it at most once.
 */
package io.loomkv.net.node;
