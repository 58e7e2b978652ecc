// The part of hypercore@11 the replication benchmark uses (the package ships no types).
declare module 'hypercore' {
  import type { Duplex } from 'node:stream'
  export default class Hypercore {
    constructor (storage: string, key?: Uint8Array, opts?: Record<string, unknown>)
    readonly key: Uint8Array
    readonly length: number
    readonly contiguousLength: number
    ready (): Promise<void>
    append (blocks: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    get (index: number): Promise<Uint8Array | null>
    download (
      range?: { start?: number, end?: number, linear?: boolean }
    ): { done: () => Promise<void>, destroy: () => void }
    replicate (isInitiator: boolean, opts?: { keepAlive?: boolean }): Duplex
    on (event: 'download', listener: (index: number, byteLength: number) => void): this
    close (): Promise<void>
  }
}
