// The mutation suite (issue 16): each mutant of test/mutation/mutants.ts is applied alone to a
// copy of the sources and must be caught — some property fails — within its bounded list of
// runs; a run that catches one must pass on an unmutated copy, so the catch is the mutant's. Two
// copies run at a time (one per core). Run by `npm run test:slow`, not `npm test`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyMutant, makeCopy, removeCopy, runPlan, StaleMutantError, type RunOutcome } from './mutate.js'
import { MUTANTS } from './mutants.js'

const SLOTS = 2
let free = SLOTS
const waiting: Array<() => void> = []
async function slot<T> (fn: () => Promise<T>): Promise<T> {
  if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve))
  else free--
  try { return await fn() } finally { const next = waiting.shift(); if (next !== undefined) next(); else free++ }
}

let baseline = ''
beforeAll(() => { baseline = makeCopy('baseline', null) })
afterAll(() => { removeCopy(baseline) })

describe('a mutant that no longer applies fails the suite', () => {
  it('applyMutant refuses text that is missing or ambiguous', () => {
    const m = { id: 't', file: 'f.ts', find: 'a', replace: 'b' }
    expect(() => applyMutant('xyz', m)).toThrow(StaleMutantError)
    expect(() => applyMutant('a a', m)).toThrow(/more than once/)
    expect(applyMutant('xay', m)).toBe('xby')
  })
})

describe.concurrent('every mutant is caught', () => {
  for (const m of MUTANTS) {
    it(`${m.id}: ${m.bug}`, async () => {
      const outcome = await slot(async () => {
        const dir = makeCopy(m.id, m)
        try {
          const runs = await runPlan(dir, m.runs)
          const caught = runs.find((r) => r.count > 0)
          // The same run on the unmutated sources passes: the catch is the mutant's doing.
          const clean = caught === undefined ? [] : await runPlan(baseline, [caught.run], true)
          return { runs, caught, clean }
        } finally {
          removeCopy(dir)
        }
      })
      const {
        runs,
        caught,
        clean
      } = outcome as { runs: RunOutcome[], caught: RunOutcome | undefined, clean: RunOutcome[] }
      process.stderr.write(`mutant ${m.id}: ${caught === undefined ? `SURVIVED ${runs.length} runs` : `caught by ${JSON.stringify(caught.run)} after ${runs.length} run(s): ${caught.violations[0]}`}\n`)
      expect(caught, `mutant ${m.id} survived all ${m.runs.length} runs`).toBeDefined()
      expect(clean.map((r) => r.violations)).toEqual([[]])
    }, 600_000)
  }
})
