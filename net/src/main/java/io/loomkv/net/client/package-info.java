/**
 * The Java client library: {@link io.loomkv.net.client.KvClient} (sync and async, thread-safe,
 * leader discovery by redirect hints, retries with backoff within a deadline, exactly-once writes
 * through a server-side session).
 */
package io.loomkv.net.client;
