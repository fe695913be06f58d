package io.loomkv.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code loomkv ctl}: Client and admin commands against a cluster. Not implemented yet: it arrives with issue #5. */
@Command(name = "ctl", description = "Client and admin commands against a cluster. (not available yet)", mixinStandardHelpOptions = true)
public final class CtlCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("loomkv: 'ctl' is not there yet: it arrives with issue #5.");
        return 2;
    }
}
