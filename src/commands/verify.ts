import { VerificationError } from '../core/errors';
import { inert } from '../core/text';
import { defineCommand, jsonFlag } from './define';
import { verify } from '../ops/verify';
import { withContext } from './_shared';

export default defineCommand({
  id: 'verify',
  summary: 'Check that the ledger is whole and unaltered (exit 6 when it is not).',
  description: `Walks every chain: each commit must parse, event ids must be unique, clocks and parents
consistent, attached snapshots and their base commits present; SQLite must hold exactly the events git
holds; and no chain tip this clone indexed, nor any tip another chain witnessed, may have been rewritten.
git replace over a ledger commit is reported too.`,
  examples: ['<%= config.bin %> verify', '<%= config.bin %> verify --json'],
  flags: { json: jsonFlag },
  async run(_parsed, io) {
    const r = await withContext(io, (ctx) => verify(ctx));
    if (!r.ok) {
      if (!io.json) for (const p of r.problems) io.warn(`problem: ${inert(p.message)}`);
      throw new VerificationError(
        'verification_failed',
        `The ledger failed verification: ${r.problems.length} problem(s) in ${r.events} events on ${r.chains} chain(s).`,
        r,
      );
    }
    return r;
  },
  print(r, io) {
    io.log(`ok: ${r.events} events on ${r.chains} chain(s), SQLite and git agree`);
  },
});
