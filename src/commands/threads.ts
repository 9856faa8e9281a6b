import { firstLine, inert } from '../core/text';
import { defineCommand, jsonFlag } from '../cli/define';
import { paint } from '../cli/io';
import type { ThreadSummaryJson } from '../json/types';
import { threads } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand<ThreadSummaryJson[]>({
  id: 'threads',
  summary: 'List conversation threads, most recently active first.',
  description: 'Needs no identity: anyone with the repository can read the ledger.',
  examples: ['<%= config.bin %> threads', '<%= config.bin %> threads --agent codex --limit 10', '<%= config.bin %> threads --json'],
  flags: {
    agent: { type: 'string', description: 'Only threads this agent wrote in or received.', helpValue: 'name' },
    limit: { type: 'integer', char: 'n', description: 'Show at most this many (default 50).', helpValue: 'count' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => threads(ctx, { agent: parsed.flags.agent as string | undefined, limit: parsed.flags.limit as number | undefined }));
  },
  print(r, io) {
    if (r.length === 0) io.log("No threads yet. Start one with 'handoff send <agent> \"...\"'.");
    for (const t of r) {
      io.log(
        `${paint(io, 'dim', t.thread)} ${String(t.messages).padStart(3)} msg  ${paint(io, 'bold', inert(t.participants.join(',')))}  ${firstLine(t.subject, 60)}  ${paint(io, 'dim', t.lastAt)}`,
      );
    }
  },
});
