/**
 * Private files of a node home, checked as ssh checks `~/.ssh`: the home and every key file
 * must belong to this user and be closed to everyone else, or the command refuses with
 * E_PERMISSIONS and the exact `chmod`/`chown` that fixes it. A key file must also hold the key
 * its `pub` says (E_KEY_MISMATCH otherwise): a damaged key is found when it is opened, not
 * when a peer refuses what it signed.
 *
 * @example
 * await assertPrivate([{ path: home, kind: 'dir' }, { path: keyFile, kind: 'file' }])
 * const key = parseKeyFile(await readFile(keyFile, 'utf8'), keyFile, 'the Mothership signing key')
 */
import { stat } from 'node:fs/promises'
import { bytesEqual, fromB64u } from '../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../crdt/key-pair.js'
import { KeyMismatchError, MalformedError, PermissionsError } from '../crdt/errors.js'

/** A path that must be private: a folder (mode 0700) or a file (mode 0600). */
export interface PrivatePath {
  readonly path: string
  readonly kind: 'dir' | 'file'
}

/**
 * Refuses with E_PERMISSIONS when any path is owned by another user or open to group or
 * others; the message and `hint` give the commands that fix all of them. No-op on Windows.
 */
export async function assertPrivate (paths: readonly PrivatePath[]): Promise<void> {
  if (process.platform === 'win32') return
  const uid = process.getuid?.()
  const problems: string[] = []
  const fixes: string[] = []
  const offending: string[] = []
  for (const p of paths) {
    const before = problems.length
    const st = await stat(p.path)
    if (uid !== undefined && st.uid !== uid) {
      problems.push(`${p.path} belongs to uid ${st.uid}, not to this user (uid ${uid})`)
      fixes.push(`chown ${uid} ${p.path}`)
    }
    const mode = st.mode & 0o777
    if ((mode & 0o077) !== 0) {
      problems.push(`${p.path} is open to other users (mode ${octal(mode)})`)
      fixes.push(`chmod ${p.kind === 'dir' ? '700' : '600'} ${p.path}`)
    }
    if (problems.length > before) offending.push(p.path)
  }
  if (problems.length === 0) return
  const hint = fixes.join(' && ')
  throw new PermissionsError(`refusing to use private keys that others can reach: ${problems.join('; ')}. Fix: ${hint}`, {
    path: offending[0],
    hint
  })
}

/**
 * The key pair of a key file `{"seed": b64u, "pub": b64u, ...}`: E_MALFORMED when it does not
 * parse, E_KEY_MISMATCH when the seed does not give the `pub` it records. Never puts the
 * file's content in an error.
 */
export function parseKeyFile (text: string, file: string, what: string): KeyPair {
  const damaged = (why: string) => new MalformedError(`${what} file ${file} is damaged: ${why}`, { path: file, hint: `restore ${file} from a backup` })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw damaged('not JSON')
  }
  const { seed, pub } = (json ?? {}) as Record<string, unknown>
  if (typeof seed !== 'string' || typeof pub !== 'string') throw damaged('missing seed or pub')
  let keyPair: KeyPair
  let expected: Uint8Array
  try {
    keyPair = keyPairFromSeed(fromB64u(seed))
    expected = fromB64u(pub)
  } catch {
    throw damaged('seed or pub is not a 32-byte base64url value')
  }
  if (!bytesEqual(keyPair.publicKey, expected)) {
    throw new KeyMismatchError(`${what} file ${file} is damaged: the public key does not match the seed`, { path: file, hint: `restore ${file} from a backup` })
  }
  return keyPair
}

function octal (mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}
