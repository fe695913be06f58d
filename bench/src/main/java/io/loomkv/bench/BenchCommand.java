package io.loomkv.bench;

import io.loomkv.bench.cluster.StoresCommand;

import io.loomkv.bench.kv.KvBenchCommand;
import io.loomkv.bench.rpc.RpcBenchCommand;
import io.loomkv.bench.wal.WalBenchCommand;
import picocli.CommandLine.Command;

/** {@code loomkv bench}: the load generator and the component benchmarks. */
@Command(
        name = "bench",
        description = "Benchmarks: the KV load generator and component benches (rpc, wal, jmh).",
        mixinStandardHelpOptions = true,
        subcommands = {KvBenchCommand.class, RpcBenchCommand.class, WalBenchCommand.class, JmhCommand.class,
                StoresCommand.class})
public final class BenchCommand {
}
