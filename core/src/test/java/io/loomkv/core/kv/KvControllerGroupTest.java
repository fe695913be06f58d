package io.loomkv.core.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.loomkv.core.kv.proto.Command;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;
import io.loomkv.core.shard.SlotLayout;
import io.loomkv.core.shard.SlotSet;
import io.loomkv.core.shard.controller.proto.Bootstrap;
import io.loomkv.core.shard.controller.proto.ControllerCommand;
import io.loomkv.core.shard.controller.proto.JoinGroups;
import io.loomkv.core.shard.controller.proto.QueryConfig;
import io.loomkv.core.shard.proto.GroupReplicas;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Group 0's state machine: the shard controller's commands ride the log as session writes, so a
 * retried Join is carried out once; group 0 holds no keys and data groups take no controller
 * commands; the controller's history travels in the group's snapshots.
 */
class KvControllerGroupTest {
    private static final SlotLayout INITIAL = SlotLayout.evenSplit(1, 2, List.of(1L, 2L, 3L), 3);

    private final KvFixture group0 = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(),
            GroupIds.CONTROLLER_GROUP_ID, SlotSet.empty());

    @Test
    void controllerCommandsAreExactlyOnceWritesOfGroupZero() {
        KvFixture.Client client = group0.client();
        assertEquals(GroupIds.CONTROLLER_GROUP_ID, GroupIds.groupOfClientId(client.clientId));
        KvReply early = controller(client, ControllerCommand.newBuilder()
                .setQuery(QueryConfig.newBuilder().setNumber(-1)).build());
        assertEquals(Status.INVALID_ARGUMENT, early.getStatus());
        assertTrue(early.getMessage().contains("no configuration yet"), early.getMessage());

        assertEquals(Status.OK, controller(client, bootstrap()).getStatus());
        Command join = client.next().setController(join(3)).build();
        KvReply joined = group0.apply(join);
        assertEquals(Status.OK, joined.getStatus(), joined.getMessage());
        assertEquals(2, joined.getController().getConfig().getVersion());
        // The same command again (a retry after a lost reply): the cached reply, no third configuration.
        assertEquals(joined, group0.apply(join));
        assertEquals(2, group0.machine.controller().latest().version());
        // A second bootstrap is refused, and cached as refused.
        KvReply again = controller(client, bootstrap());
        assertEquals(Status.INVALID_ARGUMENT, again.getStatus());
        assertTrue(again.getMessage().contains("bootstrapped already"), again.getMessage());
    }

    /**
     * The stores write the bootstrap into a new controller group's log without a session (none can
     * exist yet); every other controller write needs one, and a client request may not carry a
     * bootstrap at all. A query is a read, served without the log.
     */
    @Test
    void theSessionLessBootstrapIsTheStoresAloneAndQueriesAreReads() {
        Command sessionLess = Command.newBuilder().setTimestampMillis(1).setController(bootstrap()).build();
        assertEquals(Status.OK, group0.apply(sessionLess).getStatus());
        assertEquals(1, group0.machine.controller().latest().version());
        KvReply again = group0.apply(sessionLess);
        assertTrue(again.getMessage().contains("bootstrapped already"), again.getMessage());
        KvReply sessionLessJoin = group0.apply(Command.newBuilder().setTimestampMillis(2).setController(join(3)).build());
        assertEquals(Status.INVALID_ARGUMENT, sessionLessJoin.getStatus());
        assertEquals(1, group0.machine.controller().latest().version(), "a session-less join changes nothing");

        KvValidator validator = new KvValidator(KvLimits.defaults());
        KvRequest clientBootstrap = KvRequest.newBuilder().setClientId(GroupIds.firstClientId(GroupIds.CONTROLLER_GROUP_ID)).setSequence(1)
                .setAcknowledgedBelow(1).setController(bootstrap()).build();
        assertTrue(validator.checkRequest(clientBootstrap).orElseThrow().contains("written by the stores"));

        KvRequest query = KvRequest.newBuilder().setController(ControllerCommand.newBuilder()
                .setQuery(QueryConfig.newBuilder().setNumber(-1))).build();
        assertTrue(validator.checkRequest(query).isEmpty(), "a query needs no session");
        assertFalse(KvCommands.isWrite(query));
        long applied = group0.machine.lastAppliedIndex();
        KvReply read = group0.machine.read(query);
        assertEquals(Status.OK, read.getStatus(), read.getMessage());
        assertEquals(INITIAL.toProto(), read.getController().getConfig());
        assertEquals(applied, group0.machine.lastAppliedIndex());
        KvReply joinAsRead = group0.machine.read(KvRequest.newBuilder().setController(join(3)).build());
        assertEquals(Status.INVALID_ARGUMENT, joinAsRead.getStatus());
        assertEquals(1, group0.machine.controller().latest().version());
    }

    @Test
    void groupZeroHoldsNoKeysAndDataGroupsTakeNoControllerCommands() {
        KvReply put = group0.client().put("k", "v");
        assertEquals(Status.WRONG_GROUP, put.getStatus(), put.getMessage());
        assertTrue(group0.engine.contents().isEmpty());

        KvFixture data = new KvFixture();
        KvReply refused = controller(data.client(), bootstrap());
        assertEquals(Status.INVALID_ARGUMENT, refused.getStatus());
        assertTrue(refused.getMessage().contains("go to group 0"), refused.getMessage());
        assertNull(data.machine.controller());
        assertThrows(IllegalArgumentException.class, () -> new KvStateMachine(new InMemoryKvEngine(), KvLimits.defaults(),
                SessionPolicy.defaults(), GroupIds.CONTROLLER_GROUP_ID, SlotSet.all()));
    }

    @Test
    void theControllerHistoryTravelsInSnapshots() throws Exception {
        KvFixture.Client client = group0.client();
        controller(client, bootstrap());
        controller(client, join(3));
        controller(client, join(4));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        group0.machine.writeSnapshot(out);

        KvFixture copy = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), GroupIds.CONTROLLER_GROUP_ID,
                SlotSet.empty());
        copy.machine.restore(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(group0.machine.controller().snapshot(), copy.machine.controller().snapshot());
        assertEquals(3, copy.machine.controller().latest().version());
        assertEquals(group0.machine.lastAppliedIndex(), copy.machine.lastAppliedIndex());

        // A data group refuses a snapshot with controller state, and group 0 one without it.
        KvFixture data = new KvFixture();
        assertThrows(CorruptSnapshotException.class, () -> data.machine.restore(new ByteArrayInputStream(out.toByteArray())));
        ByteArrayOutputStream dataSnapshot = new ByteArrayOutputStream();
        data.machine.writeSnapshot(dataSnapshot);
        KvFixture other = new KvFixture(KvLimits.defaults(), SessionPolicy.defaults(), GroupIds.CONTROLLER_GROUP_ID,
                SlotSet.empty());
        assertThrows(CorruptSnapshotException.class,
                () -> other.machine.restore(new ByteArrayInputStream(dataSnapshot.toByteArray())));
        assertNull(other.machine.controller().latest(), "a refused restore leaves the controller as it was");
    }

    private KvReply controller(KvFixture.Client client, ControllerCommand command) {
        return client.fixture().apply(client.next().setController(command).build());
    }

    private static ControllerCommand bootstrap() {
        return ControllerCommand.newBuilder().setBootstrap(Bootstrap.newBuilder().setConfig(INITIAL.toProto())).build();
    }

    private static ControllerCommand join(long group) {
        return ControllerCommand.newBuilder().setJoin(JoinGroups.newBuilder()
                .addGroups(GroupReplicas.newBuilder().setGroupId(group).addStoreIds(1).addStoreIds(2))).build();
    }
}
