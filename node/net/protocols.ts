/**
 * libp2p protocol ids spoken by Aura nodes.
 */

/** Sync sessions (node/sync/engine.ts). */
export const SYNC_PROTOCOL = '/aura/sync/1.0.0'
