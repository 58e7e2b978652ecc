/**
 * Runs writes one after another. LevelDB may apply two concurrent batches in either order
 * (they run on different libuv threads), so writes whose order matters — a counter that must
 * never go backwards on disk, chunks that must land in sequence — go through one queue.
 *
 * @example
 * const q = new WriteQueue()
 * await q.run(async () => await kv.batch(ops))
 */

/** A FIFO of async tasks, run one at a time; a failed task does not block the next. */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every task queued before it; resolves or rejects with its result. */
  async run<T> (task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => {})
    return await result
  }

  /** Resolves once every task queued so far has settled. */
  async idle (): Promise<void> {
    await this.tail
  }
}
