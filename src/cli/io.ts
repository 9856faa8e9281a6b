/** The terminal: colour when stdout is a terminal and NO_COLOR is unset, stdin reading, output helpers. */
import type { Io } from '../render/io';

/** Makes the Io a command runs with. */
export function makeIo(opts: { json: boolean; binPath: string }): Io {
  const color = !opts.json && !!process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return {
    json: opts.json,
    color,
    tty: !opts.json && !!process.stdout.isTTY,
    binPath: opts.binPath,
    log: (line) => process.stdout.write(`${line}\n`),
    warn: (line) => process.stderr.write(`${line}\n`),
    readStdin: async () => {
      if (process.stdin.isTTY) return null;
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}
