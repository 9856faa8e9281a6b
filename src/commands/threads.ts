import { firstLine, inert } from '../core/text';
import { defineCommand, jsonFlag } from './define';
import { paint } from '../render/io';
import { ago, table } from '../render/text';
import { shortId } from '../core/ids';
import { threads } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand({
  id: 'threads',
  summary: 'List conversation threads, most recently active first.',
  description: 'Needs no identity: anyone with the repository can read the ledger.',
  examples: [
    '<%= config.bin %> threads',
    '<%= config.bin %> threads --agent codex --limit 10',
    '<%= config.bin %> threads --json',
  ],
  flags: {
    agent: { type: 'string', description: 'Only threads this agent wrote in or received.', helpValue: 'name' },
    limit: {
      type: 'integer',
      char: 'n',
      description: 'Show at most this many (default 50; 0 for all).',
      helpValue: 'count',
    },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => ({
      threads: threads(ctx, {
        agent: parsed.flags.agent,
        limit: parsed.flags.limit,
      }),
    }));
  },
  print({ threads: r }, io) {
    if (r.length === 0) {
      io.log('No threads yet. Start one with \'handoff send <agent> "..."\'.');
      return;
    }
    const rows = r.map((t) => [
      paint(io, 'dim', shortId(t.thread)),
      String(t.messages),
      paint(io, 'bold', inert(t.participants.join(','))),
      ago(t.lastAt),
      firstLine(t.subject, 60),
    ]);
    for (const line of table(io, ['THREAD', 'MSGS', 'PARTICIPANTS', 'LAST', 'SUBJECT'], rows)) io.log(line);
  },
});
