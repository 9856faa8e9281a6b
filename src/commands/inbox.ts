import { MESSAGE_KINDS, PRIORITIES } from '../core/events';
import { asFlag, defineCommand, jsonFlag } from './define';
import { messageTable } from '../render/text';
import { inbox } from '../ops/inbox';
import { afterDelivery, withContextForDelivery } from './_shared';

export default defineCommand({
  id: 'inbox',
  summary: 'List messages addressed to you: unread ones, or all with --all.',
  description: `Urgent messages come first, then oldest first. Listing does not mark anything read; use
'handoff read <id>' (or 'read --all') for that, which also tells the sender.`,
  examples: [
    '<%= config.bin %> inbox',
    '<%= config.bin %> inbox --all --from codex',
    '<%= config.bin %> inbox --kind review_request --json',
  ],
  flags: {
    all: { type: 'boolean', char: 'a', description: 'Include messages already read.' },
    from: { type: 'string', description: 'Only messages from this agent.', helpValue: 'agent' },
    kind: { type: 'string', char: 'k', description: 'Only messages of this kind.', options: MESSAGE_KINDS },
    priority: { type: 'string', char: 'p', description: 'Only messages of this priority.', options: PRIORITIES },
    limit: {
      type: 'integer',
      char: 'n',
      description: 'Show at most this many (default 50; 0 for all).',
      helpValue: 'count',
    },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    // Its once-only notices are marked as given once printed (delivered, below).
    return withContextForDelivery(io, (ctx) =>
      inbox(ctx, {
        as: f.as,
        all: !!f.all,
        from: f.from,
        kind: f.kind,
        priority: f.priority,
        limit: f.limit,
      }),
    );
  },
  delivered(r, _parsed, io) {
    return afterDelivery(io, r, () => undefined);
  },
  print(r, io, parsed) {
    for (const n of r.notices) io.warn(`handoff: ${n}`);
    const f = parsed.flags;
    // The unread count is of every message to the agent: a filter says what it left out.
    const filter = [
      f.from && `from ${f.from}`,
      f.kind && `of kind ${f.kind}`,
      f.priority && `of priority ${f.priority}`,
    ]
      .filter(Boolean)
      .join(' ');
    if (r.messages.length === 0) {
      const none = f.all
        ? `No messages${filter ? ` ${filter}` : ''}`
        : `No unread messages${filter ? ` ${filter}` : ''}`;
      io.log(`${none} for ${r.agent}.${filter && r.unread ? ` ${r.unread} unread in all.` : ''}`);
      return;
    }
    for (const line of messageTable(io, r.messages)) io.log(line);
    if (r.more) io.log(`... and ${r.more} more (handoff inbox --limit 0 lists them all).`);
    io.log(
      r.unread
        ? `${r.unread} unread${filter ? ' in all' : ''}. Read one with: handoff read <id>`
        : `None unread${filter ? ' in all' : ''}.`,
    );
  },
});
