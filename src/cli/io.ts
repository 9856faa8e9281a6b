/** The terminal: colour when stdout is a terminal and NO_COLOR is unset, stdin reading, output helpers. */
import fs from 'node:fs';
import { isTerminal, type Io } from '../render/io';

/** Set by bin/run.js when it makes process.stdout or process.stderr (whose writes may then be queued). */
const MADE = Symbol.for('handoff.stdioMade');
/** Descriptors whose writes go through their stream from now on, to keep the order of what was written. */
const streamed = new Set<number>();

/**
 * Writes `text` to standard output (1) or error (2) with write(2) while node has not made the stream,
 * and through the stream otherwise, or from the first write the descriptor refuses for now (EAGAIN: it
 * is non-blocking). A closed pipe ends the command quietly on stdout (as bin/run.js does for the stream)
 * and is ignored on stderr.
 */
export function writeStd(fd: 1 | 2, text: string): void {
  const made = (globalThis as Record<symbol, Set<number> | undefined>)[MADE];
  let rest: Buffer | string = text;
  if (!streamed.has(fd) && !made?.has(fd)) {
    let buf = Buffer.from(text, 'utf8');
    try {
      while (buf.length > 0) buf = buf.subarray(fs.writeSync(fd, buf));
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        if (fd === 1) process.exit(process.exitCode || 0);
        return;
      }
      if (code !== 'EAGAIN') throw err;
      rest = buf;
    }
  }
  streamed.add(fd);
  (fd === 1 ? process.stdout : process.stderr).write(rest);
}

/**
 * Resolves once what was written to standard output left the process: at once when it went out with
 * write(2); through node's stream, once the stream has drained. A closed pipe ends the process (above, and
 * bin/run.js), so nothing after this runs.
 */
export async function stdoutWritten(): Promise<void> {
  const made = (globalThis as Record<symbol, Set<number> | undefined>)[MADE];
  if (!made?.has(1) || process.stdout.writableLength === 0) return;
  await new Promise<void>((resolve) => {
    process.stdout.once('drain', resolve);
    process.stdout.once('error', resolve);
  });
}

/** Makes the Io a command runs with. */
export function makeIo(opts: { json: boolean; binPath: string }): Io {
  const tty = !opts.json && isTerminal(1);
  return {
    json: opts.json,
    color: tty && !process.env.NO_COLOR && process.env.TERM !== 'dumb',
    tty,
    headers: tty || (!opts.json && process.env.HANDOFF_TABLE_HEADERS === '1'),
    binPath: opts.binPath,
    log: (line) => writeStd(1, `${line}\n`),
    warn: (line) => writeStd(2, `${line}\n`),
    readStdin: async (opts) => {
      if (process.stdin.isTTY) return null;
      const chunks: Buffer[] = [];
      const read = (async () => {
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      })();
      if (!opts?.timeoutMs) {
        await read;
        return Buffer.concat(chunks);
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), opts.timeoutMs)));
      const how = await Promise.race([read.then(() => 'read' as const), late]);
      clearTimeout(timer);
      if (how === 'late') {
        // The writer keeps it open: what came is taken, and the stream let go so the process can end.
        read.catch(() => undefined);
        process.stdin.destroy();
      }
      return Buffer.concat(chunks);
    },
  };
}

/**
 * An error in the command line itself (a parse error, an unknown command), whichever path found it: the
 * error object on stdout under --json, one line on stderr otherwise.
 */
export function writeCliError(
  json: boolean,
  error: { code: string; message: string; exitCode?: number; details?: object },
): void {
  const exitCode = error.exitCode ?? 2;
  process.exitCode = exitCode;
  if (json) {
    const body = {
      code: error.code,
      message: error.message,
      exitCode,
      ...(error.details ? { details: error.details } : {}),
    };
    process.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
  } else process.stderr.write(`handoff: ${error.message}\n`);
}

/** A parse error's message as both paths word it: the parser's text as one sentence, then where help is. */
export function parseErrorMessage(text: string, command: string): string {
  return `${text.replace(/\s+/g, ' ').replace(/([^.])$/, '$1.')} See 'handoff ${command} --help'.`;
}
