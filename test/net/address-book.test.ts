// The address book's admission rules, with fakes for its store, dialer and host: what it keeps
// and dials for admitted keys, what discovery-off drops, and the LAN addresses of a key heard
// before the chain admitted it (mDNS tells of a key only once), learned when the chain does.
import { describe, expect, it } from 'vitest'
import { AddressBook, MAX_HEARD_UNADMITTED } from '../../node/net/address-book.js'

const SELF = 'a'.repeat(64)
const DAVE = 'd'.repeat(64)

function rig (discover: boolean): { book: AddressBook, dialled: string[], admitted: Set<string> } {
  const rows = new Map<string, { addrs: string[], seen: number | null }>()
  const dialled: string[] = []
  const admitted = new Set<string>()
  const store = {
    get: async (k: string) => rows.get(k),
    put: async (k: string, v: { addrs: string[], seen: number | null }) => { rows.set(k, v) },
    del: async (k: string) => { rows.delete(k) },
    list: async () => [...rows].map(([key, info]) => ({ key, info }))
  }
  const dialer = { add: (a: string) => { dialled.push(a) }, remove: () => {} }
  const host = { key: SELF, peerIdOf: (k: string) => `P${k}` }
  const book = new AddressBook({
    store: store as any,
    dialer: dialer as any,
    host: host as any,
    admitted: (k) => admitted.has(k),
    now: () => 0,
    discover
  })
  return { book, dialled, admitted }
}

describe('address book', () => {
  it('dials an admitted key\'s addresses; refuses other peers\' word with discovery off, but not mDNS', async () => {
    const { book, dialled, admitted } = rig(false)
    admitted.add(DAVE)
    await book.learn(DAVE, ['/ip4/198.19.9.3/tcp/7447'], 'peer')
    expect(dialled).toEqual([])
    await book.learn(DAVE, ['/ip4/198.19.9.3/tcp/7447'], 'mdns')
    expect(dialled).toEqual([`/ip4/198.19.9.3/tcp/7447/p2p/P${DAVE}`])
  })

  it('a key heard on the LAN before its admission is dialled once the chain admits it', async () => {
    const { book, dialled, admitted } = rig(true)
    await book.learn(DAVE, ['/ip4/198.19.9.3/tcp/7447'], 'mdns')
    await book.admissionsChanged()
    expect(dialled).toEqual([])
    admitted.add(DAVE)
    await book.admissionsChanged()
    expect(dialled).toEqual([`/ip4/198.19.9.3/tcp/7447/p2p/P${DAVE}`])
  })

  it('what other peers say of an unadmitted key is never kept for later', async () => {
    const { book, dialled, admitted } = rig(true)
    await book.learn(DAVE, ['/ip4/198.19.9.3/tcp/7447'], 'peer')
    admitted.add(DAVE)
    await book.admissionsChanged()
    expect(dialled).toEqual([])
  })

  it('keeps at most MAX_HEARD_UNADMITTED unadmitted keys, dropping the oldest', async () => {
    const { book, dialled, admitted } = rig(true)
    const keys = Array.from({ length: MAX_HEARD_UNADMITTED + 1 }, (_, i) => i.toString(16).padStart(64, '0'))
    for (const k of keys) { await book.learn(k, ['/ip4/198.19.9.9/tcp/7447'], 'mdns'); admitted.add(k) }
    await book.admissionsChanged()
    expect(dialled.length).toBe(MAX_HEARD_UNADMITTED)
    expect(dialled.some((a) => a.endsWith(`/p2p/P${keys[0]}`))).toBe(false)
  })
})
