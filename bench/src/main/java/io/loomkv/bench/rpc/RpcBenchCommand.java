package io.loomkv.bench.rpc;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv rpc}: Echo RPC benchmark over loopback between two processes. Not implemented yet: it arrives with issue #2. */
@Command(name = "rpc", description = "Echo RPC benchmark over loopback between two processes. (not available yet)", mixinStandardHelpOptions = true)
public final class RpcBenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'rpc' is not there yet: it arrives with issue #2.");
        return 2;
    }
}
