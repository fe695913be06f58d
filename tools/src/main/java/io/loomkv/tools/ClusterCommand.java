package io.loomkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv cluster}: Start, stop and inspect a local cluster of server processes. Not implemented yet: it arrives with issue #5. */
@Command(name = "cluster", description = "Start, stop and inspect a local cluster of server processes. (not available yet)", mixinStandardHelpOptions = true)
public final class ClusterCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'cluster' is not there yet: it arrives with issue #5.");
        return 2;
    }
}
