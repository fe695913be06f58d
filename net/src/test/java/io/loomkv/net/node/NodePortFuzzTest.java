package io.loomkv.net.node;

import io.loomkv.net.store.proto.GroupMessage;
import io.loomkv.net.store.proto.QuiesceNotice;
import io.loomkv.net.store.proto.RaftBatch;

import static io.loomkv.net.node.LocalCluster.GROUP;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.loomkv.core.kv.proto.Append;
import io.loomkv.core.kv.proto.CompareAndSet;
import io.loomkv.core.kv.proto.Get;
import io.loomkv.core.kv.proto.KvRequest;
import io.loomkv.core.kv.proto.Put;
import io.loomkv.core.raft.proto.Entry;
import io.loomkv.core.raft.proto.Message;
import io.loomkv.core.raft.proto.MessageType;
import io.loomkv.net.client.KvClient;
import io.loomkv.net.frame.FrameCodec;
import io.loomkv.net.frame.FrameType;
import io.loomkv.net.node.proto.MemberChangeRequest;
import io.loomkv.net.node.proto.NodeStatusRequest;
import io.loomkv.net.node.proto.TransferLeaderRequest;
import io.loomkv.net.proto.Hello;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes a live node's client port and peer port (the frame-level fuzz of the RPC layer is
 * {@code FrameFuzzTest}; this one goes through a real {@link KvNode}, its KV service and its Raft
 * loop): random bytes, mutated valid frames, and valid frames with hostile contents (huge and
 * negative declared sizes, unknown frame types and flags, protobuf bodies with absurd length
 * prefixes, unknown enum values). The node must stay up: afterwards a normal put and get work,
 * and the key written before the fuzz is intact. Seeded: {@code -Dloomkv.nodefuzz.seed=S},
 * {@code -Dloomkv.nodefuzz.connections=N}.
 */
class NodePortFuzzTest {
    private static final long DEFAULT_SEED = 0xF0221EDL;
    private static final int DEFAULT_CONNECTIONS_PER_PORT = 300;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private final Map<String, Integer> connectionsByKind = new TreeMap<>();

    @Test
    void clientAndPeerPortsSurviveRandomMutatedAndHostileFrames() throws Exception {
        long seed = Long.getLong("loomkv.nodefuzz.seed", DEFAULT_SEED);
        int connections = Integer.getInteger("loomkv.nodefuzz.connections", DEFAULT_CONNECTIONS_PER_PORT);
        System.out.println("NodePortFuzzTest seed=" + seed + " (replay with -Dloomkv.nodefuzz.seed=" + seed + ")");
        Random random = new Random(seed);
        try (LocalCluster cluster = new LocalCluster(dir, 1, 10_000).startAll(); KvClient client = cluster.client()) {
            cluster.awaitLeader();
            client.put("kept", "before the fuzz");
            InetSocketAddress clientPort = cluster.address(1).clientAddress();
            InetSocketAddress peerPort = cluster.address(1).peerAddress();
            for (int i = 0; i < connections; i++) {
                fuzzOneConnection(clientPort, clientHello(), clientFrames(random), random, "client");
                fuzzOneConnection(peerPort, peerHello(), peerFrames(random), random, "peer");
            }
            System.out.println("NodePortFuzzTest connections by kind: " + connectionsByKind);

            Store node = cluster.node(1);
            assertNull(node.unavailableReason(GROUP), "the node stopped serving");
            cluster.awaitLeader();
            client.put("after", "the fuzz");
            assertEquals("the fuzz", client.get("after").orElseThrow());
            assertEquals("before the fuzz", client.get("kept").orElseThrow());
            assertEquals(1, client.append(ByteString.copyFromUtf8("fresh"), ByteString.copyFromUtf8("x")));
        }
    }

    private void fuzzOneConnection(InetSocketAddress address, byte[] hello, List<byte[]> validFrames, Random random,
            String port) throws Exception {
        int kind = random.nextInt(5);
        connectionsByKind.merge(port + "-" + switch (kind) {
            case 0 -> "random-bytes";
            case 1 -> "mutated-frames";
            case 2 -> "hostile-header";
            case 3 -> "hostile-body";
            default -> "mutated-hello";
        }, 1, Integer::sum);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (kind) {
            case 0 -> out.writeBytes(randomBytes(random, random.nextInt(3000)));
            case 1 -> {
                out.writeBytes(hello);
                for (int i = 1 + random.nextInt(6); i > 0; i--) {
                    out.writeBytes(mutate(validFrames.get(random.nextInt(validFrames.size())), random));
                }
            }
            case 2 -> {
                out.writeBytes(hello);
                out.writeBytes(validFrames.get(random.nextInt(validFrames.size())));
                out.writeBytes(hostileHeader(validFrames.get(random.nextInt(validFrames.size())), random));
            }
            case 3 -> {
                out.writeBytes(hello);
                out.writeBytes(hostileBody(validFrames.get(random.nextInt(validFrames.size())), random));
            }
            default -> out.writeBytes(mutate(hello, random));
        }
        try (RawConnection connection = new RawConnection(address)) {
            connection.send(out.toByteArray());
            connection.finishSending();
            connection.awaitClosedByServer(CLOSE_WAIT);
        }
    }

