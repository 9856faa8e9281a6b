import { inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { UsageError } from '../core/errors';
import { setStatus, showStatus } from '../ops/agents';
import { withContext } from './_shared';

export default defineCommand({
  id: 'status',
  summary: 'Say what you are working on; others see it in handoff agents.',
  description: `The note travels with the ledger like every event. Without -m, shows your note; --clear (or -m '') clears it.`,
  examples: [
    "<%= config.bin %> status -m 'rewriting the parser'",
    '<%= config.bin %> status',
    '<%= config.bin %> status --clear',
  ],
  flags: {
    message: {
      type: 'string',
      char: 'm',
      description: 'The note (at most 500 characters).',
      helpValue: 'text',
      emptyOk: true,
    },
    clear: { type: 'boolean', description: 'Clear your note.' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const { message, clear, as } = parsed.flags;
    if (message !== undefined && clear && message.trim() !== '')
      throw new UsageError('conflicting_flags', 'Give -m with a note, or --clear, not both.');
    return withContext(io, async (ctx): Promise<{ agent: string; note: string | null; changed: boolean }> =>
      message === undefined && !clear ? showStatus(ctx, { as }) : await setStatus(ctx, { note: message ?? '', as }),
    );
  },
  print(r, io) {
    if (!r.changed)
      io.log(
        r.note
          ? `${r.agent}: ${inertLine(r.note)}`
          : `${r.agent}: no status note. Set one with: handoff status -m 'what you are working on'`,
      );
    else io.log(r.note ? `${r.agent}: ${inertLine(r.note)}` : `${r.agent}: status cleared`);
  },
});
