package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.MigrationPlanner;
import io.loomkv.core.kv.proto.DeleteSlots;
import io.loomkv.core.kv.proto.ExportSlots;
import io.loomkv.core.kv.proto.InstallSlotChunks;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.MigrationRead;
import io.loomkv.core.kv.proto.MigrationWrite;
import io.loomkv.core.kv.proto.MovingSlot;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.Reconfigure;
import io.loomkv.core.kv.proto.SlotOwnershipState;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.core.shard.proto.Layout;
import io.loomkv.net.rpc.RpcClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a store follow the shard controller (docs/shard-controller.md, "Slot migration"): reads the
 * newest configuration for routing and starts replicas of new groups placed here; and, for every
 * data group this store leads, walks the group through the configurations one at a time by
 * proposing {@code Reconfigure}, pulls each gained slot from any replica of its previous owner in
 * chunks proposed as {@code InstallSlotChunk}, and deletes each handed-off slot once a replica of
 * its new owner shows it installed.
 *
 * <p>It does the I/O only: what to propose or ask next is {@link MigrationPlanner}'s decision (pure,
 * in core, and run by the simulator under seeds too). It only proposes; the group's state machine decides. Every command names the state it
 * expects, so a proposal made from stale knowledge, twice, or by a leader about to lose its term is
 * refused by the machine and changes nothing, and a new leader picks up where the log says. One
 * virtual thread per store, blocking calls with timeouts; all traffic to other stores goes over
 * the peer port ({@link NodeMethods#MIGRATION}).
 */
final class MigrationDriver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationDriver.class);
    /** Pause between rounds; a round with work left starts the next one at once. */
    static final long ROUND_MILLIS = 100;
    private static final long LAYOUT_REFRESH_MILLIS = 300;
    private static final long LAYOUT_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(LAYOUT_REFRESH_MILLIS);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    /** Exports one round makes per source group before the other groups' work gets its turn. */
    private static final int CHUNKS_PER_ROUND = 16;
    private static final int DELETE_STEPS_PER_ROUND = 16;

    /** What the driver needs from its store. */
    interface Host extends LocalStore {
        /** Whether this store has a replica of {@code groupId}. */
        boolean hosts(long groupId);

        LiveLayout layout();

        Membership addresses();

        List<Long> controllerStores();

        /** The newest configuration this store's replica of group 0 has applied; null when it has none. */
        SlotLayout controllerConfigHere();

        /** Starts this store's replica of a new group whose replicas are on {@code stores}. */
        void hostGroup(long groupId, List<Long> stores);
    }

    private final Host host;
    private final RpcClient peers;
    private final RoundLoop loop;
    private long lastLayoutRefreshNanos;
    /**
     * When the last refresh that got a configuration (this store's controller replica's, else the
     * controller's) started: this store's layout is at least that fresh.
     */
    private volatile long layoutFreshAsOfNanos = System.nanoTime() - Long.MAX_VALUE / 2;
    /** Rotates which replica of another group is asked first, spreading the reads. */
    private int askOffset;
    /**
     * The stores of every group seen in a configuration, kept after a group leaves: its slots are
     * pulled from it after the configuration without it. Driver thread only.
     */
    private final Map<Long, List<Long>> knownReplicas = new TreeMap<>();

    MigrationDriver(Host host, RpcClient peers) {
        this.host = host;
        this.peers = peers;
        this.loop = new RoundLoop("migration-" + host.storeId(), ROUND_MILLIS, LAYOUT_REFRESH_MILLIS, this::round,
                e -> LOG.warn("store {}: slot migration round failed: {}", host.storeId(), e.toString()));
    }

    void start() {
        loop.start();
    }

    @Override
    public void close() {
        loop.close();
    }

    /** See {@link #layoutFreshAsOfNanos}; any thread. */
    long layoutFreshAsOfNanos() {
        return layoutFreshAsOfNanos;
    }

    /** A newer configuration was taken (here or by a request's thread): the next round runs now. */
    void wake() {
        loop.wake();
    }

    /** One round: the layout when it is due, then a step of every led group with work. */
    private RoundLoop.Outcome round() throws InterruptedException {
        long now = System.nanoTime();
        if (now - lastLayoutRefreshNanos >= LAYOUT_REFRESH_NANOS) {
            lastLayoutRefreshNanos = now;
            refreshLayout();
        }
        long routing = host.layout().current().version();
        boolean busy = false;
        boolean underWay = false;
        for (Replica replica : host.replicas()) {
            if (loop.closed()) {
                return RoundLoop.Outcome.WAIT;
            }
            // From published values, so a group with nothing to do is not woken (it may be quiet).
            boolean work = replica.movingSlots() > 0 || replica.configNumber() < routing;
            underWay |= work;
            if (work && replica.leadsDataGroup()) {
                busy |= step(replica.groupId());
            }
        }
        // Idle, the rounds slow down to the layout refresh: that is how this store learns of a new configuration.
        return busy ? RoundLoop.Outcome.MORE : underWay ? RoundLoop.Outcome.WAIT : RoundLoop.Outcome.IDLE;
    }

    /** Routes by the controller's newest configuration and starts replicas of new groups placed here. */
    private void refreshLayout() throws InterruptedException {
        long startedNanos = System.nanoTime();
        SlotLayout layout = host.controllerConfigHere();
        if (layout == null) {
            Layout latest = queryController(-1);
            if (latest == null) {
                return;
            }
            try {
                layout = SlotLayout.fromProto(latest);
            } catch (IllegalArgumentException e) {
                LOG.warn("store {}: the controller's configuration {} does not parse: {}", host.storeId(),
                        latest.getVersion(), e.getMessage());
                return;
            }
        }
        remember(layout);
        boolean newer = host.layout().offer(layout);
        layoutFreshAsOfNanos = startedNanos;
        if (newer) {
            LOG.info("store {}: routing by configuration {} ({} data groups)", host.storeId(), layout.version(),
                    layout.groups().size());
        }
        for (long group : layout.groups()) {
            List<Long> stores = layout.replicas(group);
            if (stores.contains(host.storeId()) && !host.hosts(group)) {
                host.hostGroup(group, stores);
            }
        }
    }

    /** One round of a group this store leads; true when it made progress and has more to do. */
    private boolean step(long group) throws InterruptedException {
        SlotOwnershipState state = progress(local(progressRequest(group)));
        if (state == null) {
            return false;
        }
        MigrationPlanner.Work work = MigrationPlanner.work(state);
        if (work.reconfigures()) {
            return reconfigure(group, state);
        }
        boolean progressed = false;
        for (Map.Entry<Long, List<MovingSlot>> from : work.pullFrom().entrySet()) {
            progressed |= pull(group, work.configNumber(), from.getKey(), from.getValue());
        }
        for (Map.Entry<Long, List<MovingSlot>> to : work.handOffTo().entrySet()) {
            progressed |= handOff(group, work.configNumber(), to.getKey(), to.getValue());
        }
        return progressed;
    }

    /** Proposes the next configuration once the controller has it. */
    private boolean reconfigure(long group, SlotOwnershipState state) throws InterruptedException {
        long config = state.getConfigNumber();
        Layout next = queryController(config + 1);
        if (next == null || next.getVersion() != config + 1) {
            return false;
        }
        Layout previous = null;
        if (config > 0) {
            previous = queryController(config);
            if (previous == null || previous.getVersion() != config) {
                return false;
            }
            remember(SlotLayout.fromProto(previous));
        }
        Optional<Reconfigure> reconfigure = MigrationPlanner.reconfigure(state, next, previous);
        if (reconfigure.isEmpty()) {
            return false;
        }
        KvReply reply = local(write(group, MigrationWrite.newBuilder().setReconfigure(reconfigure.get()).build()));
        if (reply != null && reply.getStatus() == Status.OK) {
            SlotOwnershipState now = reply.getMigration().getProgress();
            LOG.info("store {}: group {} is at configuration {}; {} slots move", host.storeId(), group,
                    now.getConfigNumber(), now.getMovingCount());
            return true;
        }
        if (reply != null) {
            LOG.warn("store {}: group {} refused configuration {}: {}", host.storeId(), group, config + 1, reply.getMessage());
        }
        return false;
    }

    /**
     * Pulls the slots gained from group {@code from}: each export asks a replica of it for chunks
     * of many slots at once (resuming each where its pull stands), and installs them as one entry.
     * True when anything was installed.
     */
    private boolean pull(long group, long config, long from, List<MovingSlot> slots) throws InterruptedException {
        SortedMap<Integer, ByteString> cursors = MigrationPlanner.cursors(slots);
        boolean progressed = false;
        for (int round = 0; round < CHUNKS_PER_ROUND && !cursors.isEmpty() && !loop.closed(); round++) {
            ExportSlots export = MigrationPlanner.export(config, cursors);
            KvReply exported = askGroup(from, config, KvRequest.newBuilder().setGroupId(from)
                    .setConsistency(ReadConsistency.SERIALIZABLE)
                    .setMigrationRead(MigrationRead.newBuilder().setExport(export)).build());
            if (exported == null) {
                return progressed;
            }
            InstallSlotChunks install = MigrationPlanner.install(export, exported.getMigration().getExport());
            if (install.getChunksCount() == 0) {
                return progressed;
            }
            KvReply installed = local(write(group, MigrationWrite.newBuilder().setInstall(install).build()));
            if (installed == null || installed.getStatus() != Status.OK) {
                if (installed != null) {
                    LOG.info("store {}: group {} did not install chunks from group {}: {}", host.storeId(), group, from,
                            installed.getMessage());
                }
                return progressed;
            }
            progressed = true;
            MigrationPlanner.advance(cursors, install);
        }
        return progressed;
    }

    /** Deletes the slots handed off to group {@code to} that a replica of it shows installed. */
    private boolean handOff(long group, long config, long to, List<MovingSlot> slots) throws InterruptedException {
        SlotOwnershipState theirs = progress(askGroup(to, config, progressRequest(to)));
        if (theirs == null) {
            return false;
        }
        List<Integer> done = MigrationPlanner.installedByNewOwner(config, slots, theirs);
        boolean progressed = false;
        for (int steps = 0; steps < DELETE_STEPS_PER_ROUND && !done.isEmpty() && !loop.closed(); steps++) {
            DeleteSlots delete = MigrationPlanner.delete(config, done).orElseThrow();
            SlotOwnershipState ours = progress(local(write(group, MigrationWrite.newBuilder().setDeleteSlots(delete).build())));
            if (ours == null) {
                return progressed;
            }
            progressed = true;
            done = MigrationPlanner.stillToDelete(done, ours);
        }
        return progressed;
    }

    private static SlotOwnershipState progress(KvReply reply) {
        return reply != null && reply.getStatus() == Status.OK && reply.getMigration().hasProgress()
                ? reply.getMigration().getProgress() : null;
    }

    private static KvRequest progressRequest(long group) {
        return KvRequest.newBuilder().setGroupId(group).setConsistency(ReadConsistency.SERIALIZABLE)
                .setMigrationRead(MigrationRead.newBuilder().setProgress(true)).build();
    }

    private static KvRequest write(long group, MigrationWrite write) {
        return KvRequest.newBuilder().setGroupId(group).setMigrationWrite(write).build();
    }

    /**
     * Configuration {@code number} (the latest for -1) from the controller: from this store's own
     * replica of group 0 when it has one, else from a controller store. Any applied state will do:
     * a configuration never changes once made, and a stale "latest" only delays the next step.
     */
    private Layout queryController(long number) throws InterruptedException {
        KvRequest query = KvRequest.newBuilder().setConsistency(ReadConsistency.SERIALIZABLE)
                .setController(ControllerCommand.newBuilder().setQuery(QueryConfig.newBuilder().setNumber(number)))
                .build();
        KvReply reply = host.hosts(GroupIds.CONTROLLER_GROUP_ID) ? local(query) : askStores(host.controllerStores(), query);
        if (reply == null || reply.getStatus() != Status.OK || !reply.getController().getError().isEmpty()
                || !reply.getController().hasConfig()) {
            return null;
        }
        return reply.getController().getConfig();
    }

    /**
     * Asks the replicas of {@code group} in turn; the first OK reply, or null. Its stores are the
     * ones last seen in a configuration; a group this store never saw (it restarted after the
     * group left) is looked up in configurations {@code config - 1} and {@code config}: the source
     * of a pull at {@code config} owned its slots in the one before, the new owner of a hand-off
     * owns them in {@code config} itself, and may have joined there (simulator seed 4187: a group
     * that joined at 4 and left at 5 was looked up in 3 only, and its slots never left the old owner).
     */
    private KvReply askGroup(long group, long config, KvRequest request) throws InterruptedException {
        remember(host.layout().current());
        for (long number = Math.max(1, config - 1); number <= config && !knownReplicas.containsKey(group); number++) {
            Layout layout = queryController(number);
            if (layout != null) {
                remember(SlotLayout.fromProto(layout));
            }
        }
        List<Long> stores = knownReplicas.get(group);
        return stores == null ? null : askStores(stores, request);
    }

    private void remember(SlotLayout layout) {
        for (long group : layout.groups()) {
            knownReplicas.put(group, layout.replicas(group));
        }
    }

    private KvReply askStores(List<Long> stores, KvRequest request) throws InterruptedException {
        int offset = askOffset++;
        for (int i = 0; i < stores.size(); i++) {
            long store = stores.get(Math.floorMod(offset + i, stores.size()));
            KvReply reply;
            if (store == host.storeId()) {
                reply = local(request);
            } else {
                MemberAddress address = host.addresses().get(store);
                if (address == null) {
                    continue;
                }
                reply = await(peers.call(address.peerAddress(), NodeMethods.MIGRATION, request, CALL_TIMEOUT));
            }
            if (reply != null && reply.getStatus() == Status.OK) {
                return reply;
            }
        }
        return null;
    }

    private KvReply local(KvRequest request) throws InterruptedException {
        return await(host.local(request));
    }

    private KvReply await(CompletionStage<KvReply> call) throws InterruptedException {
        try {
            return call.toCompletableFuture().get(CALL_TIMEOUT.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }
}
