import { UsageError } from '../core/errors';
import { MESSAGE_KINDS, PRIORITIES } from '../core/events';
import { asFlag, secretFlags, defineCommand, jsonFlag } from './define';
import { reply } from '../ops/reply';
import { startWorktreeStatus } from '../ops/send';
import { bodyFlags, readBody, withContext, tellOnTerminal, tellSent } from './_shared';

export default defineCommand({
  id: 'reply',
  summary: 'Reply to a message, in its thread, addressed to its sender.',
  description: `The reply goes to the sender of the message (or, when you reply to your own message, to its
recipients), in the same thread, with reply-to set. The kind follows the message: a question gets an
answer, a review_request a review_response. Prints the reply's id.`,
  examples: [
    '<%= config.bin %> reply 01JD3K8Z5Q "done, tests pass" --attach-diff',
    '<%= config.bin %> reply 01JD3K8Z5Q -m "which branch?" --kind question --wait-for reply --timeout 300',
  ],
  args: [
    { name: 'id', description: 'The message to reply to (the short id printed in tables works).', required: true },
    { name: 'body', description: 'The reply (or use -m, --file, or stdin).', emptyOk: true },
  ],
  variadic: true,
  flags: {
    ...bodyFlags,
    'attach-diff': {
      type: 'boolean',
      char: 'd',
      description: 'Attach a snapshot of the working tree and its diff against HEAD.',
    },
    kind: {
      type: 'string',
      char: 'k',
      description: 'What the reply is (default follows the message).',
      options: MESSAGE_KINDS,
    },
    priority: {
      type: 'string',
      char: 'p',
      description: 'How urgent it is (default: as the message).',
      options: PRIORITIES,
    },
    'wait-for': {
      type: 'string',
      description: 'After sending, block until it is read, or answered.',
      options: ['read', 'reply'],
    },
    timeout: {
      type: 'integer',
      char: 't',
      description: 'Seconds to wait with --wait-for (default 300).',
      helpValue: 'seconds',
    },
    ...secretFlags,
    'no-reply': { type: 'boolean', description: 'Mark the reply as needing no answer (ends a back-and-forth).' },
    as: asFlag,
    json: jsonFlag,
  },
  async run(parsed, io) {
    const f = parsed.flags;
    if (f.timeout !== undefined && !f['wait-for'])
      throw new UsageError(
        'usage',
        '--timeout is how long --wait-for waits: give --wait-for with it (or leave it out).',
      );
    // The snapshot's git status runs while the body is read and the ledger opened.
    const worktreeStatus = f['attach-diff'] ? startWorktreeStatus(process.cwd()) : undefined;
    const body = await readBody(parsed, io);
    return withContext(io, (ctx) =>
      reply(ctx, {
        id: parsed.args.id!,
        body,
        as: f.as,
        kind: f.kind,
        priority: f.priority,
        attachDiff: !!f['attach-diff'],
        worktreeStatus,
        waitFor: f['wait-for'],
        timeoutSeconds: f.timeout,
        noReply: !!f['no-reply'],
        redact: !!f.redact,
        allowSecret: !!f['allow-secret'],
        onWaiting: tellOnTerminal(io),
        onSent: tellSent(io),
      }),
    );
  },
  print(r, io) {
    io.log(r.message.id);
  },
});
