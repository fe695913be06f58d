/**
 * Request/response and one-way RPC over framed TCP connections, on virtual threads.
 *
 * <ul>
 *   <li>Methods: {@link io.loomkv.net.rpc.RpcMethod} (request/response) and
 *       {@link io.loomkv.net.rpc.OneWayMethod}, identified on the wire by
 *       {@code (serviceId << 16) | methodIndex} and marked {@link io.loomkv.net.rpc.MethodAccess#ANY}
 *       or {@link io.loomkv.net.rpc.MethodAccess#PEER_ONLY}.
 *   <li>Server: {@link io.loomkv.net.rpc.RpcServer} with an {@link io.loomkv.net.rpc.RpcHandlers}
 *       registry of {@link io.loomkv.net.rpc.RequestHandler}s (which return a
 *       {@code CompletionStage}, so answers may come later from any thread) and
 *       {@link io.loomkv.net.rpc.OneWayHandler}s.
 *   <li>Client: {@link io.loomkv.net.rpc.RpcClient}, one {@link io.loomkv.net.rpc.RpcEndpoint}
 *       (a small connection pool with reconnect backoff) per address; every call has a deadline.
 *   <li>Failures: {@link io.loomkv.net.rpc.RpcException} with an {@code ErrorReply.Code};
 *       {@link io.loomkv.net.rpc.RpcTimeoutException} for deadlines.
 * </ul>
 *
 * <p>A connection starts with a Hello each way. Peers must present the server's cluster id;
 * peer-only methods are refused on client connections. Any malformed input closes only the
 * connection that carried it, with one log line.
 */
package io.loomkv.net.rpc;
