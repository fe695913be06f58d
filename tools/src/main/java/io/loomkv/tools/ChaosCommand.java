package io.loomkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv chaos}: Fault injection against real server processes. Not implemented yet: it arrives with issue #7. */
@Command(name = "chaos", description = "Fault injection against real server processes. (not available yet)", mixinStandardHelpOptions = true)
public final class ChaosCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'chaos' is not there yet: it arrives with issue #7.");
        return 2;
    }
}
