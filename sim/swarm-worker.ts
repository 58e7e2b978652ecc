/**
 * Child process of a swarm: runs one seed per IPC message and sends its result back, so the
 * parent hands out seeds one at a time and every core stays busy while each run stays
 * single-threaded.
 *
 * @example
 * const w = fork('sim/swarm-worker.js'); w.send({ seed: 7, mode: 'full' })
 */
import '../node/compat.js'
import { runSwarmSeed } from './swarm.js'

process.on('message', (msg: { seed?: number, mode: 'full' | 'model', exit?: boolean }) => {
  if (msg.exit === true || msg.seed === undefined) { process.disconnect(); return }
  void runSwarmSeed(msg.seed, { mode: msg.mode }).then((result) => process.send?.({ result }))
})
