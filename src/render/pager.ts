/** Long output through a pager, as git does: $HANDOFF_PAGER, $PAGER, else less -FRX; only on a terminal. */
import { spawnSync } from 'node:child_process';

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
  if (res.error || res.status === 127) process.stdout.write(text);
}
