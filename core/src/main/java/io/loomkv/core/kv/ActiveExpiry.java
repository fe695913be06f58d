package io.loomkv.core.kv;

import com.google.protobuf.ByteString;
import io.loomkv.core.engine.ScanPage;
import io.loomkv.core.engine.ScanRequest;
import io.loomkv.core.kv.proto.ExpireKeys;
import io.loomkv.core.kv.proto.ExpiredKeys;
import io.loomkv.core.kv.proto.FindExpired;
import io.loomkv.core.kv.proto.KeyValue;
import io.loomkv.core.kv.proto.KvReply;
import io.loomkv.core.kv.proto.MigrationResult;
import io.loomkv.core.kv.proto.Status;
import io.loomkv.core.shard.GroupIds;

/**
 * Active expiry (docs/ttl.md): the group's leader store walks the deadlines with
 * {@link #find} (a read) and proposes the keys found expired as one {@code ExpireKeys} command,
 * which {@link #expire} applies through the log, so memory and disk are reclaimed without waiting
 * for a read, and every replica deletes the same keys at the same log position.
 *
 * <p>A key is deleted only if its deadline is still the one the walk saw and has passed at the
 * command's log clock: a key rewritten, given a new deadline or persisted since the walk is left
 * alone, so a late or repeated proposal changes nothing. Keys in slots the group does not serve
 * now (frozen for a move, or being pulled) are skipped; their deadlines travel with the slot.
 */
final class ActiveExpiry {
    /** Deadlines one walk step looks at when the reader asks for none or for more. */
    static final int MAX_EXAMINED = 4_096;
    /** Expired keys one step returns, and one command deletes, at most. */
    static final int MAX_KEYS = 1_000;
    private static final int PAGE_KEYS = 512;

    private final KvStateMachine machine;

    ActiveExpiry(KvStateMachine machine) {
        this.machine = machine;
    }

    /** The keys expired at {@code nowMillis} among the deadlines after the cursor (a read). */
    KvReply find(FindExpired find, long nowMillis) {
        if (machine.groupId() == GroupIds.CONTROLLER_GROUP_ID) {
            return KvReplies.invalidArgument("group 0, the shard controller, holds no keys to expire");
        }
        byte[] after = find.getAfter().toByteArray();
        if (after.length > 0 && !DeadlineKeys.isDeadlineKey(after)) {
            return KvReplies.invalidArgument("find_expired.after is not a position in the deadline space");
        }
        int maxExamined = find.getMaxExamined() == 0 ? MAX_EXAMINED : Math.min(find.getMaxExamined(), MAX_EXAMINED);
        int maxKeys = find.getMaxKeys() == 0 ? MAX_KEYS : Math.min(find.getMaxKeys(), MAX_KEYS);
        ExpiredKeys.Builder result = ExpiredKeys.newBuilder();
        if (!machine.deadlinesMayExist()) {
            return reply(result);
        }
        byte[] start = after.length == 0 ? DeadlineKeys.SPACE_START : KvKeys.successor(ByteString.copyFrom(after)).toByteArray();
        ScanRequest request = ScanRequest.range(start, DeadlineKeys.SPACE_END, Math.min(PAGE_KEYS, maxExamined));
        int examined = 0;
        byte[] last = null;
        boolean stoppedEarly = false;
        while (request != null && !stoppedEarly) {
            ScanPage page = machine.engine().scan(request);
            for (io.loomkv.core.engine.KeyValue entry : page.entries()) {
                examined++;
                last = entry.key();
                long deadline = DeadlineKeys.decode(entry.value());
                if (Deadlines.expired(deadline, nowMillis)
                        && machine.ownership().isServing(DeadlineKeys.slotOf(entry.key()))) {
                    byte[] dataKey = DeadlineKeys.dataKey(entry.key());
                    result.addKeys(KeyValue.newBuilder().setKey(SlotKeys.userKey(dataKey)).setExpiresAtMillis(deadline));
                }
                if (examined >= maxExamined || result.getKeysCount() >= maxKeys) {
                    stoppedEarly = true;
                    break;
                }
            }
            request = stoppedEarly ? null : request.next(page);
        }
        if (stoppedEarly) {
            result.setNextAfter(ByteString.copyFrom(last));
        } else if (after.length == 0 && examined == 0) {
            // A whole walk from the start found no deadline: reads and writes may stop looking.
            machine.noDeadlinesFound();
        }
        return reply(result.setExamined(examined));
    }

    /** Deletes the named keys whose deadline is unchanged and passed at the log clock (a write). */
    KvReply expire(ExpireKeys expire) {
        if (machine.groupId() == GroupIds.CONTROLLER_GROUP_ID) {
            return KvReplies.invalidArgument("group 0, the shard controller, holds no keys to expire");
        }
        if (expire.getKeysCount() > MAX_KEYS) {
            return KvReplies.invalidArgument("expire_keys names " + expire.getKeysCount() + " keys, over " + MAX_KEYS);
        }
        KvLimits limits = machine.limits();
        for (int i = 0; i < expire.getKeysCount(); i++) {
            ByteString key = expire.getKeys(i).getKey();
            if (key.isEmpty() || key.size() > limits.maxKeyBytes()) {
                return KvReplies.invalidArgument("expire_keys key " + i + " is empty or over maxKeyBytes " + limits.maxKeyBytes());
            }
        }
        ExpiredKeys.Builder deleted = ExpiredKeys.newBuilder();
        for (KeyValue named : expire.getKeysList()) {
            byte[] key = SlotKeys.engineKey(named.getKey());
            if (!machine.ownership().isServing(SlotKeys.slotOf(key))) {
                continue;
            }
            long deadline = machine.deadlineAtApply(key);
            if (deadline != 0 && deadline == named.getExpiresAtMillis() && deadline <= machine.clockMillis()) {
                machine.remove(key);
                machine.remove(DeadlineKeys.of(key));
                deleted.addKeys(named);
            }
        }
        return reply(deleted);
    }

    private KvReply reply(ExpiredKeys.Builder keys) {
        return KvReply.newBuilder().setStatus(Status.OK).setGroupId(machine.groupId())
                .setMigration(MigrationResult.newBuilder().setConfigNumber(machine.configNumber()).setExpired(keys))
                .build();
    }
}