    /** Bit flips, overwritten bytes, or a cut, anywhere in the frame (header included). */
    private static byte[] mutate(byte[] frame, Random random) {
        byte[] copy = frame.clone();
        switch (random.nextInt(3)) {
            case 0 -> {
                for (int i = 1 + random.nextInt(4); i > 0; i--) {
                    int at = random.nextInt(copy.length);
                    copy[at] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 1 -> {
                for (int i = 1 + random.nextInt(8); i > 0; i--) {
                    copy[random.nextInt(copy.length)] = (byte) random.nextInt(256);
                }
            }
            default -> {
                return java.util.Arrays.copyOf(copy, random.nextInt(copy.length));
            }
        }
        return copy;
    }

    /** A valid frame whose header lies: absurd or negative body length, unknown type, flags or version. */
    private static byte[] hostileHeader(byte[] frame, Random random) {
        ByteBuffer copy = ByteBuffer.wrap(frame.clone());
        switch (random.nextInt(6)) {
            case 0 -> copy.putInt(20, Integer.MAX_VALUE);
            case 1 -> copy.putInt(20, -1 - random.nextInt(Integer.MAX_VALUE));
            case 2 -> copy.putInt(20, (16 << 20) + 1 + random.nextInt(1 << 20)); // just over the 16 MiB frame limit
            case 3 -> copy.put(5, (byte) (5 + random.nextInt(251))); // unknown frame type
            case 4 -> copy.putShort(6, (short) (4 + random.nextInt(0xFFF0))); // unknown flag bits
            default -> copy.put(4, (byte) (2 + random.nextInt(250))); // unknown version
        }
        return copy.array();
    }

    /**
     * A frame with a valid header around a body that lies: a length-delimited field claiming far
     * more bytes than follow, a negative length, a varint that never ends, or garbage.
     */
    private static byte[] hostileBody(byte[] validFrame, Random random) {
        byte[] body = switch (random.nextInt(4)) {
            case 0 -> new byte[] {(byte) 0x52, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1, 2, 3}; // field 10, length 2^31-1
            case 1 -> new byte[] {(byte) 0x52, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01}; // field 10, length -1 as a 64-bit varint
            case 2 -> new byte[] {0x08, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80}; // a varint longer than 10 bytes
            default -> randomBytes(random, 1 + random.nextInt(500));
        };
        ByteBuffer header = ByteBuffer.wrap(validFrame, 0, FrameCodec.HEADER_SIZE_BYTES);
        byte[] frame = new byte[FrameCodec.HEADER_SIZE_BYTES + body.length];
        FrameCodec.writeHeader(frame, 0, FrameType.fromCode(header.get(5)), 0, header.getLong(8), header.getInt(16), body.length);
        System.arraycopy(body, 0, frame, FrameCodec.HEADER_SIZE_BYTES, body.length);
        return frame;
    }

    private static byte[] clientHello() {
        return RawConnection.hello(Hello.Role.ROLE_CLIENT, LocalCluster.CLUSTER_ID, 0);
    }

    private static byte[] peerHello() {
        return RawConnection.hello(Hello.Role.ROLE_PEER, LocalCluster.CLUSTER_ID, 2);
    }

    /** Valid client requests, some with enum values this version does not know. */
    private static List<byte[]> clientFrames(Random random) {
        ByteString key = ByteString.copyFromUtf8("fuzz-" + random.nextInt(10));
        ByteString value = ByteString.copyFromUtf8("v" + random.nextInt(1000));
        int method = NodeMethods.KV.id();
        return List.of(
                RawConnection.request(1, method, KvRequest.newBuilder().setGet(Get.newBuilder().setKey(key)).build()),
                RawConnection.request(2, method, KvRequest.newBuilder().setPut(Put.newBuilder().setKey(key).setValue(value)).build()),
                RawConnection.request(3, method, KvRequest.newBuilder().setAppend(Append.newBuilder().setKey(key).setValue(value)).build()),
                RawConnection.request(4, method, KvRequest.newBuilder().setCompareAndSet(CompareAndSet.newBuilder().setKey(key)
                        .setExpectAbsent(true).setNewValue(value)).build()),
                RawConnection.request(5, method, KvRequest.newBuilder().setConsistencyValue(77)
                        .setGet(Get.newBuilder().setKey(key)).build()),
                RawConnection.request(6, method, KvRequest.newBuilder().setClientId(random.nextLong()).setSequence(-1)
                        .setPut(Put.newBuilder().setKey(key).setValue(value)).build()),
                RawConnection.request(7, NodeMethods.STATUS.id(), NodeStatusRequest.getDefaultInstance()),
                RawConnection.request(8, NodeMethods.MEMBER_CHANGE.id(), MemberChangeRequest.newBuilder().setKindValue(42)
                        .setNodeId(9).build()),
                RawConnection.request(9, NodeMethods.TRANSFER_LEADER.id(), TransferLeaderRequest.newBuilder()
                        .setTargetId(-5).build()),
                RawConnection.request(10, 0x7FFF_0001, NodeStatusRequest.getDefaultInstance())); // no such method
    }

    /**
     * Raft traffic from "node 2" (not a member) that a node must shrug off: unknown message types,
     * messages for another node, and entries it never asked for, all at term 0 or below the
     * node's term so that a well-formed one could not legitimately depose the leader either.
     */
    private static List<byte[]> peerFrames(Random random) {
        return List.of(
                raft(1, Message.newBuilder().setTypeValue(999).setFrom(2).setTo(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_UNKNOWN).setFrom(2).setTo(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_APP).setFrom(2).setTo(7).setTerm(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_APP_RESP).setFrom(2).setTo(1).setTerm(0)
                        .setIndex(random.nextLong() & Long.MAX_VALUE).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_TRANSFER_LEADER).setFrom(2).setTo(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_PROPOSE).setFrom(2).setTo(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_READ_INDEX).setFrom(2).setTo(1).build()),
                raft(1, Message.newBuilder().setType(MessageType.MSG_SNAP_RESP).setFrom(2).setTo(1).setTerm(0)
                        .addEntries(Entry.newBuilder().setIndex(-1).setTerm(-1)).build()),
                // A group this store has no replica of, and one that no layout can hold.
                raft(99, Message.newBuilder().setType(MessageType.MSG_APP).setFrom(2).setTo(1).setTerm(1).build()),
                raft(random.nextLong(), Message.newBuilder().setType(MessageType.MSG_HEARTBEAT).setFrom(2).setTo(1).setTerm(1).build()),
                // A quiesce notice that matches nothing, and a group message without a body.
                oneWay(NodeMethods.RAFT_BATCH.id(), RaftBatch.newBuilder().addMessages(GroupMessage.newBuilder().setGroupId(1)
                        .setQuiesce(QuiesceNotice.newBuilder().setTerm(random.nextLong()).setLastIndex(-1))).build()),
                oneWay(NodeMethods.RAFT_BATCH.id(), RaftBatch.newBuilder().addMessages(GroupMessage.newBuilder().setGroupId(1)).build()),
                oneWay(NodeMethods.REMOVED_NOTICE.id(), io.loomkv.net.node.proto.RemovedNotice.newBuilder().setNodeId(1).setFrom(3).build()),
                oneWay(NodeMethods.REMOVED_NOTICE.id(), io.loomkv.net.node.proto.RemovedNotice.newBuilder().setNodeId(1).setFrom(3)
                        .setGroupId(1).setRemovalIndex(1).setRemovalTerm(1).build()),
                oneWay(NodeMethods.REMOVAL_QUERY.id(), io.loomkv.net.node.proto.RemovalQuery.newBuilder().setFrom(3).setGroupId(1).build()),
                oneWay(0x7FFF_0002, Message.getDefaultInstance())); // no such method
    }

    private static byte[] raft(long group, Message message) {
        return oneWay(NodeMethods.RAFT_BATCH.id(), RaftBatch.newBuilder()
                .addMessages(GroupMessage.newBuilder().setGroupId(group).setRaft(message)).build());
    }

    private static byte[] oneWay(int method, MessageLite body) {
        return RawConnection.oneWay(method, body);
    }

    private static byte[] randomBytes(Random random, int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
