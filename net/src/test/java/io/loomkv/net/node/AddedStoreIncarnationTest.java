package io.loomkv.net.node;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.shard.AddedStores;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.proto.StoreEndpoint;
import io.loomkv.persist.identity.DataDirectoryMismatchException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a store added to a running cluster tells, from the configurations it takes, that the
 * controller forgot it: its id listed among the forgotten, or listed again with another
 * {@code added_in} (added again as another store while this one was down). Either marks the data
 * directory for good; a store waiting to be added again, and layouts older than its addition, are
 * not taken for a verdict.
 */
class AddedStoreIncarnationTest {
    private static final long STORE = 4;
    private static final MemberAddress SELF = new MemberAddress(STORE, new java.net.InetSocketAddress("127.0.0.1", 7401),
            new java.net.InetSocketAddress("127.0.0.1", 7501));

    @TempDir
    Path dir;

    @Test
    void aStoreListedAsForgottenAfterItsAdditionIsForgottenForGood() throws Exception {
        AddedStoreIncarnation incarnation = AddedStoreIncarnation.load(dir, STORE, SELF);
        assertFalse(incarnation.forgottenBy(layout(2, null, List.of())), "not judged before it is listed");
        assertFalse(incarnation.forgottenBy(layout(3, listed(3), List.of())));
        assertFalse(incarnation.forgottenBy(layout(7, listed(3), List.of())), "still the store added in configuration 3");
        // The record survives a restart.
        AddedStoreIncarnation restarted = AddedStoreIncarnation.load(dir, STORE, SELF);
        assertFalse(restarted.forgottenBy(layout(8, listed(3), List.of())));
        assertTrue(restarted.forgottenBy(layout(9, null, List.of(STORE))));
        DataDirectoryMismatchException refused = assertThrows(DataDirectoryMismatchException.class,
                () -> AddedStoreIncarnation.load(dir, STORE, SELF));
        assertTrue(refused.getMessage().contains("belongs to store 4, which the shard controller forgot in configuration 9"),
                refused.getMessage());
    }

    @Test
    void theSameIdAddedAgainMeansThisStoreWasForgottenWhileItWasDown() throws Exception {
        AddedStoreIncarnation incarnation = AddedStoreIncarnation.load(dir, STORE, SELF);
        assertFalse(incarnation.forgottenBy(layout(3, listed(3), List.of())));
        // A layout older than the addition (the one the store joined with) says nothing about it.
        assertFalse(incarnation.forgottenBy(layout(2, null, List.of(STORE))));
        assertTrue(incarnation.forgottenBy(layout(12, listed(11), List.of())));
        assertThrows(DataDirectoryMismatchException.class, () -> AddedStoreIncarnation.load(dir, STORE, SELF));
    }

    @Test
    void aStoreWaitingToBeAddedAgainIsNotTakenForTheForgottenOne() throws Exception {
        AddedStoreIncarnation fresh = AddedStoreIncarnation.load(dir, STORE, SELF);
        assertFalse(fresh.forgottenBy(layout(9, null, List.of(STORE))));
        assertFalse(Files.exists(dir.resolve(AddedStoreIncarnation.FILE_NAME)), "a verdict was recorded for a store never listed");
        assertFalse(fresh.forgottenBy(layout(10, listed(10), List.of())));
        assertFalse(AddedStoreIncarnation.load(dir, STORE, SELF).forgottenBy(layout(11, listed(10), List.of())));
    }

    /** A store started from an empty directory first sees a member's stale layout listing the forgotten store with its id. */
    @Test
    void anEarlierStoreWithThisIdAtOtherAddressesIsNotThisOne() throws Exception {
        AddedStoreIncarnation fresh = AddedStoreIncarnation.load(dir, STORE, SELF);
        StoreEndpoint earlier = listed(3).toBuilder().setClientAddress("127.0.0.1:7301").setPeerAddress("127.0.0.1:7302").build();
        assertFalse(fresh.forgottenBy(layout(4, earlier, List.of())));
        assertFalse(Files.exists(dir.resolve(AddedStoreIncarnation.FILE_NAME)), "the earlier store's addition was taken as this one's");
        assertFalse(fresh.forgottenBy(layout(5, null, List.of(STORE))), "the earlier store's forget stopped this one");
        // Listed at its own client address, its peers reaching it through a proxy (as chaos does): this store.
        StoreEndpoint proxied = listed(6).toBuilder().setPeerAddress("127.0.0.1:9999").build();
        assertFalse(fresh.forgottenBy(layout(6, proxied, List.of())));
        assertTrue(fresh.forgottenBy(layout(8, null, List.of(STORE))), "this store, added in 6, is forgotten in 8");
    }

    private static StoreEndpoint listed(long addedIn) {
        return StoreEndpoint.newBuilder().setStoreId(STORE).setClientAddress("127.0.0.1:7401").setPeerAddress("127.0.0.1:7501")
                .setAddedIn(addedIn).build();
    }

    private static SlotLayout layout(long version, StoreEndpoint added, List<Long> forgotten) {
        return SlotLayout.evenSplit(version, 1, List.of(1L, 2L, 3L), 3)
                .withAddedStores(AddedStores.fromProto(added == null ? List.of() : List.of(added), forgotten));
    }
}
