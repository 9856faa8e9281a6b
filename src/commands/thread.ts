import { defineCommand, jsonFlag } from '../cli/define';
import { messageBlock } from '../cli/render';
import type { ThreadJson } from '../json/types';
import { thread } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand<ThreadJson>({
  id: 'thread',
  summary: 'Print a whole thread, oldest message first.',
  description: 'Give any message of the thread. Nothing is marked read.',
  examples: ['<%= config.bin %> thread 01JD3K8Z5Q', '<%= config.bin %> thread 01JD3K8Z5Q --json'],
  args: [{ name: 'id', description: 'Any message id of the thread (a unique prefix of 6+ characters works).', required: true }],
  flags: { json: jsonFlag },
  run(parsed, io) {
    return withContext(io, (ctx) => thread(ctx, { id: parsed.args.id! }));
  },
  print(r, io) {
    r.messages.forEach((m, i) => {
      if (i) io.log('');
      io.log(messageBlock(io, m).join('\n'));
    });
  },
});
