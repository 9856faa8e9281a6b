import { defineCommand, jsonFlag } from './define';
import { progressBar } from '../render/io';
import { rebuild } from '../ops/rebuild';
import { withContext } from './_shared';

export default defineCommand({
  id: 'rebuild',
  summary: 'Recreate the SQLite ledger from the git chains.',
  description: `ledger.db is an index of refs/handoff/: deleting it loses nothing. This recreates it from
every chain, with progress on stderr. Receipts and everything else recorded as events come back.`,
  examples: ['<%= config.bin %> rebuild', '<%= config.bin %> rebuild --json'],
  flags: { json: jsonFlag },
  run(_parsed, io) {
    const bar = progressBar('rebuilding');
    return withContext(
      io,
      async (ctx) => {
        const r = await rebuild(ctx, { onProgress: bar.update });
        bar.end();
        return r;
      },
      { skipIndex: true, discardDb: true },
    );
  },
  print(r, io) {
    io.log(`rebuilt: ${r.events} events (${r.messages} messages) from ${r.chains} chain(s)`);
  },
});
