/**
 * The Redis protocol (RESP2 and RESP3) in front of loomkv.
 *
 * <ul>
 *   <li>Wire: {@link io.loomkv.net.resp.RespParser} reads requests (arrays of bulk strings and
 *       inline commands) within limits; {@link io.loomkv.net.resp.RespEncoder} writes
 *       {@link io.loomkv.net.resp.RespReply} values into one reusable buffer per connection.
 *   <li>Server: {@link io.loomkv.net.resp.RespServer}, blocking sockets, a reader and a writer
 *       virtual thread per connection; pipelined requests run concurrently where their keys do
 *       not overlap and are answered in order.
 *   <li>Commands: a table with Redis's arities, key positions and error texts, run against a
 *       {@link io.loomkv.net.resp.RespBackend}; {@link io.loomkv.net.resp.KvClientBackend} is the
 *       proxy's, over the slot-aware client. {@link io.loomkv.net.resp.RespGateway} puts the two
 *       together.
 * </ul>
 *
 * <p>See docs/resp.md for the supported commands, limits and what is missing.
 */
package io.loomkv.net.resp;
