import { MESSAGE_KINDS } from '../core/events';
import { endDelivery } from '../ops/deliveries';
import { asFlag, defineCommand, jsonFlag } from './define';
import { messageBlock } from '../render/text';
import { waitForMessages } from '../ops/wait';
import { markRead } from '../ops/inbox';
import { resolveIdentity } from '../ops/identity';
import { afterDelivery, tellOnTerminal, withContextForDelivery } from './_shared';

export default defineCommand({
  id: 'wait',
  summary: 'Block until a message arrives for you, then print what is unread.',
  description: `Returns at once when unread messages are waiting. Otherwise sleeps on file-system
notifications of the ledger (no busy polling) until one arrives, then prints every unread message (one
that arrived is rarely alone) and marks each read once printed (--peek leaves it unread; so does a reader that went away: 'wait | true'). Exit 5 when --timeout
runs out. While waiting, 'handoff agents' shows you live.`,
  examples: [
    '<%= config.bin %> wait',
    '<%= config.bin %> wait --timeout 600 --json',
    '<%= config.bin %> wait --from codex --peek',
  ],
  flags: {
    timeout: {
      type: 'integer',
      char: 't',
      description: 'Give up after this many seconds (exit 5); 0 looks once without waiting. Default: wait forever.',
      helpValue: 'seconds',
    },
    from: { type: 'string', description: 'Only wake for messages from this agent.', helpValue: 'agent' },
    kind: { type: 'string', char: 'k', description: 'Only wake for messages of this kind.', options: MESSAGE_KINDS },
    peek: { type: 'boolean', description: 'Print without marking read.' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    return withContextForDelivery(io, (ctx) =>
      waitForMessages(ctx, {
        as: f.as,
        timeoutSeconds: f.timeout,
        from: f.from,
        kind: f.kind,
        // Marked read once printed (delivered, below); taken meanwhile, so that another reader of the agent
        // is not handed the same message.
        peek: true,
        take: !f.peek,
        onWaiting: tellOnTerminal(io),
      }),
    );
  },
  delivered(r, parsed, io) {
    return afterDelivery(io, r, (ctx) => {
      if (!parsed.flags.peek && r.messages.length) {
        const ids = r.messages.map((m) => m.id);
        markRead(ctx, resolveIdentity(ctx, { as: parsed.flags.as }), ids);
        endDelivery(ctx, r.agent, ids);
      }
    });
  },
  print(r, io) {
    for (const n of r.notices) io.warn(`handoff: ${n}`);
    r.messages.forEach((m, i) => {
      if (i) io.log('');
      io.log(messageBlock(io, m).join('\n'));
    });
  },
});
