import { asFlag, defineCommand, jsonFlag } from './define';
import { ack } from '../ops/inbox';
import { withContext } from './_shared';

export default defineCommand({
  id: 'ack',
  summary: 'Acknowledge messages: tell the sender you have taken them on.',
  description: 'Records an acked receipt (which implies read) that the sender sees in `handoff show <id>`.',
  examples: ['<%= config.bin %> ack 01JD3K8Z5Q', '<%= config.bin %> ack 01JD3K8Z5Q 01JD3K9A7B --json'],
  args: [
    { name: 'id', description: 'Message id (the short id printed in tables works); more may follow.', required: true },
  ],
  variadic: true,
  flags: { as: asFlag, json: jsonFlag },
  run(parsed, io) {
    const ids = [parsed.args.id, ...parsed.rest].filter((x): x is string => !!x);
    return withContext(io, (ctx) => ack(ctx, { as: parsed.flags.as, ids }));
  },
  print(r, io) {
    io.log(r.acked.length ? `acked ${r.acked.join(', ')}` : 'already acknowledged');
  },
});
