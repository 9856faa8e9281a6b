import { shortId } from '../core/ids';
import { inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { tasks } from '../ops/tasks';
import { ago, table } from '../render/text';
import { withContext } from './_shared';

export default defineCommand({
  id: 'tasks',
  summary: 'List requests with their state: open, claimed by whom, reclaimable, done, failed, blocked.',
  description: `A request whose claimer's process is gone, or whose lease ran out, shows as reclaimable, not as
claimed: 'handoff claim <id>' takes it over.`,
  examples: [
    '<%= config.bin %> tasks',
    '<%= config.bin %> tasks --open --mine',
    '<%= config.bin %> tasks --failed --json',
  ],
  flags: {
    open: { type: 'boolean', description: 'Only open, claimed and reclaimable requests.' },
    failed: { type: 'boolean', description: 'Only failed requests.' },
    mine: { type: 'boolean', description: 'Only requests to you, from you, or claimed by you.' },
    limit: {
      type: 'integer',
      char: 'n',
      description: 'Show at most this many (the newest; 0 for all).',
      helpValue: 'count',
      min: 0,
    },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    return withContext(io, (ctx) =>
      tasks(ctx, { open: f.open, failed: f.failed, mine: f.mine, as: f.as, limit: f.limit }),
    );
  },
  print(r, io) {
    if (r.tasks.length === 0) {
      io.log('No tasks.');
      return;
    }
    const rows = r.tasks.map((t) => [
      shortId(t.id),
      t.state === 'claimed' || t.state === 'reclaimable'
        ? `${t.state} (${t.claim!.agent})`
        : t.outcome
          ? `${t.state} (${t.outcome.by})`
          : t.state,
      t.from,
      t.to.join(','),
      ago(t.ts),
      inertLine(t.subject),
    ]);
    for (const line of table(io, ['ID', 'STATE', 'FROM', 'TO', 'SENT', 'SUBJECT'], rows)) io.log(line);
  },
});
