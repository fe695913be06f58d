package io.loomkv.bench.kv;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv kv}: The KV load generator. Not implemented yet: it arrives with issue #6. */
@Command(name = "kv", description = "The KV load generator. (not available yet)", mixinStandardHelpOptions = true)
public final class KvBenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'kv' is not there yet: it arrives with issue #6.");
        return 2;
    }
}
