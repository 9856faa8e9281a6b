/** The terminal: colour when stdout is a terminal and NO_COLOR is unset, stdin reading, output helpers. */
import type { Io } from './define';

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

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof CODES;

/** Wraps text in an ANSI style when colour is on. */
export function paint(io: Pick<Io, 'color'>, style: Style, text: string): string {
  if (!io.color) return text;
  const [on, off] = CODES[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** A progress bar on stderr for long work (only on a terminal, and only when there is much to do). */
export function progressBar(label: string): { update: (done: number, total: number) => void; end: () => void } {
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      if (!process.stderr.isTTY || total < 500 || (Date.now() - last < 100 && done < total)) return;
      last = Date.now();
      shown = true;
      const width = 30;
      const fill = Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${done}/${total}`);
    },
    end() {
      if (shown) process.stderr.write('\n');
    },
  };
}
