package io.loomkv.tools;

import io.loomkv.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point of the distributable jar; the {@code ./loomkv} launcher calls it. */
@Command(
        name = "loomkv",
        description = "loomkv: a replicated key-value database on Raft.",
        mixinStandardHelpOptions = true,
        version = "loomkv 0.1.0-SNAPSHOT",
        subcommands = {
            ServerCommand.class,
            ClusterCommand.class,
            CtlCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            ChaosCommand.class,
            ProxyCommand.class
        })
public final class LoomKv {
    private LoomKv() {
    }

    /** The command tree, with the server's per-key config flags added. */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new LoomKv());
        ServerCommand.addConfigFlags(commandLine.getSubcommands().get("server").getCommandSpec());
        return commandLine;
    }

    public static void main(String[] args) {
        int exitCode = commandLine().execute(args);
        System.exit(exitCode);
    }
}
