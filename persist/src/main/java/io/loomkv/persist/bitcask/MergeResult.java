package io.loomkv.persist.bitcask;

/**
 * What one merge did.
 *
 * @param inputFiles immutable files merged (retired: deleted once no view holds them)
 * @param outputFiles merged files written
 * @param inputBytes bytes of the inputs
 * @param outputBytes bytes of the outputs
 * @param recordsCopied live records copied
 * @param recordsSuperseded records copied but overwritten or deleted by a write while the merge ran (the newer write stays)
 */
public record MergeResult(int inputFiles, int outputFiles, long inputBytes, long outputBytes, long recordsCopied, long recordsSuperseded) {
}
