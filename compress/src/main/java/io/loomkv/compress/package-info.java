/**
 * Compression codecs for loomkv.
 *
 * <ul>
 *   <li>{@link io.loomkv.compress.Lz4BlockCodec}: LZ4 blocks for log entries and frame bodies.
 *       Compresses only when it pays; callers keep a "compressed" flag bit next to the bytes.
 *   <li>{@link io.loomkv.compress.ZstdStreamCodec}: Zstd streams for snapshots, so a snapshot is
 *       never held in memory twice.
 * </ul>
 *
 * <p>Both decoders treat their input as untrusted: the decompressed size is bounded by a limit
 * the caller passes, and damaged input raises {@link io.loomkv.compress.CorruptDataException}
 * (never a hang, never a huge allocation).
 */
package io.loomkv.compress;
