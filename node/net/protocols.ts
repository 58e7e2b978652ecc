/**
 * libp2p protocol ids spoken by Aura nodes.
 */

/**
 * Sync sessions (node/sync/engine.ts). 1.1: frames may be DEFLATE-compressed with a per-direction
 * history (node/net/frame-deflate.ts); 1.0 did not compress.
 */
export const SYNC_PROTOCOL = '/aura/sync/1.1.0'

/** Protocols whose links compress their frames. */
export const DEFLATED_PROTOCOLS: ReadonlySet<string> = new Set([SYNC_PROTOCOL])
