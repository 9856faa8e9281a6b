/** Long output through a pager, as git does: $HANDOFF_PAGER, $PAGER, else less -FRX; only on a terminal. */
import { spawn, spawnSync } from 'node:child_process';

/** Writes `text` to stdout, through a pager when stdout is a terminal and paging is wanted. */
export function page(text: string, opts: { noPager?: boolean } = {}): void {
  const rows = process.stdout.rows ?? 24;
  if (opts.noPager || !process.stdout.isTTY || text.split('\n').length < rows) {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  const pager = process.env.HANDOFF_PAGER ?? process.env.PAGER ?? 'less -FRX';
  if (pager === '' || pager === 'cat') {
    process.stdout.write(text);
    return;
  }
  const res = spawnSync('sh', ['-c', pager], {
    input: text,
    stdio: ['pipe', 'inherit', 'inherit'],
    env: { LESS: 'FRX', ...process.env },
  });
  // Written to stdout instead only when the pager could not run: one that quit before reading everything
  // (q in less: EPIPE) has shown what the user wanted.
  const quit = (res.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
  if ((res.error && !quit) || res.status === 127) process.stdout.write(text);
}

/** Long output written as it is made: `write` each piece, then `end`. */
export interface PagerStream {
  write(text: string): Promise<void>;
  end(): Promise<void>;
  /** The reader went away (the pager quit, or the pipe closed): nothing more need be made. */
  readonly closed: boolean;
}

/**
 * Like `page`, for output made a piece at a time: not on a terminal, each piece goes straight to stdout
 * (so `| head` and memory see a stream); on one, pieces are held until they fill a screen, then a pager
 * starts and gets them as they come, waiting while it is behind.
 */
export function pagerStream(opts: { noPager?: boolean } = {}): PagerStream {
  const rows = process.stdout.rows ?? 24;
  const pagerCommand = process.env.HANDOFF_PAGER ?? process.env.PAGER ?? 'less -FRX';
  const direct = opts.noPager || !process.stdout.isTTY || pagerCommand === '' || pagerCommand === 'cat';
  let held: string[] = [];
  let heldLines = 0;
  let child: ReturnType<typeof spawn> | null = null;
  let closed = false;
  const toStdout = (text: string) => {
    if (!closed) process.stdout.write(text);
  };
  process.stdout.once('error', () => (closed = true));
  const toPager = async (text: string) => {
    if (closed || !child?.stdin) return;
    if (!child.stdin.write(text))
      await new Promise<void>((resolve) => {
        child!.stdin!.once('drain', resolve);
        child!.once('close', resolve);
      });
  };
  return {
    get closed() {
      return closed;
    },
    async write(text) {
      if (direct) return toStdout(text);
      if (child) return toPager(text);
      held.push(text);
      heldLines += text.split('\n').length - 1;
      if (heldLines < rows) return;
      child = spawn('sh', ['-c', pagerCommand], {
        stdio: ['pipe', 'inherit', 'inherit'],
        env: { LESS: 'FRX', ...process.env },
      });
      child.on('error', () => (closed = true));
      child.on('close', () => (closed = true));
      child.stdin!.on('error', () => (closed = true));
      const all = held.join('');
      held = [];
      await toPager(all);
    },
    async end() {
      if (direct) return;
      if (!child) return toStdout(held.join(''));
      child.stdin!.end();
      if (!closed) await new Promise((resolve) => child!.once('close', resolve));
    },
  };
}
