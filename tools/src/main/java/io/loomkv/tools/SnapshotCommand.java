package io.loomkv.tools;

import io.loomkv.net.node.NodeConfigException;
import io.loomkv.tools.backup.BackupDamagedException;
import io.loomkv.tools.backup.BackupFile;
import io.loomkv.tools.backup.BackupRestore;
import io.loomkv.tools.backup.ExtractedBackup;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code loomkv snapshot status|restore FILE}: offline commands on a backup written by
 * {@code ctl snapshot save} (etcdutl's, for etcd). Exit codes: 0 done, 1 a damaged backup or a
 * failed restore, 2 bad input (a refused restore: see {@link BackupRestore}).
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Backups written by 'ctl snapshot save': snapshot status FILE | snapshot restore FILE --config-dir DIR (docs/backup.md).",
        subcommands = {SnapshotCommand.Status.class, SnapshotCommand.Restore.class})
final class SnapshotCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("usage: ./loomkv snapshot status FILE [-w json] | snapshot restore FILE --config-dir DIR");
        return 2;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Check a backup whole (checksums, every group's state) and print what it holds: groups, applied indexes, keys, sizes.")
    static final class Status implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--json", description = "print one JSON object; same as -w json")
        boolean json;

        @Option(names = {"-w", "--write-out"}, paramLabel = "table|json", description = "output format: table (default) or json")
        CtlCommand.OutputFormat writeOut;

        @Override
        public Integer call() {
            CtlCommand.quietLogs();
            boolean asJson = json || writeOut == CtlCommand.OutputFormat.json;
            try {
                BackupFile backup = BackupFile.open(file);
                Path scratch = file.toAbsolutePath().getParent();
                try (ExtractedBackup extracted = ExtractedBackup.extract(backup, scratch)) {
                    BackupListing.print(backup, extracted.summaries(), asJson, System.out);
                }
                return 0;
            } catch (IOException | RuntimeException e) {
                if (asJson) {
                    System.out.println("{\"file\":" + Json.quote(file.toString()) + ",\"checksum_ok\":false,\"message\":"
                            + Json.quote(String.valueOf(e.getMessage())) + "}");
                }
                System.err.println("error: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Create the data directories of a NEW cluster from a backup: one per node config in --config-dir,",
                    "each of which must be empty or absent; the configs must name another cluster-id than the backup's,",
                    "the same data-groups and the backed-up store ids (addresses may differ). Then start it as usual",
                    "(./loomkv cluster up DIR). A damaged backup is refused before anything is created."})
    static final class Restore implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Option(names = "--config-dir", paramLabel = "DIR", required = true, description = "the new cluster's folder of node configs (*.properties)")
        Path configDir;

        @Override
        public Integer call() {
            CtlCommand.quietLogs();
            ClusterTarget target;
            try {
                target = ClusterTarget.fromFolder(configDir);
            } catch (NodeConfigException | IOException e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            }
            try {
                BackupRestore.restore(BackupFile.open(file), target.configs(), System.out);
                return 0;
            } catch (BackupRestore.Refused e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            } catch (BackupDamagedException e) {
                System.err.println("error: " + e.getMessage() + "; nothing was created");
                return 1;
            } catch (IOException | RuntimeException e) {
                System.err.println("error: restore failed: " + e.getMessage());
                return 1;
            }
        }
    }
}
