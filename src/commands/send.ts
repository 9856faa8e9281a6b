import { UsageError } from '../core/errors';
import { inertLine } from '../core/text';
import { MESSAGE_KINDS, PRIORITIES } from '../core/events';
import { asFlag, secretFlags, defineCommand, jsonFlag } from './define';
import { messageBlock } from '../render/text';
import { send, startWorktreeStatus } from '../ops/send';
import { bodyFlags, readBody, withContext, tellOnTerminal, tellSent } from './_shared';

export default defineCommand({
  id: 'send',
  summary: 'Send a message to an agent, a @team or @role, or all.',
  description: `The message is committed to this clone's chain under refs/handoff/ and indexed in SQLite; the
recipient finds it with 'handoff inbox' or 'handoff wait'. With --attach-diff, a snapshot of the working
tree (staged, unstaged and untracked files, .gitignore respected, secret-looking files left out) and its
diff against HEAD travel with the message. Prints the message id.`,
  examples: [
    '<%= config.bin %> send codex "parser done, please review" --attach-diff',
    '<%= config.bin %> send @reviewer -m "ready for review" --kind review_request',
    'git diff --stat | <%= config.bin %> send claude --kind status',
    '<%= config.bin %> send codex "are the tests green?" --kind question --wait-for reply --timeout 600',
    '<%= config.bin %> send gemini "start on the docs when you are up" --create',
  ],
  args: [
    {
      name: 'to',
      description: 'Recipient: an agent name (or several, comma-separated), @team, @role, or all.',
      required: true,
    },
    { name: 'body', description: 'The message (or use -m, --file, or stdin).', emptyOk: true },
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
      description:
        'What the message is (default request: it is a task until done, failed or blocked; note or status for information).',
      options: MESSAGE_KINDS,
    },
    priority: { type: 'string', char: 'p', description: 'How urgent it is.', options: PRIORITIES },
    thread: { type: 'string', description: 'Continue this thread (any message id in it).', helpValue: 'id' },
    'reply-to': { type: 'string', description: 'The message this answers (sets the thread too).', helpValue: 'id' },
    create: {
      type: 'boolean',
      description: 'Register unknown recipients: the message waits in their inbox until they start.',
    },
    'wait-for': {
      type: 'string',
      description: 'After sending, block until every recipient has read it, or someone replies.',
      options: ['read', 'reply'],
    },
    id: {
      type: 'string',
      description:
        'Use this message id (a ULID): sending again with it sends the message once. A failed send prints the id to retry with.',
      helpValue: 'ulid',
    },
    timeout: {
      type: 'integer',
      char: 't',
      description: 'Seconds to wait with --wait-for (default 300); exit 5 when it runs out.',
      helpValue: 'seconds',
    },
    ...secretFlags,
    'no-reply': { type: 'boolean', description: 'Mark the message as needing no answer (ends a back-and-forth).' },
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
      send(ctx, {
        id: f.id,
        to: parsed.args.to!,
        body,
        as: f.as,
        kind: f.kind,
        priority: f.priority,
        thread: f.thread,
        replyTo: f['reply-to'],
        attachDiff: !!f['attach-diff'],
        worktreeStatus,
        create: !!f.create,
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
    for (const n of r.notices ?? []) io.warn(`handoff: ${n}`);
    if (r.message.diff?.excluded.length)
      io.warn(
        `handoff: left out of the snapshot (look like secrets): ${r.message.diff.excluded.map(inertLine).join(', ')}`,
      );
    if (r.waited?.reply) io.log(messageBlock(io, r.waited.reply).join('\n'));
    else if (r.waited?.recipients) io.log(`read by ${r.waited.recipients.map((x) => x.agent).join(', ')}`);
  },
});
