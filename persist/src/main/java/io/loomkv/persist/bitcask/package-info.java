/**
 * A BitCask store (Basho's "Bitcask: A Log-Structured Hash Table for Fast Key/Value Data"):
 * append-only data files, an in-memory key directory, merge with hint files. See docs/bitcask.md.
 */
package io.loomkv.persist.bitcask;
