/**
 * The mutants: small, realistic bugs in crdt/, node/sync/ and node/peer/, each a textual patch (`find` must
 * occur exactly once in `file`, so a mutant that no longer applies fails the suite instead of
 * passing unmutated). Each lists the runs that may catch it, in order: swarm seeds, or a bundled
 * scenario with a seed where the bug needs a behaviour the swarm does not draw. The seed windows
 * keep the suite short; they were found by running seeds from 1 (cut-by-seq needs a revoked
 * adversary that forks below its cut where the fork reaches a peer: first at seed 31).
 *
 * @example
 * for (const m of MUTANTS) applyMutant(source, m)
 */
import type { PlanRun } from './runner.js'

/** One mutation of the sources. */
export interface Mutant {
  id: string
  /** What bug it stands for. */
  bug: string
  file: string
  find: string
  replace: string
  runs: PlanRun[]
}

const swarm = (
  from: number,
  to: number
): PlanRun[] => Array.from({ length: to - from + 1 }, (_, i) => ({ swarm: from + i }))
// Victims cut off with a revoked peer that feeds them beacons: stale from max_staleness + skew on.
const beaconRelay: PlanRun = { scenario: 'sim/scenarios/beacon-relay.toml', seed: 7, mode: 'model' }
// Staleness alone: an island without beacons for longer than twice the bound (no revocation,
// so no beacon ahead of the chain makes the peers stale first, as in beacon-relay).
const staleIsland: PlanRun = { scenario: 'sim/scenarios/stale-island.toml', seed: 7, mode: 'model' }
// The wider adversary (issue 16 item 6): every hostile behaviour on, and a victim that comes back
// from an offline week into an island with mallory alone, who feeds it stockpiled and forged beacons.
const wide = (seed: number): PlanRun => ({ scenario: 'sim/scenarios/wide-adversary.toml', seed, mode: 'model' })
const wideRuns: PlanRun[] = [wide(11), wide(12)]
// Model mode's prelude (sim/workload.ts) gives mallory's revocation a cut over honest records.
const compromised: PlanRun = { scenario: 'sim/scenarios/compromised-peer.toml', seed: 7, mode: 'model' }
// The Mothership rotates its key while dave and erin are cut off, then revokes mallory under the
// new key; mallory holds the retired key and tries it on bob and carol, who hold the rotation.
const rotation = (seed: number): PlanRun => ({ scenario: 'sim/scenarios/key-rotation.toml', seed, mode: 'model' })
const rotationRuns: PlanRun[] = [rotation(5), rotation(6)]

// ChainState.checkSigner (crdt/chain-state.ts) as it reads, and as it reads with the current
// Mothership key replaced by `key` (an expression of the method's scope).
const CHECK_SIGNER = [
  '  private checkSigner (entry: ChainEntry): void {',
  '    const context = { seq: entry.seq, signer: entry.signer }',
  '    if (entry.signer !== this.mothership.id) {',
  "      throw new BadSignatureError(`chain entry ${entry.seq} is signed by ${shortId(entry.signer, 'key')}, not the current Mothership key ${shortId(this.mothership.id, 'key')}`, { ...context, reason: 'wrong signer' })",
  '    }',
  '    if (verifiedUnder.get(entry) === this.mothership.pub) return',
  '    if (!verifyEntrySignature(entry, fromB64u(this.mothership.pub))) {',
  "      throw new BadSignatureError(`chain entry ${entry.seq} has a bad signature`, { ...context, reason: 'bad signature' })",
  '    }',
  '    if (isDeepFrozen(entry)) verifiedUnder.set(entry, this.mothership.pub)',
  '  }'
].join('\n')
const checkSignerUnder = (key: string): string =>
  CHECK_SIGNER.replaceAll('this.mothership', 'key').replace('    const context', `    const key = ${key}\n    const context`)
// The genesis entry's key, in ChainState (its first key) and in the engine (entry 0's body).
const FIRST_KEY = '{ id: [...this.keys.keys()][0], pub: [...this.keys.values()][0] }'
const GENESIS_PUB = 'fromB64u((this.c.chain.entry(0) as { body: { mothership: string } }).body.mothership)'
const VERIFY_BEACON = '    const b = Object.freeze(verifyBeacon(decoded, this.c.chain.mothershipKey))'

