/**
 * libp2p protocol ids spoken by Aura nodes.
 */

/**
 * Sync sessions (node/sync/engine.ts). 1.2: every intent-log change is signed by the writer
 * that owns its Automerge actor (crdt/change-auth.ts), so 1.1 nodes' unsigned changes would be
 * refused; 1.1: frames may be DEFLATE-compressed with a per-direction history
 * (node/net/frame-deflate.ts); 1.0 did not compress.
 */
export const SYNC_PROTOCOL = '/aura/sync/1.2.0'

/** Protocols whose links compress their frames. */
export const DEFLATED_PROTOCOLS: ReadonlySet<string> = new Set([SYNC_PROTOCOL])
