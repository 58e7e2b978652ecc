/**
 * Output rules of every command: the result goes to stdout (human text, or JSON under
 * `--json`); progress and warnings go to stderr; errors are `error E_CODE: message` on stderr,
 * or `{"error": {...}}` on stdout under `--json`. Colour is off when the stream is not a TTY,
 * under `--json`, and when NO_COLOR is set.
 *
 * @example
 * const out = createOutput(ctx, { json: false })
 * out.result({ id: 'peer-5f3a' }, (c) => c.bold('peer-5f3a'))
 * out.warn('identity.key is readable by others')
 */
import pc from 'picocolors'
import { AuraError, exitCodeFor, toAuraError } from '../crdt/errors.js'
import type { CliContext, TextStream } from './context.js'

/** Colour functions (picocolors); identity functions when colour is off. */
export type Colors = ReturnType<typeof pc.createColors>

/** Renders a result for people, given the colours to use. */
export type TextRenderer = (c: Colors) => string

/** A command's output channels. */
export interface Output {
  readonly json: boolean
  /** Colours for stdout. */
  readonly colors: Colors
  /** Prints the command's result: JSON under --json, else the rendered text (or JSON if none). */
  result: (data: unknown, text?: TextRenderer) => void
  /** Writes raw text to stdout, for commands that stream (JSON lines, logs). */
  write: (chunk: string) => void
  /** Progress for people, on stderr. */
  info: (message: string) => void
  /** A warning on stderr. */
  warn: (message: string) => void
  /** Reports an error as the rules say and returns the exit code for it. */
  fail: (err: unknown) => number
}

/** Whether to colour a stream. */
export function colorEnabled (stream: TextStream, env: Record<string, string | undefined>, json: boolean): boolean {
  if (json) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true
  return stream.isTTY === true
}

/** The output channels for one command run. */
export function createOutput (ctx: CliContext, opts: { json: boolean }): Output {
  const colors = pc.createColors(colorEnabled(ctx.stdout, ctx.env, opts.json))
  const errColors = pc.createColors(colorEnabled(ctx.stderr, ctx.env, opts.json))
  const line = (s: string): string => s.endsWith('\n') ? s : `${s}\n`
  return {
    json: opts.json,
    colors,
    result (data, text) {
      ctx.stdout.write(line(opts.json || text === undefined ? JSON.stringify(data, null, 2) : text(colors)))
    },
    write (chunk) { ctx.stdout.write(chunk) },
    info (message) { ctx.stderr.write(line(message)) },
    warn (message) { ctx.stderr.write(line(`${errColors.yellow('warning:')} ${message}`)) },
    fail (err) {
      const e = toAuraError(err)
      if (opts.json) {
        const { code, message, ...context } = e.toJSON()
        ctx.stdout.write(line(JSON.stringify({ error: { code, message, ...context } })))
      } else {
        ctx.stderr.write(line(`${errColors.red(`error ${e.code}:`)} ${e.message}`))
        if (typeof e.context.hint === 'string') ctx.stderr.write(line(`${errColors.dim('hint:')} ${e.context.hint}`))
        if (!(err instanceof AuraError) && err instanceof Error && ctx.env.AURA_DEBUG !== undefined) ctx.stderr.write(line(err.stack ?? ''))
      }
      return exitCodeFor(e.code)
    }
  }
}
