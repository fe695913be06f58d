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
            ChaosCommand.class
        })
public final class LoomKv {
    private LoomKv() {
    }

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new LoomKv());
        ServerCommand.addConfigFlags(commandLine.getSubcommands().get("server").getCommandSpec());
        int exitCode = commandLine.execute(args);
        System.exit(exitCode);
    }
}
