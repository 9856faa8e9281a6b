import { inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { setStatus } from '../ops/agents';
import { withContext } from './_shared';

export default defineCommand({
  id: 'status',
  summary: 'Say what you are working on; others see it in handoff agents.',
  description: `The note travels with the ledger like every event. Run without -m (or with -m '') to clear it.`,
  examples: ["<%= config.bin %> status -m 'rewriting the parser'", '<%= config.bin %> status'],
  flags: {
    message: { type: 'string', char: 'm', description: 'The note (at most 500 characters).', helpValue: 'text' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => setStatus(ctx, { note: parsed.flags.message ?? '', as: parsed.flags.as }));
  },
  print(r, io) {
    io.log(r.note ? `${r.agent}: ${inertLine(r.note)}` : `${r.agent}: status cleared`);
  },
});
