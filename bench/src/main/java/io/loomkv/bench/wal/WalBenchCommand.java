package io.loomkv.bench.wal;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv wal}: WAL append-to-durable benchmark with group commit. Not implemented yet: it arrives with issue #4. */
@Command(name = "wal", description = "WAL append-to-durable benchmark with group commit. (not available yet)", mixinStandardHelpOptions = true)
public final class WalBenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'wal' is not there yet: it arrives with issue #4.");
        return 2;
    }
}