/** Every mutant the suite applies, one at a time. */
export const MUTANTS: Mutant[] = [
  {
    id: 'no-chain-relay',
    bug: 'new chain entries go out only from the node that signed them: no relay on first receipt',
    file: 'node/sync/engine.ts',
    find: 'if (s === source || !s.trusted || entries.length === 0) continue',
    replace: 'if (s === source || source !== null || !s.trusted || entries.length === 0) continue',
    runs: swarm(1, 12)
  },
  {
    id: 'revoked-sessions-kept',
    // Closing the sessions alone (the engine's dropPeer) is not a mutant any more: the peer core
    // (node/peer/revocation.ts) hangs up the key's connections after it, as the daemon always did.
    bug: 'a newly revoked key is never reported: its sessions and connections stay open',
    file: 'node/sync/engine.ts',
    find: '      this.knownRevoked.add(m.key)\n      newlyRevoked.push(m.key)\n',
    replace: '      this.knownRevoked.add(m.key)\n',
    runs: swarm(1, 12)
  },
  {
    id: 'revoked-dial-admitted',
    bug: 'a connection from a key the chain revokes is not refused at the handshake',
    file: 'node/sync/engine.ts',
    find: '    const revoked = this.c.chain.revocation(link.remote)\n    if (revoked !== undefined) {',
    replace: '    const revoked = this.c.chain.revocation(link.remote)\n    if (revoked !== undefined && revoked.reason === \'\') {',
    runs: swarm(1, 12)
  },
  {
    id: 'no-equivocation-quarantine',
    bug: 'two records of one signer with one seq both count',
    file: 'crdt/effective-view.ts',
    find: "  if (equivocal.has(id)) return 'equivocation'\n",
    replace: '',
    runs: swarm(1, 12)
  },
  {
    id: 'cut-ignored',
    bug: 'the effective view forgets a revoked signer\'s cut',
    file: 'crdt/effective-view.ts',
    find: '    const revocation = auth.revocation(signer)\n    if (revocation === undefined) continue',
    replace: '    const revocation = auth.revocation(signer)\n    if (revocation === undefined || revocation.cut.seq >= 0) continue',
    runs: swarm(1, 12)
  },
  {
    id: 'cut-by-seq',
    bug: 'the cut is decided by seq, not by the cut record\'s prev chain',
    file: 'crdt/effective-view.ts',
    find: '  if (cut !== undefined && !cut.has(id)) return \'beyond_cut\'',
    replace: '  if (cut !== undefined && record.seq > (auth.revocation(record.signer)?.cut.seq ?? 0)) return \'beyond_cut\'',
    runs: swarm(25, 36)
  },
  {
    id: 'backdating-allowed',
    bug: 'the effective view drops its backdating rule',
    file: 'crdt/effective-view.ts',
    find: "  if (predatesAdmission(member, record) || found?.backdated.has(id) === true) return 'backdated'\n",
    replace: '',
    runs: swarm(1, 12)
  },
  {
    id: 'revocation-first-entry-only',
    bug: 'a batch of new chain entries is scanned for revocations only at its first entry',
    file: 'node/sync/engine.ts',
    find: "    if (grown.some((e) => e.kind === 'revoke')) this.enforceRevocations()",
    replace: "    if (grown[0]?.kind === 'revoke') this.enforceRevocations()",
    runs: swarm(1, 12)
  },
  {
    id: 'freshness-bound-ignored',
    bug: 'the node never counts itself stale, whatever max_staleness says',
    file: 'node/sync/engine.ts',
    find: '    if (max === null || max === undefined) return false',
    replace: '    if (max === null || max === undefined || max > 0) return false',
    // A beacon ahead of the chain makes a peer stale before this line, whatever the bound, so
    // beacon-relay (whose victims go stale that way) no longer shows it: stale-island does.
    runs: [staleIsland, beaconRelay, ...swarm(1, 6)]
  },
  {
    id: 'staleness-ignored-on-receipt',
    bug: 'incoming records are checked as if the node were fresh',
    file: 'node/sync/engine.ts',
    find: 'checkIncomingRecords(this.c.chain, incoming, this.isStale())',
    replace: 'checkIncomingRecords(this.c.chain, incoming, false)',
    runs: [beaconRelay, ...swarm(1, 6)]
  },
  {
    id: 'stale-bound-off-by-skew',
    bug: 'the staleness bound counts from arrival time plus the skew allowance twice over',
    file: 'crdt/beacon.ts',
    find: '  return asOf === null || now - asOf > limits.maxStalenessMs + limits.maxClockSkewMs',
    replace: '  return asOf === null || now - asOf > 2 * limits.maxStalenessMs + limits.maxClockSkewMs',
    runs: [staleIsland, beaconRelay, ...swarm(1, 6)]
  },
  {
    id: 'lockdown-ignored-on-receipt',
    bug: 'records from others are taken while the team is in lockdown',
    file: 'crdt/incoming-check.ts',
    find: '  if (chain.locked) throw new LockdownError',
    replace: '  if (chain.locked && incoming.length < 0) throw new LockdownError',
    runs: swarm(1, 12)
  },
  {
    id: 'beacon-ahead-counted',
    bug: 'a beacon naming a chain head not held is counted at once (the issue-16 bug, undone)',
    file: 'node/sync/engine.ts',
    find: '    if (!holdsBeaconHead(b, this.c.chain)) {',
    replace: '    if (!holdsBeaconHead(b, this.c.chain) && b.ts < 0) {',
    runs: [beaconRelay]
  },
  {
    id: 'no-chain-pull-on-hello',
    bug: 'a session does not send the entries the remote lacks when it starts',
    file: 'node/sync/engine.ts',
    find: '      this.send(s, { t: \'chain\', entries: this.c.chain.entries(from).map(entryB64) })',
    replace: '      if (from < 0) this.send(s, { t: \'chain\', entries: this.c.chain.entries(from).map(entryB64) })',
    runs: swarm(1, 12)
  },
  {
    id: 'chain-entry-signature-skipped',
    bug: 'a chain entry naming the Mothership key as its signer is applied without checking its signature',
    file: 'crdt/chain-state.ts',
    find: '    if (!verifyEntrySignature(entry, fromB64u(this.mothership.pub))) {',
    replace: '    if (!verifyEntrySignature(entry, fromB64u(this.mothership.pub)) && entry.seq < 0) {',
    runs: wideRuns
  },
  {
    id: 'beacon-signature-skipped',
    bug: 'a beacon naming the Mothership key is counted without checking its signature',
    file: 'crdt/beacon.ts',
    find: "  if (!verifyOnce('beacon', canonicalBytes(unsigned), fromB64u(sig), mothershipPub)) {",
    replace: "  if (!verifyOnce('beacon', canonicalBytes(unsigned), fromB64u(sig), mothershipPub) && beacon.ts < 0) {",
    runs: wideRuns
  },
  {
    id: 'beacon-counted-from-arrival',
    bug: 'a beacon vouches for the time it arrived, not the time the Mothership signed it',
    file: 'crdt/beacon.ts',
    find: '  return Math.min(beacon.ts, now + limits.maxClockSkewMs)',
    replace: '  return Math.max(beacon.ts, now)',
    runs: wideRuns
  },
  {
    id: 'actor-binding-skipped',
    bug: 'a change is taken under an actor its signer does not own (another member\'s)',
    file: 'crdt/change-auth.ts',
    find: '  if (!ownsActor(writer, change.actor)) bad(',
    replace: '  if (!ownsActor(writer, change.actor) && change.seq < 0) bad(',
    runs: wideRuns
  },
  {
    id: 'missing-deps-queued',
    bug: 'a change whose dependency nobody holds is handed to Automerge, which queues it',
    file: 'crdt/intent-log.ts',
    find: '    if (stuck !== undefined) {',
    replace: '    if (stuck !== undefined && stuck.seq < 0) {',
    runs: wideRuns
  },
  {
    id: 'stranger-not-refused-at-gate',
    bug: 'the connection gate lets a key the chain never admitted through every time',
    file: 'node/peer/admission.ts',
    find: '  if (chain.member(key) === undefined) return new NotAdmittedError(',
    replace: '  if (chain.member(key) === undefined && key.length < 0) return new NotAdmittedError(',
    runs: wideRuns
  },
  {
    id: 'stranger-trusted',
    bug: 'a session with a key the chain does not admit is trusted from the start',
    file: 'node/sync/engine.ts',
    find: '      trusted: this.c.chain.member(link.remote) !== undefined,',
    replace: '      trusted: true,',
    runs: wideRuns
  },
  {
    id: 'cut-emptied',
    bug: 'a revoked key\'s cut is taken as empty: its honest records before the compromise are quarantined too',
    file: 'crdt/effective-view.ts',
    find: '    if (seq === 0 || hash === null) continue',
    replace: '    if (seq >= 0 || hash === null) continue',
    runs: [compromised]
  },
  {
    id: 'chain-verified-under-first-key',
    bug: 'chain entries are verified against the key the team started with, not the one the chain rotated to',
    file: 'crdt/chain-state.ts',
    find: CHECK_SIGNER,
    replace: checkSignerUnder(FIRST_KEY),
    runs: rotationRuns
  },
  {
    id: 'chain-retired-key-accepted',
    bug: 'a chain entry signed by any key that was ever the Mothership\'s is applied (for entries in flight across a rotation)',
    file: 'crdt/chain-state.ts',
    find: CHECK_SIGNER,
    replace: checkSignerUnder('{ id: entry.signer, pub: this.keys.get(entry.signer) ?? this.mothership.pub }'),
    runs: rotationRuns
  },
  {
    id: 'beacon-verified-under-first-key',
    bug: 'beacons are verified against the key the team started with, not the one the chain rotated to',
    file: 'node/sync/engine.ts',
    find: VERIFY_BEACON,
    replace: `    const b = Object.freeze(verifyBeacon(decoded, ${GENESIS_PUB}))`,
    runs: rotationRuns
  },
  {
    id: 'beacon-retired-key-accepted',
    bug: 'a beacon signed by the key the team started with still counts after a rotation (for beacons in flight across it)',
    file: 'node/sync/engine.ts',
    find: VERIFY_BEACON,
    replace: `    const b = Object.freeze(verifyBeacon(decoded, decoded.signer === this.c.chain.entry(0)?.signer ? ${GENESIS_PUB} : this.c.chain.mothershipKey))`,
    runs: rotationRuns
  },
  {
    id: 'frame-limit-mid-prefix-only',
    bug: 'the frame decoder refuses a length only while its prefix continues, not once it is complete',
    file: 'node/sync/frame.ts',
    find: '    if (least > this.maxFrameBytes) throw this.fail(frameTooLarge(least, this.maxFrameBytes, more))',
    replace: '    if (least > this.maxFrameBytes && more) throw this.fail(frameTooLarge(least, this.maxFrameBytes, more))',
    runs: wideRuns
  }
]
