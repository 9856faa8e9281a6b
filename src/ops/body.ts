/** Checking a message body before anything is written: UTF-8, no NUL, not empty, under the size limit. */
import { UsageError } from '../core/errors';
import type { Context } from './context';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The body size limit: git config handoff.maxBodyBytes, else 1 MiB. */
export function maxBodyBytes(ctx: Pick<Context, 'config'>): number {
  const raw = ctx.config().get('handoff.maxbodybytes')?.at(-1);
  if (raw === undefined) return DEFAULT_MAX_BODY_BYTES;
  const m = /^(\d+)\s*([kmg]?)i?b?$/i.exec(raw.trim());
  if (!m)
    throw new UsageError(
      'bad_config',
      `git config handoff.maxBodyBytes is ${JSON.stringify(raw)}; use a number of bytes such as 1048576 or 1m.`,
    );
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** Decodes and checks a body given as bytes (stdin, a file) or text (an argument); returns the text. */
export function checkBody(ctx: Pick<Context, 'config'>, raw: string | Buffer): string {
  let text: string;
  let bytes: number;
  if (Buffer.isBuffer(raw)) {
    bytes = raw.length;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new UsageError(
        'invalid_utf8',
        'The message body is not valid UTF-8. Send text, or attach binary content with --attach-diff instead.',
      );
    }
  } else {
    text = raw;
    if (/[\ud800-\udfff]/.test(text) && !text.isWellFormed()) {
      throw new UsageError('invalid_utf8', 'The message body is not valid UTF-8 (it contains a lone surrogate).');
    }
    bytes = Buffer.byteLength(text, 'utf8');
  }
  if (text.trim().length === 0)
    throw new UsageError(
      'empty_body',
      'The message body is empty. Give it as an argument, with -m, with --file, or on stdin.',
    );
  if (text.includes('\0'))
    throw new UsageError(
      'nul_in_body',
      'The message body contains a NUL byte, which handoff refuses. Remove it and send again.',
    );
  const limit = maxBodyBytes(ctx);
  if (bytes > limit) {
    throw new UsageError(
      'body_too_large',
      `The message body is ${bytes} bytes; the limit is ${limit}. Attach large content with --attach-diff, or raise the limit with git config handoff.maxBodyBytes.`,
    );
  }
  return text;
}
