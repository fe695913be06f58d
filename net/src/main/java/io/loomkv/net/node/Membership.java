package io.loomkv.net.node;

import io.loomkv.core.shard.AddedStores;
import io.loomkv.core.shard.proto.StoreEndpoint;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The address book: which member listens where. Starts from the config's members, changes as
 * conf-change entries (whose context carries the addresses) are applied, and is kept in
 * {@code members.properties} in the data directory so a restarted node still knows members that
 * were added after its config was written, and the stores the shard controller's configurations
 * list as added. Written by the Raft loop and whoever advances the live layout (serialized, so
 * the file is saved by one at a time), read by any thread.
 *
 * <p>The controller is the authority for the stores it lists as added or forgotten: the book
 * keeps their ids from the newest configuration it followed (saved with the addresses), and a
 * conf change applied for one of them leaves its entry alone. Otherwise replaying a group's log at
 * a restart would bring back a forgotten store from the entry that once made it a learner, or the
 * first addresses of a store id added again.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    static final String FILE_NAME = "members.properties";

    /**
     * Keys of the book's file that are not store ids: the ids the controller lists as added, and as
     * forgotten, and the configuration they come from.
     */
    private static final String ADDED_KEY = "added-stores";
    private static final String FORGOTTEN_KEY = "forgotten-stores";
    private static final String FOLLOWED_KEY = "followed-configuration";

    private final Path file;
    private final ConcurrentHashMap<Long, MemberAddress> members = new ConcurrentHashMap<>();
    /** From the newest configuration followed; guarded by this. */
    private Set<Long> controllerAdded = Set.of();
    private Set<Long> controllerForgotten = Set.of();
    /**
     * The configuration {@link #follow} last took; guarded by this. Saved: after a restart the
     * store takes older configurations again (its groups replay their logs), and one from before
     * a ForgetStore would bring the forgotten store back.
     */
    private long followedVersion;

    Membership(Path dataDirectory, List<MemberAddress> configured) throws IOException {
        this.file = dataDirectory.resolve(FILE_NAME);
        configured.forEach(m -> members.put(m.id(), m));
        if (Files.exists(file)) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            }
            controllerAdded = parseIds(properties.getProperty(ADDED_KEY, ""));
            controllerForgotten = parseIds(properties.getProperty(FORGOTTEN_KEY, ""));
            followedVersion = parseVersion(properties.getProperty(FOLLOWED_KEY, "0"));
            for (String name : properties.stringPropertyNames()) {
                if (name.equals(ADDED_KEY) || name.equals(FORGOTTEN_KEY) || name.equals(FOLLOWED_KEY)) {
                    continue;
                }
                try {
                    long id = Long.parseLong(name);
                    members.put(id, MemberAddress.parseAddresses(id, properties.getProperty(name)));
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + ": key '" + name + "': " + e.getMessage(), e);
                }
            }
        }
    }

    MemberAddress get(long id) {
        return members.get(id);
    }

    /** The ids of every store in the book. */
    Collection<Long> ids() {
        return List.copyOf(members.keySet());
    }

    Collection<MemberAddress> all() {
        return new TreeMap<>(members).values();
    }

    /**
     * Records a member's addresses (from an applied conf change) and saves the book; a store the
     * controller lists as added or forgotten keeps what the configuration says.
     */
    synchronized void put(MemberAddress member) {
        if (controllerAdded.contains(member.id()) || controllerForgotten.contains(member.id())) {
            return;
        }
        MemberAddress previous = members.put(member.id(), member);
        if (!member.equals(previous)) {
            save();
        }
    }

    /**
     * Records the stores a configuration lists as added to the cluster (controller AddStore) that
     * this book does not know yet; a known member's addresses stay as they are. For the layout a
     * store starts from, which may be older than the book saved at its last run; newer
     * configurations go through {@link #follow}.
     */
    synchronized void learn(AddedStores added) {
        boolean changed = false;
        for (StoreEndpoint store : added.all()) {
            if (!members.containsKey(store.getStoreId()) && !controllerForgotten.contains(store.getStoreId())) {
                MemberAddress address = new MemberAddress(store.getStoreId(), MemberAddress.parseHostPort(store.getClientAddress()),
                        MemberAddress.parseHostPort(store.getPeerAddress()));
                changed |= members.putIfAbsent(address.id(), address) == null;
            }
        }
        if (changed) {
            LOG.info("learned the addresses of added stores: {}", added.all().stream().map(StoreEndpoint::getStoreId).toList());
            save();
        }
    }

    /**
     * Follows configuration {@code version} when it is newer than any followed before: every store
     * it lists as added gets the addresses listed (the controller is the authority for the stores
     * it added, and an id added again may come back at other addresses), and every store it lists
     * as forgotten leaves the book, so no group reaches for it, its reports are refused and a
     * restart does not bring it back. {@code selfId} stays whatever the configuration says: a store
     * started to be added again sees its own id among the forgotten until it is.
     */
    synchronized void follow(long version, AddedStores added, long selfId) {
        // Two threads may each take a newer layout and call this in the other order: an older
        // configuration must not undo a newer one (bring back a store it forgot).
        if (version <= followedVersion) {
            return;
        }
        followedVersion = version;
        ArrayList<Long> changed = new ArrayList<>();
        for (StoreEndpoint store : added.all()) {
            MemberAddress address = new MemberAddress(store.getStoreId(), MemberAddress.parseHostPort(store.getClientAddress()),
                    MemberAddress.parseHostPort(store.getPeerAddress()));
            if (!address.equals(members.put(address.id(), address))) {
                changed.add(address.id());
            }
        }
        ArrayList<Long> dropped = new ArrayList<>();
        for (long id : added.forgotten()) {
            if (id != selfId && members.remove(id) != null) {
                dropped.add(id);
            }
        }
        Set<Long> addedIds = added.all().stream().map(StoreEndpoint::getStoreId).collect(Collectors.toUnmodifiableSet());
        Set<Long> forgottenIds = Set.copyOf(added.forgotten());
        boolean idsChanged = !addedIds.equals(controllerAdded) || !forgottenIds.equals(controllerForgotten);
        controllerAdded = addedIds;
        controllerForgotten = forgottenIds;
        if (!changed.isEmpty() || !dropped.isEmpty()) {
            LOG.info("address book follows the shard controller: added stores {} learned or moved, forgotten stores {} dropped",
                    changed, dropped);
        }
        if (!changed.isEmpty() || !dropped.isEmpty() || idsChanged) {
            save();
        }
    }

    synchronized void remove(long id) {
        if (members.remove(id) != null) {
            save();
        }
    }

    private static Set<Long> parseIds(String text) throws IOException {
        Set<Long> ids = new TreeSet<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                try {
                    ids.add(Long.parseLong(part.trim()));
                } catch (NumberFormatException e) {
                    throw new IOException("'" + part + "' is not a store id", e);
                }
            }
        }
        return Set.copyOf(ids);
    }

    private long parseVersion(String text) throws IOException {
        try {
            long version = Long.parseLong(text.trim());
            if (version < 0) {
                throw new NumberFormatException("negative");
            }
            return version;
        } catch (NumberFormatException e) {
            throw new IOException(file + ": key '" + FOLLOWED_KEY + "': '" + text + "' is not a configuration number", e);
        }
    }

    private static String joinIds(Set<Long> ids) {
        return new TreeSet<>(ids).stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private void save() {
        Properties properties = new Properties();
        for (Map.Entry<Long, MemberAddress> e : members.entrySet()) {
            properties.setProperty(Long.toString(e.getKey()), e.getValue().addresses());
        }
        properties.setProperty(ADDED_KEY, joinIds(controllerAdded));
        properties.setProperty(FORGOTTEN_KEY, joinIds(controllerForgotten));
        properties.setProperty(FOLLOWED_KEY, Long.toString(followedVersion));
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try {
            try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                properties.store(writer, "loomkv member addresses, updated by applied membership changes");
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // The book is a convenience for restarts; Raft's membership itself is in the log and snapshots.
            LOG.warn("could not save member addresses to {}: {}", file, e.toString());
        }
    }
}
