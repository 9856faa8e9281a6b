import { UsageError } from '../core/errors';
import { endDelivery } from '../ops/deliveries';
import { asFlag, defineCommand, jsonFlag } from './define';
import { messageBlock } from '../render/text';
import { markRead, read } from '../ops/inbox';
import { resolveIdentity } from '../ops/identity';
import { afterDelivery, withContextForDelivery } from './_shared';

export default defineCommand({
  id: 'read',
  summary: 'Print messages and mark them read (the sender sees a read receipt).',
  description: `Prints each message in full and records one receipt event for those that were unread. With
--all, reads every unread message addressed to you. They are marked read once printed.`,
  examples: [
    '<%= config.bin %> read 01JD3K8Z5Q',
    '<%= config.bin %> read --all',
    '<%= config.bin %> read --all --json',
  ],
  args: [{ name: 'id', description: 'Message id (the short id printed in tables works); more may follow.' }],
  variadic: true,
  flags: {
    all: { type: 'boolean', char: 'a', description: 'Read every unread message.' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const ids = [parsed.args.id, ...parsed.rest].filter((x): x is string => !!x);
    if (parsed.flags.all && ids.length)
      return Promise.reject(
        new UsageError(
          'conflicting_flags',
          "Give message ids or --all, not both: 'handoff read <id>...' or 'handoff read --all'.",
        ),
      );
    // Marked read once printed (delivered, below): a reader that went away ('read --all | true') leaves
    // them unread.
    return withContextForDelivery(io, (ctx) =>
      read(ctx, { as: parsed.flags.as, ids, all: !!parsed.flags.all, deferMark: true, take: !!parsed.flags.all }),
    );
  },
  delivered(r, parsed, io) {
    return afterDelivery(io, r, (ctx) => {
      if (r.marked.length) markRead(ctx, resolveIdentity(ctx, { as: parsed.flags.as }), r.marked);
      if (parsed.flags.all)
        endDelivery(
          ctx,
          r.agent,
          r.messages.map((m) => m.id),
        );
    });
  },
  print(r, io) {
    for (const n of r.notices) io.warn(`handoff: ${n}`);
    if (r.messages.length === 0) io.log(`No unread messages for ${r.agent}.`);
    r.messages.forEach((m, i) => {
      if (i) io.log('');
      io.log(messageBlock(io, m).join('\n'));
    });
  },
});
