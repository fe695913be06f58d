/**
 * A routing proxy that speaks loomkv's own client protocol, for clients that are not slot-aware.
 *
 * <ul>
 *   <li>{@link io.loomkv.net.proxy.KvProxy}: the server (the RPC server of the stores, with the
 *       proxy's limits from {@link io.loomkv.net.proxy.ProxyConfig}) and its lifecycle.
 *   <li>{@code VirtualLayout}: callers see one store leading one group that owns every slot, so a
 *       slot-aware client sends everything, unsplit, to the proxy.
 *   <li>{@code ProxyService}: the client methods; {@code ProxyForwarder} hands each request to a
 *       slot-aware {@link io.loomkv.net.client.KvClient} ({@code UpstreamClients}), which routes,
 *       splits and merges; {@code UpstreamReplies} keeps real stores' redirects from callers.
 *   <li>{@code ProxySessions}: the proxy's own client sessions, which make a caller's retried
 *       write exactly-once through the proxy; {@code InFlightLimits}: requests per connection and
 *       in total.
 * </ul>
 *
 * <p>See docs/proxy.md for how to run it, its sessions, atomicity across groups and limits.
 */
package io.loomkv.net.proxy;
