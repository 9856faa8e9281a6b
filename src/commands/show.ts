import { defineCommand, jsonFlag, noPagerFlag } from './define';
import { page } from '../render/pager';
import { messageBlock, messageTable } from '../render/text';
import { show } from '../ops/show';
import { withContext } from './_shared';

export default defineCommand({
  id: 'show',
  summary: 'Show one message: body, receipts per recipient, replies and its attached diff.',
  description: `Does not mark the message read. Receipts say, per recipient, whether the message is stored
(delivered, unread), read, or acked.`,
  examples: [
    '<%= config.bin %> show 01JD3K8Z5Q',
    '<%= config.bin %> show 01JD3K8Z5Q --no-patch',
    '<%= config.bin %> show 01JD3K8Z5Q --json',
  ],
  args: [{ name: 'id', description: 'Message id (the short id printed in tables works).', required: true }],
  flags: {
    'no-pager': noPagerFlag,
    'no-patch': { type: 'boolean', description: 'Leave out the attached diff.' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => show(ctx, { id: parsed.args.id! }));
  },
  print(r, io, parsed) {
    const lines = messageBlock(io, r.message, {
      recipients: r.recipients,
      signature: r.signature,
      secrets: r.secrets,
      patch: parsed.flags['no-patch'] ? null : r.patch,
    });
    if (r.task) lines.splice(1, 0, `Task:     ${r.task.state}${r.task.by ? ` (${r.task.by})` : ''}`);
    if (r.replies.length) lines.push('', 'Replies:', ...messageTable(io, r.replies));
    page(lines.join('\n'), { noPager: !!parsed.flags['no-pager'] });
  },
});
