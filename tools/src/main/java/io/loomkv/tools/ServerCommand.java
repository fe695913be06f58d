package io.loomkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv server}: Run one server node. Not implemented yet: it arrives with issue #5. */
@Command(name = "server", description = "Run one server node. (not available yet)", mixinStandardHelpOptions = true)
public final class ServerCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'server' is not there yet: it arrives with issue #5.");
        return 2;
    }
}
