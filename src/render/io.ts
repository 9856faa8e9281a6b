/** The output contract every command and printer writes through, and the ANSI styles and progress bar on it. */
import fs from 'node:fs';
import tty from 'node:tty';

/**
 * Whether `fd` is a terminal, without making process.stdout or process.stderr: making either for a pipe
 * loads node's net and stream modules, about 2 ms of a command that prints one line, and so does node's
 * tty module. Only a character device other than /dev/null can be a terminal; the tty module is asked
 * about those alone.
 */
export function isTerminal(fd: 1 | 2): boolean {
  try {
    const st = fs.fstatSync(fd);
    if (!st.isCharacterDevice()) return false;
    // Output thrown away (> /dev/null) is the usual character device that is not a terminal.
    if (st.rdev === fs.statSync('/dev/null', { throwIfNoEntry: false })?.rdev) return false;
  } catch {
    return false;
  }
  return tty.isatty(fd);
}

/** What a handler may use to talk to the user. */
export interface Io {
  json: boolean;
  color: boolean;
  /** Standard output is a terminal (tables get a header line, long output a pager). */
  tty: boolean;
  /** Tables print their header line (a terminal, or HANDOFF_TABLE_HEADERS=1, as the demo shows them). */
  headers?: boolean;
  /** Standard output (human lines). */
  log(line: string): void;
  /** Standard error (notices, progress). */
  warn(line: string): void;
  /** Reads all of stdin when it is not a terminal; null when it is one. */
  /**
   * Standard input to its end (null on a terminal); with `timeoutMs`, what came by then, when the writer
   * never closes it.
   */
  readStdin(opts?: { timeoutMs?: number }): Promise<Buffer | null>;
  /** Where the CLI's entry script is (the demo runs it). */
  binPath: string;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof CODES;

/** Wraps text in an ANSI style when colour is on. */
export function paint(io: Pick<Io, 'color'>, style: Style, text: string): string {
  if (!io.color) return text;
  const [on, off] = CODES[style];
  return `\u001b[${on}m${text}\u001b[${off}m`;
}

/** A progress bar on stderr for long work (only on a terminal, and only when there is much to do). */
export function progressBar(
  label: string,
  opts: { clear?: boolean } = {},
): { update: (done: number, total: number) => void; end: () => void } {
  let last = 0;
  let shown = false;
  let terminal: boolean | undefined;
  return {
    update(done, total) {
      if (!(terminal ??= isTerminal(2)) || total < 500 || (Date.now() - last < 100 && done < total)) return;
      last = Date.now();
      shown = true;
      const width = 30;
      const fill = Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${done}/${total}`);
    },
    end() {
      // Left on its own line, or (clear) erased, for output that follows on the same terminal.
      if (shown) process.stderr.write(opts.clear ? '\r\x1b[K' : '\n');
    },
  };
}
