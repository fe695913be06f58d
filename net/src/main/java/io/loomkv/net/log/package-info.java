/** The logging context (SLF4J MDC) of a store's threads: its node id and the group at work. */
package io.loomkv.net.log;
