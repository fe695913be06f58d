/** Which node of which cluster owns a data directory, checked at every start. */
package io.loomkv.persist.identity;
