/**
 * A first-in first-out queue with O(1) shift, for frames waiting on a handler or on the wire
 * (Array.prototype.shift copies the whole array, which a queue of thousands of frames feels).
 *
 * @example
 * const q = new Fifo<number>(); q.push(1); q.push(2); q.shift() // 1
 */

/** An ordered queue: push at the back, take from the front. */
export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  /** How many items are queued. */
  get length (): number {
    return this.items.length - this.head
  }

  /** Adds an item at the back. */
  push (item: T): void {
    this.items.push(item)
  }

  /** The front item without removing it. */
  peek (): T | undefined {
    return this.items[this.head]
  }

  /** Removes and returns the front item. */
  shift (): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) this.clear()
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Drops everything queued. */
  clear (): void {
    this.items = []
    this.head = 0
  }
}
