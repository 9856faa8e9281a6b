import { defineCommand, jsonFlag, noPagerFlag } from './define';
import { page } from '../render/pager';
import { messageBlock } from '../render/text';
import { thread } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand({
  id: 'thread',
  summary: 'Print a whole thread, oldest message first.',
  description: 'Give any message of the thread. Nothing is marked read.',
  examples: ['<%= config.bin %> thread 01JD3K8Z5Q', '<%= config.bin %> thread 01JD3K8Z5Q --json'],
  args: [
    { name: 'id', description: 'Any message id of the thread (the short id printed in tables works).', required: true },
  ],
  flags: { 'no-pager': noPagerFlag, json: jsonFlag },
  run(parsed, io) {
    return withContext(io, (ctx) => thread(ctx, { id: parsed.args.id! }));
  },
  print(r, io, parsed) {
    page(r.messages.map((m) => messageBlock(io, m).join('\n')).join('\n\n'), { noPager: !!parsed.flags['no-pager'] });
  },
});
