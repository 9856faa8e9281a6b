/** What several commands share: opening the context, reading a body from its possible sources. */
import fs from 'node:fs';
import { UsageError } from '../core/errors';
import type { Io, Parsed } from './define';
import { isTerminal } from '../render/io';
import {
  closeContext,
  isCorruptionError,
  olderSetupWarnings,
  openContext,
  recoverFromCorruption,
  tuneForOneShot,
  type Context,
} from '../ops/context';
import { markNotices } from '../ops/notices';

type ContextOpts = { skipIndex?: boolean; discardDb?: boolean; setup?: boolean; readOnly?: boolean };

function openFor(io: Io, opts: ContextOpts): Context {
  const ctx = openContext({ warn: (m) => io.warn(`handoff: ${m}`), ...opts });
  tuneForOneShot(ctx);
  // Not while `sync --setup` replaces what it warns of.
  if (!opts.setup) for (const w of olderSetupWarnings(ctx)) io.warn(`handoff: ${w}`);
  return ctx;
}

/** Runs `fn` with an open context and closes it afterwards. */
export async function withContext<T>(io: Io, fn: (ctx: Context) => T | Promise<T>, opts: ContextOpts = {}): Promise<T> {
  const ctx = openFor(io, opts);
  try {
    return await fn(ctx);
  } catch (err) {
    throw isCorruptionError(err) ? recoverFromCorruption(ctx, err) : err;
  } finally {
    closeContext(ctx, { processEnds: true });
  }
}

/** Contexts kept open by withContextForDelivery, by the result their command made. */
const keptFor = new WeakMap<object, Context>();

/**
 * withContext for a command with a `delivered` step (src/commands/define.ts): the context stays open with
 * the result, and afterDelivery uses it, then closes it. (A process a closed pipe ends leaves it to its exit.)
 */
export async function withContextForDelivery<T extends object>(
  io: Io,
  fn: (ctx: Context) => T | Promise<T>,
): Promise<T> {
  const ctx = openFor(io, {});
  // Once-only notices in the output are marked as given after it was delivered (afterDelivery).
  ctx.noticeMarks = [];
  try {
    const result = await fn(ctx);
    keptFor.set(result, ctx);
    return result;
  } catch (err) {
    const thrown = isCorruptionError(err) ? recoverFromCorruption(ctx, err) : err;
    closeContext(ctx, { processEnds: true });
    throw thrown;
  }
}

/** Runs `fn` in the context withContextForDelivery kept for `result` (a new one if none), then closes it. */
export async function afterDelivery<T>(io: Io, result: object, fn: (ctx: Context) => T | Promise<T>): Promise<T> {
  const ctx = keptFor.get(result);
  if (!ctx) return withContext(io, fn);
  keptFor.delete(result);
  try {
    markNotices(ctx);
    return await fn(ctx);
  } finally {
    closeContext(ctx, { processEnds: true });
  }
}

/** A callback that says what a command waits for, on stderr, only when stderr is a terminal (and not --json). */
export function tellOnTerminal(io: Io): ((what: string) => void) | undefined {
  return isTerminal(2) && !io.json ? (what) => io.warn(`handoff: ${what}`) : undefined;
}

/**
 * For send and reply --wait-for: the id, on stderr, as soon as the message is written, whatever stderr is.
 * An agent's shell tool often stops a command long before its --timeout; the id is then not lost (running
 * the send again would send it twice).
 */
export function tellSent(io: Io): (id: string) => void {
  return (id) => io.warn(`handoff: sent ${id}; waiting (stopping the wait leaves it sent)`);
}

/** The message body from the argument, -m, --file or stdin (exactly one of them). */
export async function readBody(
  parsed: Pick<Parsed, 'args' | 'rest'> & { flags: { message?: string; file?: string } },
  io: Io,
  argName = 'body',
): Promise<string | Buffer> {
  const sources: [string, () => Promise<string | Buffer | null> | string | Buffer | null][] = [];
  const arg = parsed.args[argName];
  if (arg !== undefined) sources.push(['argument', () => asGiven([arg, ...parsed.rest])]);
  if (parsed.flags.message !== undefined) sources.push(['-m', () => asGiven([String(parsed.flags.message)])]);
  if (parsed.flags.file !== undefined) {
    const file = String(parsed.flags.file);
    sources.push([
      '--file',
      () => {
        try {
          return file === '-' ? fs.readFileSync(0) : fs.readFileSync(file);
        } catch (err) {
          throw new UsageError(
            'unreadable_file',
            `Cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`,
          );
        }
      },
    ]);
  }
  if (sources.length > 1)
    throw new UsageError('body_twice', `Give the body one way only (got ${sources.map((s) => s[0]).join(' and ')}).`);
  if (sources.length === 1) return (await sources[0]![1]())!;
  const stdin = await io.readStdin();
  if (stdin === null)
    throw new UsageError(
      'empty_body',
      'No message body: give it as an argument, with -m, with --file, or pipe it on stdin.',
    );
  return stdin;
}

/**
 * Command-line words joined by spaces, as text; or as the bytes they were given in when node's decoding
 * replaced bytes that are not UTF-8 (read back from /proc/self/cmdline, on Linux), so that the body is
 * refused as a file or stdin with the same bytes would be (invalid_utf8), not stored with U+FFFD in it.
 */
function asGiven(words: string[]): string | Buffer {
  const text = words.join(' ');
  if (!text.includes('\uFFFD')) return text;
  let cmdline: Buffer;
  try {
    cmdline = fs.readFileSync('/proc/self/cmdline');
  } catch {
    return text;
  }
  const raw: Buffer[] = [];
  for (let at = 0; at < cmdline.length;) {
    const end = cmdline.indexOf(0, at);
    raw.push(cmdline.subarray(at, end < 0 ? cmdline.length : end));
    at = end < 0 ? cmdline.length : end + 1;
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const invalid = (b: Buffer) => {
    try {
      decoder.decode(b);
      return false;
    } catch {
      return true;
    }
  };
  // A word is a whole argument, or the end of one (--message=<text>, -m<text>: the flag is ASCII).
  const rawOf = (w: string): Buffer => {
    for (const r of raw) {
      if (!invalid(r)) continue;
      const d = r.toString('utf8');
      if (d === w) return r;
      const flag = d.slice(0, d.length - w.length);
      if (d.endsWith(w) && /^(--[a-z-]+=|-[a-zA-Z])$/.test(flag)) return r.subarray(flag.length);
    }
    return Buffer.from(w);
  };
  const bytes = words.map(rawOf);
  return bytes.some((b, i) => b.toString('utf8') === words[i] && invalid(b))
    ? Buffer.concat(bytes.flatMap((b, i) => (i ? [Buffer.from(' '), b] : [b])))
    : text;
}

export const bodyFlags = {
  message: {
    type: 'string',
    char: 'm',
    description: 'The message body (instead of the argument).',
    helpValue: 'text',
    emptyOk: true,
  },
  file: { type: 'string', description: 'Read the body from a file ("-" for stdin).', helpValue: 'path' },
} as const;
