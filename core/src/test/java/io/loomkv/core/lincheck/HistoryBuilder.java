package io.loomkv.core.lincheck;

import java.util.ArrayList;
import java.util.List;

/** Builds KV histories in tests; each call returns the index of the operation it added. */
final class HistoryBuilder {

    private final List<Operation<KvInput, KvOutput>> operations = new ArrayList<>();

    int op(long client, KvInput input, long invoke, KvOutput output, long complete) {
        operations.add(Operation.completed(client, input, invoke, output, complete));
        return operations.size() - 1;
    }

    int pending(long client, KvInput input, long invoke) {
        operations.add(Operation.pending(client, input, invoke));
        return operations.size() - 1;
    }

    List<Operation<KvInput, KvOutput>> build() {
        return List.copyOf(operations);
    }

    static KvInput get(String key) {
        return new KvInput.Get(key);
    }

    static KvInput put(String key, String value) {
        return new KvInput.Put(key, value);
    }

    static KvInput append(String key, String value) {
        return new KvInput.Append(key, value);
    }

    static KvInput cas(String key, String expected, String newValue) {
        return new KvInput.CompareAndSet(key, expected, newValue);
    }

    static KvOutput value(String value) {
        return new KvOutput.Value(value);
    }

    static KvOutput absent() {
        return KvOutput.Value.absent();
    }

    static KvOutput casResult(boolean succeeded) {
        return new KvOutput.CasResult(succeeded);
    }
}
