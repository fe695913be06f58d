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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The address book: which member listens where. Starts from the config's members, changes as
 * conf-change entries (whose context carries the addresses) are applied, and is kept in
 * {@code members.properties} in the data directory so a restarted node still knows members that
 * were added after its config was written, and the stores the shard controller's configurations
 * list as added. Written by the Raft loop and whoever advances the live layout (serialized, so
 * the file is saved by one at a time), read by any thread.
 */
final class Membership {
    private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
    static final String FILE_NAME = "members.properties";

    private final Path file;
    private final ConcurrentHashMap<Long, MemberAddress> members = new ConcurrentHashMap<>();

    Membership(Path dataDirectory, List<MemberAddress> configured) throws IOException {
        this.file = dataDirectory.resolve(FILE_NAME);
        configured.forEach(m -> members.put(m.id(), m));
        if (Files.exists(file)) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            }
            for (String name : properties.stringPropertyNames()) {
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

    /** Records a member's addresses (from an applied conf change) and saves the book. */
    synchronized void put(MemberAddress member) {
        MemberAddress previous = members.put(member.id(), member);
        if (!member.equals(previous)) {
            save();
        }
    }

    /**
     * Records the stores a configuration lists as added to the cluster (controller AddStore) that
     * this book does not know yet; a known member's addresses stay as they are.
     */
    synchronized void learn(AddedStores added) {
        boolean changed = false;
        for (StoreEndpoint store : added.all()) {
            if (!members.containsKey(store.getStoreId())) {
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

    synchronized void remove(long id) {
        if (members.remove(id) != null) {
            save();
        }
    }

    private void save() {
        Properties properties = new Properties();
        for (Map.Entry<Long, MemberAddress> e : members.entrySet()) {
            properties.setProperty(Long.toString(e.getKey()), e.getValue().addresses());
        }
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
