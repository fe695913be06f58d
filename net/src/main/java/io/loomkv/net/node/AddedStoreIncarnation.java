package io.loomkv.net.node;

import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import io.loomkv.persist.io.DurableFiles;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * Which added store this data directory belongs to ({@code added-store.properties}): the number of
 * the configuration that added it (controller AddStore stamps {@code added_in}), recorded the first
 * time this store sees itself listed, and, once the controller forgot it, the configuration that
 * did. A store id may be added again after it was forgotten, and the store listed then is another
 * one: this directory's replicas, sessions and address book belong to the earlier one. So a store
 * that learns it was forgotten, from a configuration that lists its id among the forgotten or
 * lists it again with another {@code added_in}, records that durably and stops, and a directory so
 * marked never starts again: a store added again under the same id starts from an empty data
 * directory. The stores a cluster was created with are never listed, and this file stays absent.
 */
final class AddedStoreIncarnation {
    static final String FILE_NAME = "added-store.properties";
    private static final String ADDED_IN = "added-in";
    private static final String FORGOTTEN_IN = "forgotten-in";
    /** Bounds the file a damaged directory could make us read. */
    private static final long MAX_BYTES = 4096;

    private final Path dataDirectory;
    private final long storeId;
    /** This process's own addresses: a listing at other addresses is another store with this id. */
    private final MemberAddress self;
    /** The configuration that added this store; empty until it sees itself listed. */
    private Optional<Long> addedIn;

    private AddedStoreIncarnation(Path dataDirectory, long storeId, MemberAddress self, Optional<Long> addedIn) {
        this.dataDirectory = dataDirectory;
        this.storeId = storeId;
        this.self = self;
        this.addedIn = addedIn;
    }

    /**
     * The record of {@code dataDirectory}; refuses (before the store reads anything else) a
     * directory whose store the controller forgot.
     */
    static AddedStoreIncarnation load(Path dataDirectory, long storeId, MemberAddress self) throws IOException {
        if (self.id() != storeId) {
            throw new IllegalArgumentException("store " + storeId + " given the addresses of store " + self.id());
        }
        Path file = dataDirectory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return new AddedStoreIncarnation(dataDirectory, storeId, self, Optional.empty());
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException(file + " is over " + MAX_BYTES + " bytes; refusing to start");
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        String forgottenIn = properties.getProperty(FORGOTTEN_IN);
        if (forgottenIn != null) {
            throw new DataDirectoryMismatchException("data directory " + dataDirectory + " belongs to store " + storeId
                    + ", which the shard controller forgot in configuration " + forgottenIn.trim() + "; it cannot run from"
                    + " this directory again (a store added again as " + storeId + " starts from an empty data directory)");
        }
        String addedIn = properties.getProperty(ADDED_IN);
        try {
            return new AddedStoreIncarnation(dataDirectory, storeId, self,
                    addedIn == null ? Optional.empty() : Optional.of(Long.parseLong(addedIn.trim())));
        } catch (NumberFormatException e) {
            throw new IOException(file + ": " + ADDED_IN + " '" + addedIn + "' is not a number; refusing to start", e);
        }
    }

    /**
     * Reads what {@code layout} says about this store: records the configuration that added it the
     * first time it is listed; returns true (after recording it durably) when the layout says the
     * controller forgot this store. A layout older than this store's addition says nothing about it
     * (it may list an earlier store with this id as forgotten), and a store never listed yet is not
     * judged (a store started to be added again sees its id among the forgotten until it is).
     */
    synchronized boolean forgottenBy(SlotLayout layout) throws IOException {
        Optional<StoreEndpoint> listed = layout.addedStores().get(storeId);
        if (addedIn.isEmpty()) {
            // A store started from an empty directory may first see a stale layout (a member's,
            // lagging) that lists an earlier store with this id, later forgotten: adopting that
            // addition would make it take the forget for its own and stop. Only a listing at one of
            // this process's addresses is this store (one, not both: peers may reach it through a
            // proxy or an advertised address, as chaos does).
            if (listed.isPresent() && listsSelf(listed.get())) {
                addedIn = Optional.of(listed.get().getAddedIn());
                write(ADDED_IN + "=" + addedIn.get() + "\n");
            }
            return false;
        }
        long ours = addedIn.get();
        if (layout.version() <= ours) {
            return false;
        }
        boolean forgotten = layout.addedStores().forgotten().contains(storeId)
                || (listed.isPresent() && listed.get().getAddedIn() != ours);
        if (forgotten) {
            write(ADDED_IN + "=" + ours + "\n" + FORGOTTEN_IN + "=" + layout.version() + "\n");
        }
        return forgotten;
    }

    private boolean listsSelf(StoreEndpoint listed) {
        try {
            return MemberAddress.parseHostPort(listed.getClientAddress()).equals(self.clientAddress())
                    || MemberAddress.parseHostPort(listed.getPeerAddress()).equals(self.peerAddress());
        } catch (IllegalArgumentException malformed) {
            return false; // the controller validates addresses; a listing it could not parse is not this store
        }
    }

    private void write(String text) throws IOException {
        Path tmp = dataDirectory.resolve(FILE_NAME + ".tmp");
        try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            writer.write(text);
        }
        try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        DurableFiles.renameDurably(tmp, dataDirectory.resolve(FILE_NAME));
    }
}
