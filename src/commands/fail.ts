import { asFlag, defineCommand, jsonFlag } from './define';
import { recordOutcome } from '../ops/tasks';
import { bodyFlags, readBody } from './_shared';
import { withContext } from './_shared';

export default defineCommand({
  id: 'fail',
  summary: 'Record that a request failed (with the reason), tell its sender and release your claim.',
  description: `The sender finds it in their inbox, in the request's thread; 'handoff tasks' shows the request
as failed. Fail on a request someone else claimed is allowed (say so in the message).`,
  examples: ['<%= config.bin %> fail 5Q2XW7M -m "the API it needs does not exist"'],
  args: [
    { name: 'id', description: 'The request (its short id works).', required: true },
    { name: 'body', description: 'Evidence or reason (or -m, --file, stdin).' },
  ],
  variadic: true,
  flags: { ...bodyFlags, as: asFlag, json: jsonFlag },
  async run(parsed, io) {
    const body = (await readBody(parsed, io)).toString();
    return withContext(io, (ctx) =>
      recordOutcome(ctx, { id: parsed.args.id!, state: 'failed', body, as: parsed.flags.as }),
    );
  },
  print(r, io) {
    io.log(`${r.message} failed; told ${r.to.join(', ')}${r.released ? ' (claim released)' : ''}`);
  },
});
