/**
 * Types for the part of sodium-native that crdt/crypto.ts uses (the package ships none).
 * Lengths are checked by libsodium, which throws on a wrong-sized buffer.
 */
declare module 'sodium-native' {
  /** Fills `pk` (32 bytes) and `sk` (64 bytes) from a 32-byte seed. */
  function crypto_sign_seed_keypair (pk: Buffer, sk: Buffer, seed: Buffer): void
  /** Writes the 64-byte detached signature of `message` under `sk` into `sig`. */
  function crypto_sign_detached (sig: Buffer, message: Buffer, sk: Buffer): void
  /** libsodium's strict verification of a detached signature. */
  function crypto_sign_verify_detached (sig: Buffer, message: Buffer, pk: Buffer): boolean
  /** True for a canonical point of the prime-order subgroup that is not of small order. */
  function crypto_core_ed25519_is_valid_point (p: Buffer): boolean
  const sodium: {
    crypto_core_ed25519_is_valid_point: typeof crypto_core_ed25519_is_valid_point
    crypto_sign_seed_keypair: typeof crypto_sign_seed_keypair
    crypto_sign_detached: typeof crypto_sign_detached
    crypto_sign_verify_detached: typeof crypto_sign_verify_detached
  }
  export default sodium
}
