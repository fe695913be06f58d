package io.loomkv.tools;

import io.loomkv.bench.BenchCommand;
import io.loomkv.tools.dist.DistCommand;
import io.loomkv.tools.k8s.K8sConfigCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point of the distributable jar; the {@code ./loomkv} launcher calls it. */
@Command(
        name = "loomkv",
        description = "loomkv: a replicated key-value database on Raft.",
        mixinStandardHelpOptions = true,
        version = "loomkv " + LoomKv.VERSION,
        subcommands = {
            ServerCommand.class,
            ClusterCommand.class,
            CtlCommand.class,
            SnapshotCommand.class,
            DemoCommand.class,
            BenchCommand.class,
            ChaosCommand.class,
            ProxyCommand.class,
            K8sConfigCommand.class,
            DistCommand.class,
            CompletionCommand.class
        })
public final class LoomKv {
    /** The release version: the Maven project's (a test checks that they agree); names the tarball. */
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private LoomKv() {
    }

    /** The command tree, with the server's per-key config flags added. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new LoomKv());
        ServerCommand.addConfigFlags(commandLine.getSubcommands().get("server").getCommandSpec());
        return commandLine;
    }

    public static void main(String[] args) {
        int exitCode = commandLine().execute(args);
        System.exit(exitCode);
    }
}
