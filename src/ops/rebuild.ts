/** Recreating the SQLite ledger from the git chains (everything in SQLite but local presence comes back). */
import path from 'node:path';
import { deferIndexes, restoreIndexes } from '../ledger/db';
import { countEvents } from '../ledger/events';
import type { RebuildJson } from '../json/types';
import type { Context } from './context';
import { indexChainsStreamed } from './index-chains';

/**
 * Indexes that no query of indexing uses (those read lookups by id, commit, chain and parent, and short-id
 * suffix, which stay): listing by type, clock, thread, reply and recipient.
 */
const READ_ONLY_INDEXES = [
  'events_chain_parent',
  'events_type_clock',
  'messages_clock',
  'messages_thread',
  'messages_reply_to',
  'recipients_agent',
];

/**
 * Indexes every chain into a context opened with `discardDb` (an empty database); `onProgress` hears
 * (done, total) per chain.
 */
export async function rebuild(
  ctx: Context,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<RebuildJson> {
  // The file is new and can be recreated from git at any time: no fsync while it is filled, and the
  // indexes that only commands read are made once at the end.
  const file = path.join(ctx.dataDir, 'ledger.db');
  ctx.db.pragma('synchronous = OFF');
  deferIndexes(ctx.db, file, READ_ONLY_INDEXES);
  try {
    const report = await indexChainsStreamed(ctx, { onProgress: opts.onProgress });
    restoreIndexes(ctx.db, file);
    return { events: countEvents(ctx.db), chains: report.chains, messages: countEvents(ctx.db, 'message') };
  } finally {
    ctx.db.pragma('synchronous = NORMAL');
  }
}
