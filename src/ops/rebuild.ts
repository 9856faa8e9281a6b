/** Recreating the SQLite ledger from the git chains (everything in SQLite but local presence comes back). */
import fs from 'node:fs';
import { openLedgerDb } from '../ledger/db';
import { countEvents } from '../ledger/events';
import type { RebuildJson } from '../json/types';
import { ledgerPath, type Context } from './context';
import { indexChains } from './index-chains';

/** Deletes ledger.db and indexes every chain again; `onProgress` hears (done, total) per chain. */
export function rebuild(ctx: Context, opts: { onProgress?: (done: number, total: number) => void } = {}): RebuildJson {
  const file = ledgerPath(ctx);
  ctx.db.close();
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  ctx.db = openLedgerDb(file);
  const report = indexChains(ctx, opts.onProgress);
  return { events: countEvents(ctx.db), chains: report.chains, messages: countEvents(ctx.db, 'message') };
}
