package io.loomkv.tools.dist;

import io.loomkv.tools.ClusterProcesses;
import io.loomkv.tools.LoomKv;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loomkv dist}: writes the release tarball from this jar and the source tree. The
 * {@code ./loomkv dist} launcher command builds the jar first and runs this from the checkout.
 */
@Command(name = "dist", mixinStandardHelpOptions = true,
        description = "Write the release tarball loomkv-VERSION.tar.gz (jar, bin/loomkv, conf/, systemd unit).")
public final class DistCommand implements Callable<Integer> {
    @Option(names = "--source", paramLabel = "DIR", defaultValue = ".",
            description = "the loomkv source tree (default: the working directory)")
    Path source;

    @Option(names = "--jar", paramLabel = "FILE", description = "the jar to ship (default: the one running this command)")
    Path jar;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "tools/target",
            description = "where the tarball goes (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        try {
            Path shipped = jar != null ? jar : ClusterProcesses.jarPath();
            Path tarball = DistAssembler.assemble(LoomKv.VERSION, shipped, source, out);
            System.out.println(tarball);
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
    }
}
