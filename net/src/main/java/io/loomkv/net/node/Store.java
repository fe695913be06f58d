package io.loomkv.net.node;

import com.google.protobuf.ByteString;
import io.loomkv.core.kv.KvLimits;
import io.loomkv.core.raft.proto.ConfChange;
import io.loomkv.core.raft.proto.ConfChangeSingle;
import io.loomkv.core.raft.proto.ConfChangeType;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.EntryType;
import io.loomkv.core.raft.proto.HardState;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.CommandBatch;
import io.loomkv.core.replica.LeaderMessages;
import io.loomkv.core.replica.RemovalNotices;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.log.LogContext;
import io.loomkv.net.metrics.HealthCheck;
import io.loomkv.net.metrics.MetricsServer;
import io.loomkv.net.metrics.StoreMetrics;
import io.loomkv.core.shard.SlotSet;
import java.util.concurrent.CompletableFuture;
import io.loomkv.core.shard.controller.proto.ControllerReply;
import io.loomkv.core.kv.proto.ReadConsistency;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.shard.controller.proto.Bootstrap;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.net.resp.RespServer;
import io.loomkv.net.resp.RespServerConfig;
import io.loomkv.net.rpc.CallContext;
import io.loomkv.net.rpc.RpcClient;
import io.loomkv.net.rpc.RpcClientConfig;
import io.loomkv.net.rpc.RpcHandlers;
import io.loomkv.net.rpc.RpcServer;
import io.loomkv.net.rpc.RpcServerConfig;
import io.loomkv.net.store.proto.GroupMessage;
import io.loomkv.net.store.proto.GroupView;
import io.loomkv.net.store.proto.RaftBatch;
import io.loomkv.net.store.proto.StoreReport;
import io.loomkv.persist.identity.DataDirectoryEngine;
import io.loomkv.persist.identity.DataDirectoryIdentity;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import io.loomkv.persist.raft.GroupStorage;
import io.loomkv.persist.raft.StoreLog;
import io.loomkv.persist.raft.StoreLogOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loomkv server process: a <em>store</em> hosting replicas of many Raft groups. It recovers its
 * shared WAL and every group's snapshot, creates (and on first start bootstraps) a replica for each
 * group the layout places here, and runs them on a fixed set of threads whatever their number:
 * a few Raft workers, a few apply threads, one ticker, one peer transport with one connection per
 * peer store, a peer RPC server (Raft batches, peer handshake only) and a client RPC server (KV
 * requests routed by slot, status, layout, membership). See DESIGN.md "Multi-Raft and sharding".
 *
 * <p>Over 600 lines: the constructor wires the runtime's parts, and the bootstrap of new groups,
 * the creation of replicas for a leader's messages and the reports to the shard controller need
 * its private state, as do the start of replicas for groups a Join places here, the migration
 * driver's host, and the placement driver's (dropping a replica a move took off this store: its
 * engine, log and the record in {@link DroppedGroups}), and where the shard controller is (created
 * on, saved, and as the newest configuration lists it); the next part to move out is the bootstrap
 * of groups (initial and joined, with the controller's entry), which would take about 200 lines
 * with it.
 */
public final class Store implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Store.class);
    /** Per-group byte threshold for snapshots: this budget shared by the groups, within the bounds below. */
    /** Where the shared Raft log lives in the data directory; its presence means the directory holds data. */
    static final String RAFT_DIRECTORY = "raft";
    static final long SNAPSHOT_BUDGET_BYTES = 256L << 20;
    static final long MIN_SNAPSHOT_THRESHOLD_BYTES = 4L << 20;
    static final long MAX_SNAPSHOT_THRESHOLD_BYTES = 64L << 20;

    /**
     * The entry bytes all groups may apply between their snapshots, together: 256 MiB, or an
     * eighth of the heap when that is less. A group's log stays in memory until its snapshot (plus
     * a quarter behind it), so with 16 groups and a 512 MB heap the fixed 256 MiB let the logs
     * alone take 350 MB under a load of 4 KB records, and the store ran out of heap
     * (bench/scripts/larger-than-memory.sh, 2026-12-06).
     */
    static long snapshotBudgetBytes(long maxHeapBytes) {
        return Math.min(SNAPSHOT_BUDGET_BYTES, Math.max(MIN_SNAPSHOT_THRESHOLD_BYTES, maxHeapBytes / 8));
    }

    /**
     * Client writes are refused (UNAVAILABLE, retried by the client) while the groups' logs in
     * memory exceed twice the snapshot budget: the budget decides when snapshots start, this bounds
     * what the heap holds when they cannot keep up.
     */
    static long logBytesLimit(long maxHeapBytes) {
        return 2 * snapshotBudgetBytes(maxHeapBytes);
    }

    private final long logBytesLimit = logBytesLimit(Runtime.getRuntime().maxMemory());
    private final NodeConfig config;
    /** The layout the cluster was created with (configuration 1): it decides the initial groups and their replicas. */
    private final SlotLayout layout;
    /** The newest configuration known, which requests are routed by; see {@link MigrationDriver}. */
    private final LiveLayout liveLayout;
    private final MigrationDriver migration;
    /** Carries out the controller's replica moves; see {@link ReplicaPlacementDriver}. */
    private final ReplicaPlacementDriver placement;
    /** Groups of the creation layout a replica move took off this store: not created again at start. */
    private final DroppedGroups dropped;
    private final ExpiryDriver expiry;
    private final RpcClient migrationRpc;
    /**
     * The stores group 0, the shard controller, was created on: they bootstrap it. Where it is now
     * is {@link #controllerStores()}.
     */
    private final List<Long> createdControllerStores;
    /** Where group 0 was last seen listed, kept across restarts ({@link ControllerStores#readLatest}). */
    private volatile List<Long> savedControllerStores;
    private final Object controllerStoresLock = new Object();
    private final StoreLog log;
    private final Membership addresses;
    private final StoreLiveness liveness;
    private final StoreTransport transport;
    private final ReplicaScheduler scheduler;
    private final ApplyStage applyStage;
    private final StoreContext context;
    private final StoreReports reports;
    /** Assigned early so that a failed start can close the engines it opened. */
    private GroupEngines engines;
    private final ConcurrentSkipListMap<Long, Replica> replicas = new ConcurrentSkipListMap<>();
    private final StoreTicker ticker;
    private final LeaderBalancer balancer;
    private final WalPinRelief pinRelief;
    private final StoreService service;
    private final RpcServer peerServer;
    private final RpcServer clientServer;
    /** The Redis-protocol endpoint and the client it asks peers with; both null without a resp-address. */
    private final RespServer respServer;
    private final RpcClient respRpc;
    private final StoreMetrics metrics;
    private final PeerRoundTrips roundTrips;
    /** Null without a metrics address. */
    private volatile MetricsServer metricsServer;
    private volatile boolean started;
    private volatile boolean closed;
    /** Set when the store stops itself (forgotten by the controller): it creates no replica from then on. */
    private volatile boolean closing;
    /** Ticker thread only. */
    private boolean campaignedAtStart;
    /** Ticker thread only: when this store last reported to the shard controller. */
    private long lastReportNanos = System.nanoTime() - StoreReports.PERIOD_NANOS;
    private final GroupSizes groupSizes = new GroupSizes();
    /** Which added store this data directory belongs to; tells when the controller forgot it. */
    private final AddedStoreIncarnation incarnation;
    /** Completed, with the reason, once this store stopped because the shard controller forgot it. */
    private final CompletableFuture<String> forgotten = new CompletableFuture<>();

    private Store(NodeConfig config) throws IOException {
        this.config = config;
        if (config.engine().kind() == EngineKind.ROCKSDB) {
            // Overlaps the native library's extraction with the checks and the WAL recovery below.
            io.loomkv.engine.rocksdb.RocksDbSharedMemory.preloadNativeLibrary();
        }
        Files.createDirectories(config.dataDirectory());
        // Refuse another node's or another cluster's data before reading any of it.
        new DataDirectoryIdentity(config.clusterId(), config.nodeId()).claimOrVerify(config.dataDirectory());
        new DataDirectoryEngine(config.engine().kind().configName()).claimOrVerify(config.dataDirectory(), RAFT_DIRECTORY);
        this.incarnation = AddedStoreIncarnation.load(config.dataDirectory(), config.nodeId(), config.self());
        this.addresses = new Membership(config.dataDirectory(), config.members());
        this.reports = new StoreReports(addresses);
        this.createdControllerStores = StoreLayouts.controllerStores(config);
        SlotLayout loaded = StoreLayouts.loadOrCreate(config);
        // Configuration 1 lists the controller's stores (a data directory from before layouts did
        // gets them here), so the controller's own history carries them from its first entry.
        this.layout = loaded.controllerStores().isEmpty() && !config.join()
                ? loaded.withController(createdControllerStores, 0) : loaded;
        this.savedControllerStores = ControllerStores.readLatest(config.dataDirectory()).orElse(createdControllerStores);
        addresses.learn(layout.addedStores());
        if (incarnation.forgottenBy(layout)) { // records this store's addition if the layout lists it
            throw new DataDirectoryMismatchException("store " + config.nodeId() + " was forgotten by the shard controller"
                    + " (configuration " + layout.version() + "); data directory " + config.dataDirectory() + " cannot be started again");
        }
        this.liveLayout = new LiveLayout(layout, this::followConfiguration);
        this.dropped = DroppedGroups.load(config.dataDirectory());
        this.log = StoreLog.open(StoreLogOptions.defaults(config.dataDirectory().resolve(RAFT_DIRECTORY)).withFsync(config.fsync()));
        try {
            this.metrics = config.metricsAddress() == null ? StoreMetrics.disabled() : StoreMetrics.enabled();
            log.observeWal(metrics.walObserver());
            this.roundTrips = new PeerRoundTrips(metrics);
            Duration election = Duration.ofMillis((long) config.tickIntervalMillis() * config.electionTimeoutTicks());
            this.liveness = new StoreLiveness(election.toNanos(), System.nanoTime());
            this.transport = new StoreTransport(config.nodeId(), addresses,
                    StoreTransport.peerClientConfig(config.clusterId(), config.nodeId(), election).withTls(config.tls().peerClientContext())
                            .withCompressThresholdBytes(config.frameCompressThresholdBytes()));
            if (metrics.isEnabled()) {
                transport.observeTraffic(metrics.peerTraffic());
                transport.measureRoundTrips(roundTrips);
                // Every peer's series from the start, so dashboards and alerts find them before the first sample.
                config.members().stream().filter(m -> m.id() != config.nodeId()).forEach(m -> metrics.peerRoundTrip(m.id()));
            }
            String storeName = Long.toString(config.nodeId());
            this.scheduler = new ReplicaScheduler(storeName, config.raftWorkers(), transport, metrics);
            this.applyStage = new ApplyStage(storeName, config.applyThreads());
            KvLimits limits = KvLimits.defaults().withMaxKeyBytes(config.maxKeyBytes()).withMaxValueBytes(config.maxValueBytes());
            TreeSet<Long> hosted = hostedGroups();
            long snapshotBytes = Math.clamp(snapshotBudgetBytes(Runtime.getRuntime().maxMemory()) / Math.max(1, hosted.size()),
                    MIN_SNAPSHOT_THRESHOLD_BYTES, MAX_SNAPSHOT_THRESHOLD_BYTES);
            this.engines = new GroupEngines(config.nodeId(), config.engine(), config.dataDirectory(), hosted.size());
            this.ticker = new StoreTicker("store-ticker-" + storeName, config.nodeId(),
                    TimeUnit.MILLISECONDS.toNanos(config.tickIntervalMillis()), replicas::values, this::peerStores, liveness, transport, this::housekeeping);
            this.context = new StoreContext(config, limits, transport, scheduler, ticker, applyStage, addresses, liveness,
                    snapshotBytes, engines, metrics);
            bootstrapNewGroups(hosted);
            for (long group : hosted) {
                GroupStorage storage = log.group(group);
                replicas.put(group, Replica.open(group, context, storage, slotsOf(group)));
            }
            this.balancer = new LeaderBalancer(config.nodeId(), layout);
            this.pinRelief = new WalPinRelief(config.nodeId(), log, group -> {
                Replica replica = replicas.get(group);
                return replica == null ? null : new WalPinRelief.PinnedReplica() {
                    @Override
                    public long appliedIndex() {
                        return replica.state().appliedIndex();
                    }

                    @Override
                    public void requestSnapshot() {
                        replica.applier().requestSnapshot();
                    }
                };
            });
            this.service = new StoreService(config, new StoreService.Replicas() {
                @Override
                public SlotLayout layout() {
                    return liveLayout.current();
                }

                @Override
                public SlotLayout freshestLayout() {
                    return Store.this.freshestLayout();
                }

                @Override
                public Replica replica(long groupId) {
                    return replicas.get(groupId);
                }

                @Override
                public Iterable<Replica> all() {
                    return replicas.values();
                }

                @Override
                public Membership addresses() {
                    return addresses;
                }

                @Override
                public long walForceCount() {
                    return log.walForceCount();
                }

                @Override
                public long logBytesInMemory() {
                    return log.entryBytesInMemory();
                }

                @Override
                public long logBytesLimit() {
                    return logBytesLimit;
                }

                @Override
                public List<Long> controllerStores() {
                    return Store.this.controllerStores();
                }

                @Override
                public StoreReports reports() {
                    return reports;
                }
            }, limits, metrics);
            StoreGauges.register(metrics, replicas.values(), log, liveLayout::current);
            this.peerServer = new RpcServer(RpcServerConfig.defaults(config.clusterId()).withNodeId(config.nodeId())
                    .withTls(config.tls().peerServerContext()).withCompressThresholdBytes(config.frameCompressThresholdBytes()),
                    RpcHandlers.builder()
                            .addOneWay(NodeMethods.RAFT_BATCH, this::onRaftBatch)
                            .addOneWay(NodeMethods.STORE_HEARTBEAT, (heartbeat, ctx) -> heard(ctx))
                            .addOneWay(NodeMethods.STORE_REPORT, (report, ctx) -> {
                                heard(ctx);
                                if (isLeader(GroupIds.CONTROLLER_GROUP_ID)) {
                                    reports.record(report, ctx.peerNodeId(), System.nanoTime());
                                }
                            })
                            .addOneWay(NodeMethods.REMOVAL_QUERY, (query, ctx) -> {
                                Replica replica = replicas.get(query.getGroupId());
                                if (replica != null && query.getFrom() == ctx.peerNodeId()) {
                                    replica.onRemovalQuery(query.getFrom());
                                }
                            })
                            .addOneWay(NodeMethods.REMOVED_NOTICE, (notice, ctx) -> {
                                Replica replica = replicas.get(notice.getGroupId());
                                if (replica == null || notice.getNodeId() != config.nodeId()
                                        || notice.getFrom() != ctx.peerNodeId()) {
                                    return;
                                }
                                if (notice.getRemovalIndex() <= 0 || notice.getRemovalTerm() <= 0) {
                                    // A notice that names no removal cannot be checked against a re-addition.
                                    LOG.debug("removed notice from {} for group {} names no removal: ignored", notice.getFrom(),
                                            notice.getGroupId());
                                    return;
                                }
                                replica.onRemovedNotice(notice.getFrom(), new RemovalNotices.Removal(notice.getRemovalIndex(),
                                        notice.getRemovalTerm(), !notice.getRemovalEntryUnknown()));
                            })
                            .add(NodeMethods.MIGRATION, (request, ctx) -> {
                                heard(ctx);
                                KvReply latest = latestConfigReply(request);
                                return latest != null ? CompletableFuture.completedFuture(latest)
                                        : service.executeFromStore(request);
                            })
                            .onHandshake(this::onPeerHandshake)
                            .build());
            this.clientServer = new RpcServer(RpcServerConfig.defaults(config.clusterId()).withNodeId(config.nodeId())
                    .withTls(config.tls().clientServerContext()).withCompressThresholdBytes(config.frameCompressThresholdBytes()),
                    service.register(RpcHandlers.builder()).build());
            // With client TLS, the RESP port speaks TLS too, and the calls to other stores' client ports behind it.
            // Connections to other stores as the Java client has them: one, carrying more requests per read and write.
            this.respRpc = config.respAddress() == null ? null
                    : new RpcClient(RpcClientConfig.client(config.clusterId()).withTls(config.tls().clientCallContext())
                            .withCompressThresholdBytes(config.frameCompressThresholdBytes())
                            .withConnectionsPerEndpoint(KvClient.CONNECTIONS_PER_STORE)
                            .withMaxInFlightPerConnection(KvClient.MAX_IN_FLIGHT_PER_STORE));
            this.respServer = respRpc == null ? null : new RespServer(RespServerConfig.defaults(), new StoreRespBackend(
                    config, this::freshestLayout, service, replicas::get, addresses,
                    new RespPeerDirectory(config.nodeId(), addresses, respRpc, System::nanoTime), respRpc),
                    config.tls().respServerContext());
            peerServer.observeTraffic(metrics.peerTraffic());
            clientServer.observeTraffic(metrics.clientTraffic());
            this.migrationRpc = new RpcClient(StoreTransport.peerClientConfig(config.clusterId(), config.nodeId(), election)
                    .withTls(config.tls().peerClientContext()).withCompressThresholdBytes(config.frameCompressThresholdBytes()));
            // Slot moves are peer traffic too (the exports' bytes show in loomkv_network_peer_*).
            migrationRpc.observeTraffic(metrics.peerTraffic());
            MigrationDriver.Host driverHost = migrationHost();
            this.migration = new MigrationDriver(driverHost, migrationRpc);
            this.placement = new ReplicaPlacementDriver(placementHost());
            this.expiry = new ExpiryDriver(driverHost, count -> metrics.keysExpired().inc(count));
        } catch (IOException | RuntimeException e) {
            if (engines != null) {
                engines.close();
            }
            log.close();
            throw e;
        }
    }

    /** Recovers and starts a store; returns once its servers listen. */
    public static Store start(NodeConfig config) throws IOException {
        // Every thread the store starts, and every connection thread those start, carries its node id (LogContext).
        try (LogContext.Scope ignored = LogContext.node(config.nodeId())) {
            return startWithLogContext(config);
        }
    }

    private static Store startWithLogContext(NodeConfig config) throws IOException {
        Store store = new Store(config);
        try {
            store.applyStage.start();
            store.scheduler.start();
            store.ticker.start();
            store.peerServer.start(config.peerAddress());
            store.clientServer.start(config.clientAddress());
            if (store.respServer != null) {
                store.respServer.start(config.respAddress());
            }
            store.transport.connect(store.addresses.ids());
            store.migration.start();
            store.placement.start();
            store.expiry.start();
            if (config.metricsAddress() != null) {
                store.metricsServer = MetricsServer.start(config.metricsAddress(), store.metrics, store.livenessChecks(),
                        store.readinessChecks(), config.tls().metricsServerContext());
            }
            store.started = true;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        LOG.info("store {} of cluster '{}' serving {} groups (layout {}) for clients on {} and peers on {} (data in {}; {})",
                config.nodeId(), config.clusterId(), store.replicas.size(), store.layout.version(),
                MemberAddress.format(config.clientAddress()), MemberAddress.format(config.peerAddress()),
                config.dataDirectory(), store.metricsServer == null ? "no metrics-address"
                        : "metrics and health on " + (config.tls().metricsHttps() ? "https://" : "http://")
                                + MemberAddress.format(store.metricsServer.address()));
        return store;
    }

    /** {@code /livez}: the process can do work; never depends on a leader (etcd's semantics). */
    private List<HealthCheck> livenessChecks() {
        return List.of(
                new HealthCheck("store", () -> closed ? "the store is stopping" : null),
                new HealthCheck("wal", () -> log.failure() == null ? null : "the WAL failed: " + log.failure()));
    }

    /** {@code /readyz} adds: started, and every hosted group has a known leader and a working replica. */
    private List<HealthCheck> readinessChecks() {
        return List.of(
                new HealthCheck("started", () -> started ? null : "the store is starting"),
                new HealthCheck("leader", () -> groupsWhere(r -> r.state().leaderId() == 0, "without a known leader")),
                new HealthCheck("replicas", () -> groupsWhere(r -> r.state().failure() != null, "whose replica failed")));
    }

    /** Null when no hosted group matches, else a short description naming the first few. */
    private String groupsWhere(java.util.function.Predicate<Replica> bad, String what) {
        List<Long> found = new ArrayList<>();
        int count = 0;
        for (Replica replica : replicas.values()) {
            if (bad.test(replica)) {
                count++;
                if (found.size() < 5) {
                    found.add(replica.groupId());
                }
            }
        }
        if (count == 0) {
            return null;
        }
        return count + " of " + replicas.size() + " groups " + what + " (" + found + (count > found.size() ? " ...)" : ")");
    }

    /**
     * The groups with a replica here: those the layout places here (and group 0, the shard
     * controller, on the controller stores), and those a membership change added since.
     */
    private TreeSet<Long> hostedGroups() {
        TreeSet<Long> hosted = new TreeSet<>(log.groups().keySet());
        if (config.join()) {
            return hosted;
        }
        for (long group : layout.groups()) {
            if (layout.replicas(group).contains(config.nodeId()) && !dropped.contains(group)) {
                hosted.add(group);
            }
        }
        if (createdControllerStores.contains(config.nodeId()) && !dropped.contains(GroupIds.CONTROLLER_GROUP_ID)) {
            hosted.add(GroupIds.CONTROLLER_GROUP_ID);
        }
        return hosted;
    }

    /**
     * The stores a group was created on: the creation layout's replicas, or the stores the
     * controller was created on for group 0 (not where it is now: a store a move listed but that
     * crashed before the leader filled its replica must not write a membership of its own).
     */
    private List<Long> initialReplicas(long group) {
        return group == GroupIds.CONTROLLER_GROUP_ID ? createdControllerStores : layout.replicas(group);
    }

    /**
     * The slots a new replica starts with: its group's under the layout the cluster was created
     * with; none for the controller or a group added later (its state machine walks the
     * configurations from 0, and a restart takes its slots from its snapshot and log).
     */
    private SlotSet slotsOf(long group) {
        return group == GroupIds.CONTROLLER_GROUP_ID || !layout.hasGroup(group) ? SlotSet.empty()
                : layout.slotsOf(group);
    }

    /**
     * A brand-new replica of a group of the initial layout writes the group's initial membership
     * into its log as committed conf-change entries at term 1 (one per replica store, in id order,
     * so every initial replica writes identical entries), as etcd's bootstrap does. The membership
     * then lives in the log like every later change. All new groups go to the WAL together.
     */
    private void bootstrapNewGroups(Collection<Long> hosted) throws IOException {
        List<java.util.concurrent.CompletableFuture<Long>> writes = new ArrayList<>();
        for (long group : hosted) {
            if (log.groups().containsKey(group)) {
                continue;
            }
            GroupStorage storage = log.createGroup(group);
            if (config.join() || !initialReplicas(group).contains(config.nodeId())) {
                continue; // Joins an existing group: it learns the membership from the leader.
            }
            List<Entry> entries = membershipEntries(group, initialReplicas(group));
            if (group == GroupIds.CONTROLLER_GROUP_ID) {
                entries.add(Entry.newBuilder().setTerm(1).setIndex(entries.size() + 1).setType(EntryType.ENTRY_NORMAL)
                        .setData(controllerBootstrap(layout).toByteString()).build());
            }
            HardState hardState = HardState.newBuilder().setTerm(1).setCommit(entries.size()).build();
            writes.add(storage.append(hardState, entries, true));
        }
        try {
            for (var write : writes) {
                write.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the bootstrap entries", e);
        } catch (ExecutionException e) {
            throw new IOException("writing the bootstrap entries failed", e.getCause());
        }
        if (!writes.isEmpty()) {
            LOG.info("store {}: new replica of {} groups; wrote their initial membership", config.nodeId(), writes.size());
        }
    }

    /**
     * A new group's initial membership as committed conf-change entries at term 1, one per replica
     * store in id order: every replica writes identical entries.
     */
    private List<Entry> membershipEntries(long group, List<Long> replicaStores) {
        List<Entry> entries = new ArrayList<>();
        for (long member : replicaStores.stream().sorted(Comparator.naturalOrder()).toList()) {
            MemberAddress address = addresses.get(member);
            if (address == null) {
                throw new IllegalStateException("group " + group + " has a replica on store " + member
                        + ", which is not in the configured members " + config.members());
            }
            ConfChange change = ConfChange.newBuilder()
                    .addChanges(ConfChangeSingle.newBuilder().setType(ConfChangeType.CONF_CHANGE_ADD_NODE).setNodeId(member))
                    .setContext(ByteString.copyFrom(address.toContext()))
                    .build();
            entries.add(Entry.newBuilder().setTerm(1).setIndex(entries.size() + 1).setType(EntryType.ENTRY_CONF_CHANGE)
                    .setData(change.toByteString()).build());
        }
        return entries;
    }

    /**
     * Starts this store's replica of a group a configuration created after the cluster (a Join):
     * like an initial group, every store the configuration places it on writes the same initial
     * membership, so they elect a leader among themselves. Its state machine starts at
     * configuration 0 and walks up to the one that created it, where it pulls its slots.
     */
    private void hostGroup(long group, List<Long> replicaStores) {
        if (ReplicaPlacementDriver.managed(liveLayout.current(), group)) {
            // A replica move put this store on a running group: its leader adds it as a learner, and
            // its first message creates the replica (replicaFor); an initial membership would be wrong.
            return;
        }
        createLock.lock();
        try {
            if (replicas.containsKey(group) || closed) {
                return;
            }
            GroupStorage storage = log.groups().containsKey(group) ? log.group(group) : log.createGroup(group);
            if (storage.lastIndex() == 0) {
                List<Entry> entries = membershipEntries(group, replicaStores);
                HardState hardState = HardState.newBuilder().setTerm(1).setCommit(entries.size()).build();
                storage.append(hardState, entries, true).get();
            }
            replicas.put(group, Replica.open(group, context, storage, SlotSet.empty()));
            LOG.info("store {}: started a replica of new group {} on stores {}", config.nodeId(), group, replicaStores);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | ExecutionException | RuntimeException e) {
            LOG.warn("store {}: could not start a replica of new group {}: {}", config.nodeId(), group, e.toString());
        } finally {
            createLock.unlock();
        }
    }

    /**
     * A peer's question for the controller's newest configuration, answered from this store's
     * replica of group 0 as applied (what a SERIALIZABLE query would read) without waking the
     * group: every store asks every few hundred milliseconds. Null for any other request.
     */
    private KvReply latestConfigReply(KvRequest request) {
        if (request.getOpCase() != KvRequest.OpCase.CONTROLLER || !request.getController().hasQuery()
                || request.getController().getQuery().getNumber() != -1
                || request.getConsistency() != ReadConsistency.SERIALIZABLE) {
            return null;
        }
        Replica controller = replicas.get(GroupIds.CONTROLLER_GROUP_ID);
        SlotLayout latest = controller == null ? null : controller.latestControllerConfig();
        if (latest == null) {
            return null;
        }
        return KvReply.newBuilder().setStatus(io.loomkv.core.kv.proto.Status.OK)
                .setController(ControllerReply.newBuilder().setConfig(latest.toProto())).build();
    }

    /**
     * A newer configuration was taken: the address book follows its added and forgotten stores,
     * unless it says this store was forgotten. Then the store stops (on its own thread: this runs
     * on the migration driver or a request's thread, which closing waits for), and the data
     * directory is marked so that it never starts again (see {@link AddedStoreIncarnation}).
     */
    private void followConfiguration(SlotLayout taken) {
        if (forgotten.isDone() || closing) {
            return;
        }
        boolean forgottenHere = false;
        try {
            forgottenHere = incarnation.forgottenBy(taken);
        } catch (IOException e) {
            // Not recorded: the next configuration taken tries again (stopping now would make a disk
            // error look like the controller's decision); the address book follows this one meanwhile.
            LOG.warn("store {}: could not write {}: {}", config.nodeId(), AddedStoreIncarnation.FILE_NAME, e.toString());
        }
        if (!forgottenHere) {
            addresses.follow(taken.version(), taken.addedStores(), config.nodeId());
            saveControllerStores(taken.controllerStores());
            // Null while the constructor offers the first layout; the drivers start with a round anyway.
            if (migration != null) {
                migration.wake();
            }
            if (placement != null) {
                placement.wake();
            }
            return;
        }
        closing = true;
        String reason = "store " + config.nodeId() + " was forgotten by the shard controller (configuration " + taken.version()
                + "); it stopped, and its data directory " + config.dataDirectory() + " cannot be started again";
        LOG.warn("{}", reason);
        Thread.ofVirtual().name("store-forgotten-" + config.nodeId()).start(() -> {
            close();
            forgotten.complete(reason);
        });
    }

    /**
     * Keeps where a configuration lists the controller, so that after a restart this store still
     * finds it when none of the stores it was created on hosts it any more.
     */
    private void saveControllerStores(List<Long> listed) {
        if (listed.isEmpty() || listed.equals(savedControllerStores)) {
            return;
        }
        synchronized (controllerStoresLock) {
            if (listed.equals(savedControllerStores)) {
                return;
            }
            try {
                ControllerStores.writeLatest(config.dataDirectory(), listed);
                savedControllerStores = listed;
                LOG.info("store {}: the shard controller is on stores {} now", config.nodeId(), listed);
            } catch (IOException e) {
                // The next configuration taken tries again; routing follows the live layout meanwhile.
                LOG.warn("store {}: could not save the controller's stores {}: {}", config.nodeId(), listed, e.toString());
            }
        }
    }

    /**
     * Completes, with the reason, once this store stopped because the shard controller forgot it
     * (controller ForgetStore, or its id added again as another store); the server process then
     * exits.
     */
    public CompletableFuture<String> forgotten() {
        return forgotten;
    }

    /**
     * The layout the RESP endpoint routes by, and a leader's first message for a group not hosted
     * here is judged by ({@link #synchronizedCreate}): the live layout, first moved up to the configuration
     * this store's replica of group 0 has applied, if that is newer. The migration driver offers a
     * new configuration only every few hundred milliseconds; in that window two stores could route a
     * moved slot by different configurations and send a Redis Cluster client back and forth with
     * -MOVED (Jedis and Lettuce give up after 5 redirections). A volatile read when nothing is newer.
     */
    private SlotLayout freshestLayout() {
        Replica controller = replicas.get(GroupIds.CONTROLLER_GROUP_ID);
        SlotLayout applied = controller == null ? null : controller.latestControllerConfig();
        if (applied != null && applied.version() > liveLayout.current().version()) {
            liveLayout.offer(applied);
        }
        return liveLayout.current();
    }

    /**
     * Stops this store's replica of a group it was removed from and deletes the group's log,
     * snapshots and engine. The group is recorded as dropped first, so a crash in the middle does
     * not bring the replica back at the next start.
     */
    private void dropReplica(long group) {
        Replica replica;
        createLock.lock();
        try {
            replica = replicas.get(group);
            if (replica == null || !replica.state().removed() || closed) {
                return;
            }
            if (layout.hasGroup(group) || group == GroupIds.CONTROLLER_GROUP_ID) {
                dropped.add(group);
            }
            replicas.remove(group);
        } catch (IOException e) {
            LOG.warn("store {}: could not record group {} as dropped; keeping its replica: {}", config.nodeId(), group,
                    e.toString());
            return;
        } finally {
            createLock.unlock();
        }
        try {
            replica.retire();
            engines.drop(group);
            if (log.groups().containsKey(group)) {
                log.removeGroup(group);
            }
            LOG.info("store {}: left group {}; its replica stopped and its data is deleted", config.nodeId(), group);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            LOG.warn("store {}: deleting the data of group {} failed: {}", config.nodeId(), group, e.toString());
        }
    }

    private ReplicaPlacementDriver.Host placementHost() {
        return new ReplicaPlacementDriver.Host() {
            @Override
            public long storeId() {
                return config.nodeId();
            }

            @Override
            public Iterable<Replica> replicas() {
                return replicas.values();
            }

            @Override
            public SlotLayout layout() {
                return liveLayout.current();
            }

            @Override
            public Membership addresses() {
                return addresses;
            }

            @Override
            public void dropReplica(long groupId) {
                Store.this.dropReplica(groupId);
            }
        };
    }

    private MigrationDriver.Host migrationHost() {
        return new MigrationDriver.Host() {
            @Override
            public long storeId() {
                return config.nodeId();
            }

            @Override
            public Iterable<Replica> replicas() {
                return replicas.values();
            }

            @Override
            public boolean hosts(long groupId) {
                return replicas.containsKey(groupId);
            }

            @Override
            public java.util.concurrent.CompletionStage<io.loomkv.core.kv.proto.KvReply> local(
                    io.loomkv.core.kv.proto.KvRequest request) {
                return service.executeFromStore(request);
            }

            @Override
            public LiveLayout layout() {
                return liveLayout;
            }

            @Override
            public Membership addresses() {
                return addresses;
            }

            @Override
            public List<Long> controllerStores() {
                return Store.this.controllerStores();
            }

            @Override
            public SlotLayout controllerConfigHere() {
                Replica controller = replicas.get(GroupIds.CONTROLLER_GROUP_ID);
                return controller == null ? null : controller.latestControllerConfig();
            }

            @Override
            public void hostGroup(long groupId, List<Long> stores) {
                Store.this.hostGroup(groupId, stores);
            }
        };
    }

    /**
     * The shard controller's first log command: configuration 1 is the layout the cluster was
     * created with. Session-less and stamped with a fixed time, so every initial controller
     * replica writes byte-identical entries (the log-matching property needs no less).
     */
    static CommandBatch controllerBootstrap(SlotLayout layout) {
        return CommandBatch.newBuilder().addCommands(Command.newBuilder()
                .setTimestampMillis(1)
                .setController(ControllerCommand.newBuilder()
                        .setBootstrap(Bootstrap.newBuilder().setConfig(layout.toProto()))))
                .build();
    }

    /** See {@link Replica#campaignIfLeaderless()}; only with several groups (one group has nothing to spread). */
    private void campaignWherePreferred() {
        if (layout.groups().size() <= 1) {
            return;
        }
        for (Replica replica : replicas.values()) {
            if (layout.hasGroup(replica.groupId())
                    && LeaderBalancer.preferredLeader(layout, replica.groupId()) == config.nodeId()) {
                replica.campaignIfLeaderless();
            }
        }
    }

    private Collection<Long> peerStores() {
        return addresses.ids();
    }

    private void heard(CallContext context) {
        liveness.heard(context.peerNodeId(), System.nanoTime());
    }

    private void onPeerHandshake(CallContext context) {
        if (context.isPeer()) {
            heard(context);
            transport.peerConnected(context.peerNodeId());
        }
    }

    private void onRaftBatch(RaftBatch batch, CallContext context) {
        long from = context.peerNodeId();
        long now = System.nanoTime();
        liveness.heard(from, now);
        boolean heartbeatResponseSeen = false;
        for (GroupMessage message : batch.getMessagesList()) {
            Replica replica = replicaFor(message);
            if (replica == null) {
                continue;
            }
            switch (message.getBodyCase()) {
                case RAFT -> {
                    Message raft = message.getRaft();
                    if (raft.getFrom() != from || raft.getTo() != config.nodeId()) {
                        LOG.warn("store {}: dropping {} of group {} claiming from={} to={} on a connection of store {}",
                                config.nodeId(), raft.getType(), message.getGroupId(), raft.getFrom(), raft.getTo(), from);
                        continue;
                    }
                    if (!heartbeatResponseSeen && raft.getType() == MessageType.MSG_HEARTBEAT_RESP) {
                        heartbeatResponseSeen = true;
                        roundTrips.responseReceived(from, now);
                    }
                    replica.deliver(raft);
                }
                case QUIESCE -> replica.deliverQuiesce(from, message.getQuiesce().getTerm(), message.getQuiesce().getLastIndex());
                case WAKE -> replica.deliverWake();
                case BODY_NOT_SET -> LOG.warn("store {}: empty group message from store {}", config.nodeId(), from);
            }
        }
    }

    /**
     * The replica a message is for. A store added to a group (as a learner, by a membership change)
     * has no replica of it until its leader first reaches it: then an empty one is created, which
     * learns everything from the leader. Only a leader's messages create one, and only for groups
     * of the layout.
     */
    private Replica replicaFor(GroupMessage message) {
        long group = message.getGroupId();
        Replica replica = replicas.get(group);
        if (replica != null || closed || closing) {
            return replica;
        }
        boolean known = liveLayout.current().hasGroup(group) || group == GroupIds.CONTROLLER_GROUP_ID;
        if (!message.hasRaft() || !known || !LeaderMessages.isLeaderMessage(message.getRaft().getType())) {
            return null;
        }
        synchronizedCreate(group);
        return replicas.get(group);
    }

    private final java.util.concurrent.locks.ReentrantLock createLock = new java.util.concurrent.locks.ReentrantLock();
    /** Under createLock. */
    private final ReplicaCreationGate creationGate = new ReplicaCreationGate(4 * NodeConfig.MAX_DATA_GROUPS);

    private void synchronizedCreate(long group) {
        createLock.lock();
        try {
            if (replicas.containsKey(group) || closed) {
                return;
            }
            // Under the lock: leaders' first messages arrive on several RPC threads at once, and a
            // count taken before it let three groups' moves in together (StoreReplicaMoveTest's
            // rate-limit test, under load: three replicas created within 30 ms).
            SlotLayout layout = freshestLayout();
            int incoming = ReplicaPlacementDriver.incomingMoves(layout, config.nodeId(), replicas.values());
            switch (creationGate.decide(layout, group, config.nodeId(), incoming, System.nanoTime(),
                    migration.layoutFreshAsOfNanos())) {
                case WAIT -> {
                    migration.wake(); // Refreshes the layout; the leader retries its message meanwhile.
                    return;
                }
                case REFUSE -> {
                    return; // Stale, or a move here waits for another to finish; the leader retries.
                }
                case CREATE -> {
                    // Below.
                }
            }
            GroupStorage storage = log.groups().containsKey(group) ? log.group(group) : log.createGroup(group);
            boolean empty = storage.lastIndex() == 0 && storage.snapshotMetadata().getIndex() == 0;
            replicas.put(group, Replica.open(group, context, storage, slotsOf(group), empty));
            LOG.info("store {}: created a replica of group {} for its leader to fill", config.nodeId(), group);
        } catch (IOException | RuntimeException e) {
            LOG.warn("store {}: could not create a replica of group {}: {}", config.nodeId(), group, e.toString());
        } finally {
            createLock.unlock();
        }
    }

    /**
     * On the ticker, first two ticks after start (peer connections are being opened by then), then
     * once a second: let preferred stores campaign at once the first time; after that move
     * leadership towards each group's preferred store, and relieve groups that pin old WAL segments.
     */
    private void housekeeping() {
        if (!campaignedAtStart) {
            campaignedAtStart = true;
            campaignWherePreferred();
            return;
        }
        long now = System.nanoTime();
        balancer.run(replicas.values(), id -> liveness.isLive(id, now));
        pinRelief.maybeRun();
        if (now - lastReportNanos >= StoreReports.PERIOD_NANOS) {
            lastReportNanos = now;
            reportToController(now);
        }
    }

    /**
     * Tells the shard controller what this store hosts and leads: to the stores that host group 0
     * (the initial ones, and the leader this store's own replica knows of); only the leader keeps it.
     */
    private void reportToController(long now) {
        StoreReport.Builder report = StoreReport.newBuilder().setStoreId(config.nodeId())
                .setClientAddress(MemberAddress.format(config.clientAddress()))
                .setPeerAddress(MemberAddress.format(config.peerAddress()));
        Map<Long, GroupSizes.Size> sizes = groupSizes.of(replicas.values(), now);
        for (Replica replica : replicas.values()) {
            GroupView.Builder view = StoreService.view(replica).toBuilder();
            GroupSizes.Size size = sizes.get(replica.groupId());
            if (size != null) {
                view.setKeys(size.keys()).setDataBytes(size.dataBytes());
            }
            report.addGroups(view);
        }
        StoreReport built = report.build();
        TreeSet<Long> targets = new TreeSet<>(controllerStores());
        long leader = leaderId(GroupIds.CONTROLLER_GROUP_ID);
        if (leader != 0) {
            targets.add(leader);
        }
        for (long store : targets) {
            if (store != config.nodeId()) {
                transport.sendReport(store, built);
            } else if (isLeader(GroupIds.CONTROLLER_GROUP_ID)) {
                reports.record(built, store, now);
            }
        }
    }

    // ---- for tests and tools ----

    /** Where this store believes store {@code id} listens, or null when it does not know it. */
    MemberAddress memberAddress(long id) {
        return addresses.get(id);
    }

    /** Fault injection on this store's outgoing Raft traffic (tests only; nothing is injected by default). */
    public PeerFaults peerFaults() {
        return transport.faults();
    }

    /** The port of the Redis-protocol endpoint, or -1 when it has none. */
    public int respPort() {
        return respServer == null ? -1 : respServer.port();
    }

    public NodeConfig config() {
        return config;
    }

    public long storeId() {
        return config.nodeId();
    }

    public SlotLayout layout() {
        return layout;
    }

    /**
     * The stores that host group 0, the shard controller, as the newest configuration this store
     * knows lists them (or, before it knows one that does, as last saved or created).
     */
    public List<Long> controllerStores() {
        SlotLayout live = liveLayout.current();
        // Until a newer configuration arrives, the list saved at the last run is newer than the creation layout's.
        return live == layout || live.controllerStores().isEmpty() ? savedControllerStores : live.controllerStores();
    }

    /** The groups this store hosts a replica of, ascending. */
    public List<Long> groups() {
        return List.copyOf(replicas.keySet());
    }

    /** Whether this store's replica of {@code groupId} believes it leads and serves. */
    public boolean isLeader(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica != null && replica.state().isLeader() && replica.state().unavailableReason() == null;
    }

    /** The voters of {@code groupId} as this store's replica last applied them, ascending; empty when not hosted. */
    public List<Long> voters(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? List.of() : replica.voters().stream().sorted().toList();
    }

    public long leaderId(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.state().leaderId();
    }

    public long appliedIndex(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.state().appliedIndex();
    }

    /** Null while the replica serves; otherwise why it stopped (removed, failed, not hosted here). */
    public String unavailableReason(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? "no replica of group " + groupId + " here" : replica.state().unavailableReason();
    }

    /** This store's replica of {@code groupId}, or null (tests reach a replica's turn through it). */
    Replica replica(long groupId) {
        return replicas.get(groupId);
    }

    public boolean isQuiet(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica != null && replica.isQuiet();
    }

    /** Reads the replica of {@code groupId} served from its leader lease, without a ReadIndex round. */
    public long leaseReadsServed(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.leaseReadsServed();
    }

    /** Index of the newest compaction point of {@code groupId}: a snapshot or a checkpoint (0 when none). */
    public long snapshotIndex(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.storage().snapshotMetadata().getIndex();
    }

    /** Index of the newest snapshot file of {@code groupId} (0 when none; on a persistent engine only when one was needed). */
    public long snapshotFileIndex(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.storage().snapshotFileMetadata().getIndex();
    }

    /** Log entries the state machine of {@code groupId} applied since this store started (tests: a restart replays only the tail). */
    public long entriesAppliedSinceStart(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.applier().entriesAppliedSinceOpen();
    }

    /** The newest shard controller configuration this store routes by. */
    public long routingConfigNumber() {
        return liveLayout.current().version();
    }

    /**
     * This store's replica's view of its group's slots (configuration number, served and moving
     * slots) as it has applied them; null when the store hosts no replica of the group or it does
     * not answer within 5 s.
     */
    public io.loomkv.core.kv.proto.SlotOwnershipState slotOwnership(long groupId) {
        io.loomkv.core.kv.proto.KvRequest request = io.loomkv.core.kv.proto.KvRequest.newBuilder().setGroupId(groupId)
                .setConsistency(io.loomkv.core.kv.proto.ReadConsistency.SERIALIZABLE)
                .setMigrationRead(io.loomkv.core.kv.proto.MigrationRead.newBuilder().setProgress(true)).build();
        try {
            io.loomkv.core.kv.proto.KvReply reply = service.executeFromStore(request).toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            return reply.getStatus() == io.loomkv.core.kv.proto.Status.OK ? reply.getMigration().getProgress() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    /** Keys in this store's engine of {@code groupId} (exact on the memory engine); -1 when not hosted. */
    public long engineKeyCount(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? -1 : replica.engine().approximateKeyCount();
    }

    /** The client sessions this store's replica of {@code groupId} keeps (approximate while it applies); -1 when not hosted. */
    public int sessionCount(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? -1 : replica.sessionCount();
    }

    /** First index still in the log of {@code groupId}. */
    public long firstLogIndex(long groupId) {
        Replica replica = replicas.get(groupId);
        return replica == null ? 0 : replica.storage().firstIndex();
    }

    /** The address {@code /metrics} and the health endpoints are served on (the real port), or null when off. */
    public java.net.InetSocketAddress metricsAddress() {
        MetricsServer server = metricsServer;
        return server == null ? null : server.address();
    }

    /** WAL force() calls so far; for tests and benchmarks. */
    public long walForceCount() {
        return log.walForceCount();
    }

    /** Stops serving and closes everything; idempotent. Data stays on disk for a restart. */
    @Override
    public void close() {
        try (LogContext.Scope ignored = LogContext.node(config.nodeId())) {
            closeWithLogContext();
        }
    }

    private void closeWithLogContext() {
        if (closed) {
            return;
        }
        closed = true;
        if (expiry != null) {
            expiry.close();
        }
        if (placement != null) {
            placement.close();
        }
        if (migration != null) {
            migration.close();
            migrationRpc.close();
        }
        if (respServer != null) {
            respServer.shutdown(Duration.ofSeconds(1));
            respRpc.close();
        }
        MetricsServer server = metricsServer;
        if (server != null) {
            server.close();
        }
        clientServer.shutdown(Duration.ofSeconds(1));
        peerServer.shutdown(Duration.ofMillis(200));
        ticker.stop();
        scheduler.close();
        applyStage.close();
        try {
            ticker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        transport.close();
        for (Replica replica : replicas.values()) {
            replica.close();
        }
        service.close();
        engines.close();
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("store {}: closing storage: {}", config.nodeId(), e.toString());
        }
        LOG.info("store {} stopped", config.nodeId());
    }
}
