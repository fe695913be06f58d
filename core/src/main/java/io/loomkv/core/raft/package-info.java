/**
 * Raft consensus as a pure, deterministic state machine (modelled on etcd's raft library).
 *
 * <p>{@link io.loomkv.core.raft.RaftNode} does no I/O, starts no threads and reads no clock; its
 * only randomness (election timeouts) comes from a seed in {@link io.loomkv.core.raft.RaftConfig}.
 * A runtime owns each node from a single thread and drives it like this:
 *
 * <pre>{@code
 * while (running) {
 *     // inputs: every tick interval node.tick(); for each received message node.step(m);
 *     // for client requests node.propose(data), node.readIndex(ctx), node.proposeConfChange(cc),
 *     // node.transferLeader(id)
 *     if (!node.hasReady()) { wait for input; continue; }
 *     Ready rd = node.ready();
 *     send(rd.messagesBeforePersist());          // leader appends/heartbeats: overlap with our fsync
 *     stage(rd.snapshotChunks());                // received snapshot pieces, in order, but
 *     if (rd.snapshot() != null) install(rd.snapshot());   // right after the chunk completing it
 *     append(rd.entries()); if (rd.hardState() != null) save(rd.hardState());
 *     if (rd.mustSync()) fsync();
 *     send(rd.messagesAfterPersist());           // votes and acks: only for durable state
 *     for (Entry e : rd.committedEntries()) apply(e);   // conf changes: node.applyConfChange(cc)
 *     serveReads(rd.readStates());               // once applied >= readState.index()
 *     node.advance();
 * }
 * }</pre>
 *
 * <p>The ordering rule is Raft thesis 10.2.1: a vote or an append acknowledgement promises that
 * the state behind it is durable, so those messages wait for the persist. The leader may send
 * its appends before its own write finishes; it counts itself towards the commit quorum only
 * after {@link io.loomkv.core.raft.RaftNode#advance()} confirms the write.
 *
 * <p>A runtime that keeps stepping while a Ready's fsync is in flight (instead of blocking on it)
 * calls {@link io.loomkv.core.raft.RaftNode#takeEarlyOutput()} after each turn of input and sends
 * what it returns at once: new appends, heartbeats and their responses, confirmed reads. Without
 * it they would wait for the fsync to end and the next Ready.
 *
 * <p>Storage is read through {@link io.loomkv.core.raft.Storage}; the runtime writes to it what
 * each Ready hands out. {@link io.loomkv.core.raft.MemoryStorage} is the in-memory version used
 * by tests, the simulator and benchmarks.
 *
 * <p>Snapshots travel in bounded chunks (MSG_SNAP): the leader reads them with
 * {@link io.loomkv.core.raft.Storage#readSnapshotChunk}; the follower validates offsets, hands each
 * chunk to the runtime through {@link io.loomkv.core.raft.Ready#snapshotChunks()} and, after the
 * last, the snapshot to install through {@link io.loomkv.core.raft.Ready#snapshot()}. A chunk at
 * offset 0 restarts a transfer; it may follow, in the same Ready, the last chunk of the snapshot
 * that Ready installs (the leader, having compacted further, started sending a newer one), so the
 * install comes right after that last chunk, before the new transfer's chunks. Requests (proposals, reads) may be lost on leader changes: callers
 * time out and retry.
 *
 * <p>Membership: every node starts from the cluster's founding voters (see
 * {@link io.loomkv.core.raft.MemoryStorage#bootstrap}), including nodes added later; conf change
 * entries are applied on top of it through {@link io.loomkv.core.raft.RaftNode#applyConfChange} when
 * the runtime applies them, and a snapshot's membership replaces it. A runtime compacts its log
 * only up to its newest snapshot. Proposals and commit updates are batched: everything proposed
 * between two Readies goes to each follower in as few appends as the size limits allow.
 */
package io.loomkv.core.raft;
