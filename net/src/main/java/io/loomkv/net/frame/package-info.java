/**
 * The wire format: a fixed 24-byte header and a protobuf body (layout in
 * {@link io.loomkv.net.frame.FrameCodec}), {@link io.loomkv.net.frame.FrameReader} for reading
 * frames from a stream under size and time limits, and {@link io.loomkv.net.frame.FrameCompression}
 * for LZ4 bodies. Nothing here knows about connections or methods.
 */
package io.loomkv.net.frame;
