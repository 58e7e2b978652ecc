/**
 * The node's identity: one ed25519 key in `<home>/identity.key` (mode 0600) that is both its
 * Aura signing key and its libp2p identity, so the Noise handshake proves the same key that
 * signs records and that revocation names.
 *
 * File format (JSON, one line): `{"v":1,"type":"ed25519","seed":"<b64u>","pub":"<b64u>"}`.
 * Loading refuses a key or home other users can reach (E_PERMISSIONS, key-files.ts) and a seed
 * that does not give its `pub` (E_KEY_MISMATCH).
 *
 * @example
 * const id = await loadIdentity(home)
 * id.shortId                              // 'peer-5f3a'
 * id.peerId                               // '12D3KooW...'
 * createLibp2p({ privateKey: await privateKeyFromSeed(id.keyPair.seed) })   // net/peer-identity.ts
 */
import { link, open, readFile, unlink } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { toB64u } from '../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../crdt/key-pair.js'
import { ExistsError, MalformedError, NotInitialisedError } from '../crdt/errors.js'
import { keyIdOf, shortId, type KeyId } from '../crdt/ids.js'
import { assertPrivate, parseKeyFile } from './key-files.js'
import { peerIdOf } from './peer-id.js'

/** File name of the identity key inside a node home. */
export const IDENTITY_FILE = 'identity.key'

/**
 * A loaded identity. `keyPair` (which holds the private seed) is not
 * enumerable, so logging or JSON-encoding an Identity never prints it.
 */
export interface Identity {
  readonly keyPair: KeyPair
  /** Hex SHA-256 of the public key. */
  readonly keyId: KeyId
  /** `peer-` + the first 4 hex digits of the key id. */
  readonly shortId: string
  /** The public key, unpadded base64url. */
  readonly publicKey: string
  /** The libp2p PeerId string (`12D3KooW...`) of the same key. */
  readonly peerId: string
  /** Where the key file is. */
  readonly path: string
}

/** The identity key file's path in a home. */
export function identityPath (home: string): string {
  return path.join(home, IDENTITY_FILE)
}

/**
 * Writes a new identity to `<home>/identity.key` (mode 0600) from a 32-byte seed (default: fresh
 * random). Refuses with E_EXISTS if one is already there; never overwrites.
 */
export async function createIdentity (home: string, seed: Uint8Array = randomBytes(32)): Promise<Identity> {
  const file = identityPath(home)
  const keyPair = keyPairFromSeed(seed)
  const body = JSON.stringify({ v: 1, type: 'ed25519', seed: toB64u(keyPair.seed), pub: toB64u(keyPair.publicKey) }) + '\n'
  // Write a private temp file and hard-link it into place: the key appears whole or not at all,
  // and link() fails if an identity already exists, so a race cannot overwrite one.
  const tmp = `${file}.${process.pid}.${toB64u(randomBytes(6))}.tmp`
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(body)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await link(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(file)
    throw err
  } finally {
    await unlink(tmp)
  }
  return describe(keyPair, file)
}

/**
 * Reads the identity of a home; E_NOT_INITIALISED if there is none, E_PERMISSIONS if the home
 * or key is open to others, E_MALFORMED / E_KEY_MISMATCH if the file is damaged.
 */
export async function loadIdentity (home: string): Promise<Identity> {
  const file = identityPath(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotInitialisedError(`no identity at ${file}`, { path: file, hint: `run \`aura init --home ${home}\` to create one` })
    }
    throw err
  }
  await assertPrivate([{ path: home, kind: 'dir' }, { path: file, kind: 'file' }])
  return describe(parseIdentityFile(text, file), file)
}

/** The E_EXISTS error for an identity that is already there, saying where. */
export function existsError (file: string): InstanceType<typeof ExistsError> {
  return new ExistsError(`an identity already exists at ${file}; refusing to overwrite it`, {
    path: file,
    hint: 'a new key is a new peer that must be admitted again; use another --home for a second node'
  })
}

// Never includes the file's content in an error: it is the private key.
function parseIdentityFile (text: string, file: string): KeyPair {
  const keyPair = parseKeyFile(text, file, 'identity')
  const { v, type } = JSON.parse(text) as Record<string, unknown>
  if (v !== 1 || type !== 'ed25519') throw new MalformedError(`identity file ${file} is damaged: unknown version or key type`, { path: file })
  return keyPair
}

function describe (keyPair: KeyPair, file: string): Identity {
  const keyId = keyIdOf(keyPair.publicKey)
  const identity = {
    keyId,
    shortId: shortId(keyId),
    publicKey: toB64u(keyPair.publicKey),
    peerId: peerIdOf(keyPair.publicKey),
    path: file
  }
  Object.defineProperty(identity, 'keyPair', { value: keyPair, enumerable: false })
  return identity as Identity
}
