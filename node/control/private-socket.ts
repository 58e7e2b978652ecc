/**
 * Listening on the control socket so that no other user can ever connect, whatever the umask
 * and however open the folder around it is: the socket is bound inside a fresh 0700 folder
 * (mkdtemp) next to its final path, made 0600 there, then renamed into place. It appears at
 * its path already 0600, owned by this user, so there is no moment in which another user
 * could connect (listen-then-chmod left one, and a racing local user was answered as admin).
 *
 * Who connects is not asked of the kernel: Node's `net` does not expose SO_PEERCRED, and no
 * maintained npm package for it was found. What is checked instead: the socket is 0600 and
 * owned by this user (Linux requires write permission on a socket file to connect, so only
 * this user and root can), inside the node home, which the daemon refuses to use unless it is
 * this user's and 0700 (node/key-files.ts) — so others cannot even reach the path.
 *
 * @example
 * await listenPrivately(server, controlSocketPath(home))
 */
import { chmod, lstat, mkdtemp, rename, rmdir } from 'node:fs/promises'
import type { Server } from 'node:net'
import { dirname, join } from 'node:path'
import { PermissionsError } from '../../crdt/errors.js'

/** Binds `server` at `path` with mode 0600 from the first moment the path exists. */
export async function listenPrivately (server: Server, path: string): Promise<void> {
  // Short names: a Unix socket path must fit in ~107 bytes, and this one is longer than `path` by 10.
  const dir = await mkdtemp(join(dirname(path), '.s'))
  const staging = join(dir, 's')
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(staging, () => { server.off('error', reject); resolve() })
    })
    await chmod(staging, 0o600)
    await rename(staging, path)
  } catch (err) {
    server.close()
    throw err
  } finally {
    await rmdir(dir).catch(() => {})
  }
  const st = await lstat(path)
  if (!st.isSocket() || (st.mode & 0o777) !== 0o600 || (process.getuid !== undefined && st.uid !== process.getuid())) {
    server.close()
    throw new PermissionsError(`the control socket ${path} is not a private socket of this user`, { path })
  }
}
