/** Recreating the SQLite ledger from the git chains; what only this clone knows (notices given, presence) is kept. */
import { countEvents } from '../ledger/events';
import type { RebuildJson } from '../json/types';
import type { Context } from './context';
import { indexChainsStreamed } from './index-chains';

/**
 * Indexes every chain into a context opened with `discardDb` (an empty database); `onProgress` hears
 * (done, total) per chain.
 */
export async function rebuild(
  ctx: Context,
  opts: { onProgress?: (done: number, total: number) => void } = {},
): Promise<RebuildJson> {
  // The file is new and can be recreated from git at any time: no fsync while it is filled.
  ctx.db.pragma('synchronous = OFF');
  try {
    const report = await indexChainsStreamed(ctx, { onProgress: opts.onProgress });
    return { events: countEvents(ctx.db), chains: report.chains, messages: countEvents(ctx.db, 'message') };
  } finally {
    ctx.db.pragma('synchronous = NORMAL');
  }
}
