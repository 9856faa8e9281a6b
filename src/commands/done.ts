import { asFlag, defineCommand, jsonFlag } from './define';
import { recordOutcome } from '../ops/tasks';
import { bodyFlags, readBody } from './_shared';
import { withContext } from './_shared';

export default defineCommand({
  id: 'done',
  summary: 'Record that a request is done (with evidence), tell its sender and release your claim.',
  description: `The sender finds it in their inbox, in the request's thread; 'handoff tasks' shows the request
as done. Done on a request someone else claimed is allowed (say so in the message).`,
  examples: ['<%= config.bin %> done 5Q2XW7M -m "tests pass: npm test, 212 passed"'],
  args: [
    { name: 'id', description: 'The request (its short id works).', required: true },
    { name: 'body', description: 'Evidence or reason (or -m, --file, stdin).' },
  ],
  variadic: true,
  flags: { ...bodyFlags, as: asFlag, json: jsonFlag },
  async run(parsed, io) {
    const given =
      parsed.args.body !== undefined || parsed.flags.message !== undefined || parsed.flags.file !== undefined;
    const body = given ? (await readBody(parsed, io)).toString() : '';
    return withContext(io, (ctx) =>
      recordOutcome(ctx, { id: parsed.args.id!, state: 'done', body, as: parsed.flags.as }),
    );
  },
  print(r, io) {
    io.log(`${r.message} done; told ${r.to.join(', ')}${r.released ? ' (claim released)' : ''}`);
  },
});
