package io.loomkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv demo}: Start a local 3-node cluster and show it working. Not implemented yet: it arrives with issue #5. */
@Command(name = "demo", description = "Start a local 3-node cluster and show it working. (not available yet)", mixinStandardHelpOptions = true)
public final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'demo' is not there yet: it arrives with issue #5.");
        return 2;
    }
}
