import { defineCommand, jsonFlag } from '../cli/define';
import { messageBlock, messageLine } from '../cli/render';
import type { ShowJson } from '../json/types';
import { show } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand<ShowJson>({
  id: 'show',
  summary: 'Show one message: body, receipts per recipient, replies and its attached diff.',
  description: `Does not mark the message read. Receipts say, per recipient, whether the message is stored
(delivered, unread), read, or acked.`,
  examples: ['<%= config.bin %> show 01JD3K8Z5Q', '<%= config.bin %> show 01JD3K8Z5Q --no-patch', '<%= config.bin %> show 01JD3K8Z5Q --json'],
  args: [{ name: 'id', description: 'Message id (a unique prefix of 6+ characters works).', required: true }],
  flags: {
    'no-patch': { type: 'boolean', description: 'Leave out the attached diff.' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => show(ctx, { id: parsed.args.id! }));
  },
  print(r, io, parsed) {
    io.log(messageBlock(io, r.message, { recipients: r.recipients, patch: parsed.flags['no-patch'] ? null : r.patch }).join('\n'));
    if (r.replies.length) {
      io.log('\nReplies:');
      for (const m of r.replies) io.log(messageLine(io, m));
    }
  },
});
