/**
 * `handoff mcp`: a stdio MCP server (official TypeScript SDK) whose tools mirror the CLI. It runs the same
 * ops as the commands in one long-lived context, catching up with git before every call.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { errorToJson } from '../core/errors';
import { MESSAGE_KINDS, PRIORITIES, type MessageKind, type Priority } from '../core/events';
import { agents, join, whoami } from '../ops/agents';
import { blame } from '../ops/blame';
import { closeContext, openContext, type Context } from '../ops/context';
import { resolveIdentity } from '../ops/identity';
import { inbox, read } from '../ops/inbox';
import { indexChains } from '../ops/index-chains';
import { reply } from '../ops/reply';
import { review } from '../ops/review';
import { send } from '../ops/send';
import { thread } from '../ops/show';
import { waitForMessages } from '../ops/wait';
import { addPresence, removePresence } from '../ops/presence';

export interface McpOptions {
  as?: string;
  version: string;
}

/** Builds the server over an open context (exported for tests and embedding). */
export function buildServer(ctx: Context, opts: McpOptions): McpServer {
  const server = new McpServer({ name: 'handoff', version: opts.version });
  const as = opts.as;
  const run = async (fn: () => unknown) => {
    try {
      indexChains(ctx);
      const value = await fn();
      return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }], structuredContent: { result: value } as Record<string, unknown> };
    } catch (err) {
      return { isError: true, content: [{ type: 'text' as const, text: JSON.stringify(errorToJson(err), null, 2) }] };
    }
  };
  const kind = z.enum(MESSAGE_KINDS as unknown as [string, ...string[]]);
  const priority = z.enum(PRIORITIES as unknown as [string, ...string[]]);

  server.registerTool(
    'send',
    {
      title: 'Send a message',
      description:
        'Send a message to another agent (name, several comma-separated, @team, @role or all). Set attach_diff to include a snapshot of your working tree and its diff against HEAD, so the recipient sees exactly what you changed. Returns the message with its id.',
      inputSchema: {
        to: z.string().describe('Recipient: agent name, "a,b", @team, @role, or all'),
        body: z.string().describe('The message text'),
        attach_diff: z.boolean().optional().describe('Attach the working tree snapshot and diff'),
        kind: kind.optional().describe('request (default), review_request, question, answer, decision, status, todo...'),
        priority: priority.optional(),
        thread: z.string().optional().describe('Continue this thread (any message id in it)'),
        reply_to: z.string().optional().describe('The message this answers'),
        create: z.boolean().optional().describe('Register unknown recipients (their message waits until they start)'),
        no_reply: z.boolean().optional().describe('The message needs no answer (use it to end a back-and-forth)'),
      },
    },
    (a) =>
      run(() =>
        send(ctx, {
          as,
          to: a.to,
          body: a.body,
          attachDiff: a.attach_diff,
          kind: a.kind as MessageKind | undefined,
          priority: a.priority as Priority | undefined,
          thread: a.thread,
          replyTo: a.reply_to,
          create: a.create,
          noReply: a.no_reply,
        }),
      ),
  );
  server.registerTool(
    'inbox',
    {
      title: 'List your messages',
      description: 'Unread messages addressed to you (urgent first, then oldest). Listing does not mark them read; use read.',
      inputSchema: { all: z.boolean().optional().describe('Include read messages'), from: z.string().optional(), kind: kind.optional() },
    },
    (a) => run(() => inbox(ctx, { as, all: a.all, from: a.from, kind: a.kind })),
  );
  server.registerTool(
    'read',
    {
      title: 'Read messages',
      description: 'Return messages in full and mark them read (the sender sees a read receipt). Give ids, or all=true for every unread one.',
      inputSchema: { ids: z.array(z.string()).optional(), all: z.boolean().optional() },
    },
    (a) => run(() => read(ctx, { as, ids: a.ids ?? [], all: a.all })),
  );
  server.registerTool(
    'reply',
    {
      title: 'Reply to a message',
      description: 'Reply in the same thread to the sender of a message. Set attach_diff to include your working tree changes.',
      inputSchema: { id: z.string(), body: z.string(), attach_diff: z.boolean().optional(), kind: kind.optional() },
    },
    (a) => run(() => reply(ctx, { as, id: a.id, body: a.body, attachDiff: a.attach_diff, kind: a.kind as MessageKind | undefined })),
  );
  server.registerTool(
    'wait',
    {
      title: 'Wait for a message',
      description: 'Block until a message arrives for you (or timeout_seconds pass), then return it marked read.',
      inputSchema: { timeout_seconds: z.number().int().min(1).max(3600).describe('Give up after this long'), from: z.string().optional() },
    },
    (a) => run(() => waitForMessages(ctx, { as, timeoutSeconds: a.timeout_seconds, from: a.from })),
  );
  server.registerTool(
    'thread',
    { title: 'Read a thread', description: 'Every message of the thread a message belongs to, in order.', inputSchema: { id: z.string() } },
    (a) => run(() => thread(ctx, { id: a.id })),
  );
  server.registerTool('agents', { title: 'List agents', description: 'Known agents with team, role, liveness and unread counts.', inputSchema: {} }, () => run(() => agents(ctx)));
  server.registerTool('whoami', { title: 'Who am I', description: 'Your agent name and how it was found.', inputSchema: {} }, () => run(() => whoami(ctx, { as })));
  server.registerTool(
    'blame',
    {
      title: 'Blame a file',
      description: 'For each line of a file: the commit, the agent that made it and the handoff message behind it.',
      inputSchema: { file: z.string(), from_line: z.number().int().min(1).optional(), to_line: z.number().int().min(1).optional() },
    },
    (a) => run(() => blame(ctx, { file: a.file, range: a.from_line ? [a.from_line, a.to_line ?? a.from_line] : undefined })),
  );
  server.registerTool(
    'review',
    {
      title: 'Review a handoff',
      description: 'Compare the diff attached to a handoff with what landed: each hunk landed as sent, landed changed, or not landed.',
      inputSchema: { id: z.string(), range: z.string().optional().describe('A..B instead of the attributed commits') },
    },
    (a) => run(() => review(ctx, { id: a.id, range: a.range })),
  );
  return server;
}

/** Runs the server on stdio until the client goes away. */
export async function serveStdio(opts: McpOptions): Promise<void> {
  const ctx = openContext({ warn: (m) => process.stderr.write(`handoff: ${m}\n`) });
  let me: string | undefined;
  try {
    me = resolveIdentity(ctx, { as: opts.as }).name;
    join(ctx, { as: opts.as });
    addPresence(ctx, me, 'mcp');
  } catch (err) {
    process.stderr.write(`handoff: ${(err as Error).message} The server starts anyway; tools that need an identity will say so.\n`);
  }
  const server = buildServer(ctx, opts);
  const transport = new StdioServerTransport();
  await new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
    void server.connect(transport);
  });
  if (me) removePresence(ctx, me);
  closeContext(ctx);
}
