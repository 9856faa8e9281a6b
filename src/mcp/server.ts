/**
 * `handoff mcp`: a stdio MCP server (official TypeScript SDK) whose tools mirror the CLI. It runs the same
 * ops as the commands in one long-lived context, catching up with git before every call.
 *
 * Messages returned by `read` and `wait` are marked read only once the response carrying them was written
 * to the client and no cancel of that request followed it: a cancelled request (notifications/cancelled, a
 * client-side timeout) gets no response and leaves them unread, and so does one whose cancel crossed its
 * response on the way (the client then drops the response, as MCP says it must). The client's next request,
 * its going away, or a second without a cancel confirms them. A closed connection ends every wait and the
 * server.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { HandoffError, UsageError, errorToJson } from '../core/errors';
import { MESSAGE_KINDS, PRIORITIES, type MessageKind, type Priority } from '../core/events';
import { agents, join, setStatus, whoami } from '../ops/agents';
import { claim, claims, release } from '../ops/claims';
import { releaseReservations, reserve } from '../ops/reservations';
import { search } from '../ops/search';
import { recordOutcome, tasks } from '../ops/tasks';
import { blame } from '../ops/blame';
import { closeContext, isCorruptionError, openContext, recoverFromCorruption, type Context } from '../ops/context';
import { resolveIdentity } from '../ops/identity';
import { protocolText } from '../ops/init';
import type { IdentityJson, MessageJson } from '../json/types';
import { inbox, markRead, read, unreadOf as unreadCount } from '../ops/inbox';
import { endDelivery } from '../ops/deliveries';
import { indexChains } from '../ops/index-chains';
import { reply } from '../ops/reply';
import { review } from '../ops/review';
import { send } from '../ops/send';
import { thread } from '../ops/show';
import { bodyLineCost, withinBodyBudget } from '../ops/views';
import { waitForChange, waitForMessages } from '../ops/wait';
import { addPresence, removePresence } from '../ops/presence';

export interface McpOptions {
  as?: string;
  version: string;
}

/** MCP clients by the name they send in `initialize` (clientInfo.name), mapped to handoff's agent kinds. */
const CLIENT_KINDS: { kind: string; pattern: RegExp }[] = [
  { kind: 'claude', pattern: /claude/i },
  { kind: 'codex', pattern: /codex/i },
  { kind: 'gemini', pattern: /gemini/i },
  { kind: 'cursor', pattern: /cursor/i },
  { kind: 'opencode', pattern: /opencode/i },
  { kind: 'copilot', pattern: /copilot|visual studio code|vscode/i },
];

/** The agent kind an MCP client name reveals, or null. */
function clientKind(clientName: string | undefined): string | null {
  if (!clientName) return null;
  return CLIENT_KINDS.find((c) => c.pattern.test(clientName))?.kind ?? null;
}

/**
 * The server's identity. HANDOFF_AGENT (or --as) names it; but when the config that set it was written for
 * another runtime (HANDOFF_RUNTIME, which init writes next to it) than the client that started the server,
 * the config was read by the wrong agent (Copilot CLI reads Claude Code's .mcp.json), so the client's own
 * kind is used instead. Without HANDOFF_AGENT, the client's kind names it, so one shared config serves all.
 */
function mcpIdentity(
  env: NodeJS.ProcessEnv,
  clientName: string | undefined,
  as?: string,
): { name: string | null; via: IdentityJson['via'] | null; note: string | null } {
  const kind = clientKind(clientName);
  const named = as ?? (env.HANDOFF_AGENT || undefined);
  const intended = env.HANDOFF_RUNTIME || undefined;
  if (named && intended && kind && intended !== kind) {
    return {
      name: kind,
      via: 'mcp-client',
      note: `this server's config names ${named} (for ${intended}), but it was started by ${clientName}; acting as ${kind}.`,
    };
  }
  if (named) return { name: named, via: as ? 'flag' : 'env', note: null };
  if (kind) return { name: kind, via: 'mcp-client', note: null };
  return { name: null, via: null, note: null };
}

/** A connection's state: the context (null until a repository is found), who it speaks for, reads to confirm. */
export interface Session {
  ctx: Context | null;
  /** Why there is no context, said by every tool. */
  noRepo: string | null;
  /** Messages to mark read once the response with this request id has been written. */
  pendingReads: Map<string | number, { me: IdentityJson; ids: string[] }>;
  /** Messages a wait has taken and not answered with yet (it is still putting its answer together). */
  taking: Map<string | number, string[]>;
  /** Ends every wait in flight (the connection closed). */
  closing: AbortController;
  /** Settles once the server knows its repository and identity (after the client's initialized). */
  ready?: Promise<void>;
  /** Messages a response carries or carried that the client has not yet kept (not to be given twice). */
  inFlight?: () => Set<string>;
  /** Each tool's optional fields: given empty (""), they are read as left out. */
  optionalFields: Map<string, Set<string>>;
}

/** A tools/call whose empty optional fields are left out (models fill them with ""); others as they are. */
function withoutEmptyOptionals(message: JSONRPCMessage, optional: Map<string, Set<string>>): JSONRPCMessage {
  if (!('method' in message) || message.method !== 'tools/call') return message;
  const params = message.params as { name?: unknown; arguments?: Record<string, unknown> } | undefined;
  const fields = typeof params?.name === 'string' ? optional.get(params.name) : undefined;
  const args = params?.arguments;
  if (!fields || !args || typeof args !== 'object') return message;
  // release's key given empty is not "release my reservations" (what a key left out means there): refused.
  const kept = Object.fromEntries(
    Object.entries(args).filter(
      ([k, v]) => !(v === '' && fields.has(k) && !(params!.name === 'release' && k === 'key')),
    ),
  );
  return { ...message, params: { ...params, arguments: kept } } as JSONRPCMessage;
}

/**
 * The longest a tool call waits (wait, claim's wait_seconds; a longer one asked for ends here): below the hour that init gives each tool call
 * (.mcp.json `timeout`, Codex's `tool_timeout_sec`, Gemini CLI's `timeout`), so the answer arrives before the
 * client gives up on the call.
 */
const MAX_WAIT_S = 3540;

/**
 * The message bodies one result carries at most (as JSON text), the first message always: a result goes
 * out twice (text and structuredContent) on one line, and clients read at most 10 MiB a line (the SDK's
 * stdio limit). The rest stay unread, for the next call.
 */
const MAX_RESULT_BODY_BYTES = 4 * 1024 * 1024;

/** The longest answer line sent whole: past it, structuredContent is left out, then the largest bodies. */
const MAX_ANSWER_LINE = 9 * 1024 * 1024;

/**
 * A tool's answer as it goes out, within MAX_ANSWER_LINE (clients read 10 MiB a line): a larger one goes
 * without structuredContent (the text holds the same JSON), and, still too large (one message past what
 * handoff.maxBodyBytes gives by default), without the bodies that cost more than a quarter of the line.
 */
function answerOf(value: unknown): {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
} {
  let text = JSON.stringify(value, null, 2);
  const lineOf = (t: string, structured: boolean) =>
    Buffer.byteLength(JSON.stringify(t)) + (structured ? Buffer.byteLength(JSON.stringify(value)) : 0);
  if (text.length < MAX_ANSWER_LINE / 16 || lineOf(text, true) <= MAX_ANSWER_LINE)
    return { content: [{ type: 'text', text }], structuredContent: { result: value } as Record<string, unknown> };
  const messages = (value as { messages?: MessageJson[] } | null)?.messages;
  if (lineOf(text, false) > MAX_ANSWER_LINE && Array.isArray(messages)) {
    const trimmed = {
      ...(value as object),
      messages: messages.map((m) => (bodyLineCost(m.body) > MAX_ANSWER_LINE / 4 ? withoutBody(m) : m)),
    };
    text = JSON.stringify(trimmed, null, 2);
  }
  return { content: [{ type: 'text', text }] };
}

/**
 * The longest line (request) the server reads, as the SDK's own reader: a longer one is skipped as it
 * arrives (never held whole) and answered with an error, and the session goes on.
 */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** The id of a JSON-RPC request from its first and last bytes (clients put it first or last), or null. */
function requestIdOf(head: string, tail: string): string | number | null {
  const id = String.raw`("(?:[^"\\]|\\.){0,200}"|-?\d{1,15}(?=\s*[,}]))`;
  const value =
    new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*` + id).exec(head)?.[1] ??
    new RegExp(String.raw`"id"\s*:\s*` + id + String.raw`\s*\}\s*$`).exec(tail)?.[1];
  if (value === undefined) return null;
  try {
    const parsed = JSON.parse(value) as unknown;
    return typeof parsed === 'string' || typeof parsed === 'number' ? parsed : null;
  } catch {
    return null;
  }
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const WRITES = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;

/** Builds the server for a session (exported for tests and embedding). */
function buildServer(session: Session, opts: McpOptions): McpServer {
  const server = new McpServer(
    { name: 'handoff', version: opts.version },
    { instructions: protocolText(), capabilities: { resources: { subscribe: true, listChanged: false } } },
  );
  // Each tool's optional fields, for the server to read an empty one as left out (as models fill them).
  const register = server.registerTool.bind(server) as (...args: unknown[]) => unknown;
  (server as unknown as { registerTool: (...args: unknown[]) => unknown }).registerTool = (...args: unknown[]) => {
    const [name, config] = args as [string, { inputSchema?: Record<string, { isOptional?: () => boolean }> }];
    const optional = Object.entries(config.inputSchema ?? {})
      .filter(([, t]) => t.isOptional?.())
      .map(([k]) => k);
    session.optionalFields.set(name, new Set(optional));
    return register(...args);
  };
  // What the SDK itself refuses (an unknown tool, arguments its schema rejects) comes as handoff's own errors
  // do: {"error": {"code", "message"}}, with code usage (the SDK gives a message only).
  const sdk = server as unknown as { createToolError?: (message: string) => unknown };
  if (typeof sdk.createToolError === 'function')
    sdk.createToolError = (message: string) => ({
      isError: true,
      content: [
        { type: 'text' as const, text: JSON.stringify(errorToJson(new UsageError('usage', message)), null, 2) },
      ],
    });
  const need = (): Context => {
    if (session.ctx) return session.ctx;
    throw new HandoffError('not_a_repository', session.noRepo ?? 'handoff mcp has no repository yet.');
  };
  const run = async (fn: (ctx: Context) => unknown) => {
    try {
      await session.ready;
      const ctx = need();
      indexChains(ctx);
      return answerOf(await fn(ctx));
    } catch (caught) {
      let err = caught;
      if (isCorruptionError(err) && session.ctx) {
        // A damaged page: the file is set aside and the session goes on with one rebuilt from git.
        const damaged = session.ctx;
        err = recoverFromCorruption(damaged, err);
        session.ctx = null;
        try {
          session.ctx = openContext({ cwd: damaged.repo.cwd, warn: (m) => process.stderr.write(`handoff: ${m}\n`) });
        } catch (reopen) {
          session.noRepo = `handoff mcp could not reopen the ledger after setting a damaged one aside (${(reopen as Error).message.split('\n')[0]}).`;
        }
      }
      return { isError: true, content: [{ type: 'text' as const, text: JSON.stringify(errorToJson(err), null, 2) }] };
    }
  };
  const signalOf = (extra: { signal: AbortSignal }) => AbortSignal.any([extra.signal, session.closing.signal]);
  const kind = z.enum(MESSAGE_KINDS as unknown as [string, ...string[]]);
  const priority = z.enum(PRIORITIES as unknown as [string, ...string[]]);
  server.registerTool(
    'send',
    {
      title: 'Send a message',
      description:
        'Send a message to another agent (name, several comma-separated, @team, @role or all). Set attach_diff to include a snapshot of your working tree and its diff against HEAD, so the recipient sees exactly what you changed. Returns the message with its id.',
      annotations: WRITES,
      inputSchema: {
        to: z.string().describe('Recipient: agent name, "a,b", @team, @role, or all'),
        body: z.string().describe('The message text'),
        attach_diff: z.boolean().optional().describe('Attach the working tree snapshot and diff'),
        kind: kind
          .optional()
          .describe('request (default), review_request, question, answer, decision, status, todo...'),
        priority: priority.optional(),
        thread: z.string().optional().describe('Continue this thread (any message id in it)'),
        reply_to: z.string().optional().describe('The message this answers'),
        create: z.boolean().optional().describe('Register unknown recipients (their message waits until they start)'),
        no_reply: z.boolean().optional().describe('The message needs no answer (use it to end a back-and-forth)'),
        redact: z.boolean().optional().describe('Store the message with each secret found replaced by a marker'),
        allow_secret: z.boolean().optional().describe('Store secrets found as they are (recorded in the event)'),
      },
    },
    (a) =>
      run((ctx) =>
        send(ctx, {
          redact: a.redact,
          allowSecret: a.allow_secret,
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
      description:
        'Unread messages addressed to you (urgent first, then oldest): the first 50, fewer when they are large; `more` counts the rest. Listing does not mark them read; use read.',
      annotations: READ_ONLY,
      inputSchema: {
        all: z.boolean().optional().describe('Include read messages'),
        from: z.string().optional(),
        kind: kind.optional(),
        limit: z.number().int().min(1).max(1000).optional().describe('How many to list (50 unless given)'),
      },
    },
    (a) =>
      run((ctx) =>
        inbox(ctx, { all: a.all, from: a.from, kind: a.kind, limit: a.limit, maxBodyBytes: MAX_RESULT_BODY_BYTES }),
      ),
  );
  server.registerTool(
    'read',
    {
      title: 'Read messages',
      description:
        'Return messages in full and mark them read (the sender sees a read receipt). Give ids, or all=true for every unread one (at most about 2 MB of message text per call: call again for the rest).',
      annotations: WRITES,
      inputSchema: { ids: z.array(z.string()).optional(), all: z.boolean().optional() },
    },
    (a, extra) =>
      run((ctx) => {
        const r = read(ctx, {
          ids: a.ids ?? [],
          all: a.all,
          deferMark: true,
          maxBodyBytes: MAX_RESULT_BODY_BYTES,
          take: !!a.all,
          // Two reads of all at once: each message in one answer only, as for waits.
          exclude: session.inFlight,
        });
        if (r.marked.length) session.pendingReads.set(extra.requestId, { me: resolveIdentity(ctx), ids: r.marked });
        return r;
      }),
  );
  server.registerTool(
    'reply',
    {
      title: 'Reply to a message',
      description:
        'Reply in the same thread to the sender of a message. Set attach_diff to include your working tree changes.',
      annotations: WRITES,
      inputSchema: {
        id: z.string(),
        body: z.string(),
        attach_diff: z.boolean().optional(),
        kind: kind.optional(),
        redact: z.boolean().optional().describe('Store the reply with each secret found replaced by a marker'),
        allow_secret: z.boolean().optional().describe('Store secrets found as they are (recorded in the event)'),
      },
    },
    (a) =>
      run((ctx) =>
        reply(ctx, {
          id: a.id,
          body: a.body,
          attachDiff: a.attach_diff,
          kind: a.kind as MessageKind | undefined,
          redact: a.redact,
          allowSecret: a.allow_secret,
        }),
      ),
  );
  server.registerTool(
    'wait',
    {
      title: 'Wait for a message',
      description:
        "Block until a message arrives for you (or timeout_seconds pass), then return it; it is marked read once this result reaches you. Keep timeout_seconds below your client's tool timeout. Progress is reported while waiting when the client asks for it. Waits running at once return different messages; large ones come a few per call.",
      annotations: WRITES,
      inputSchema: {
        timeout_seconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .describe(
            'Give up after this long (a longer wait than 59 minutes ends at 59: below the hour init gives each tool call)',
          ),
        from: z.string().optional(),
      },
    },
    (a, extra) =>
      run(async (ctx) => {
        const signal = signalOf(extra);
        const token = extra._meta?.progressToken;
        const started = Date.now();
        const seconds = Math.min(a.timeout_seconds, MAX_WAIT_S);
        const tick = () => {
          const elapsed = Math.round((Date.now() - started) / 1000);
          void extra
            .sendNotification({
              method: 'notifications/progress',
              params: {
                progressToken: token!,
                progress: elapsed,
                total: seconds,
                message: `waiting for a message (${elapsed}s)`,
              },
            })
            .catch(() => undefined);
        };
        // Progress now and every 10 s: a client that resets its timeout on progress keeps waiting.
        if (token !== undefined) tick();
        const ticker = token !== undefined ? setInterval(tick, 10_000) : undefined;
        try {
          // A message another wait or read of this client carries already is not given again.
          const r = await waitForMessages(ctx, {
            timeoutSeconds: seconds,
            from: a.from,
            peek: true,
            signal,
            exclude: session.inFlight,
            onTake: (ids) => session.taking.set(extra.requestId, ids),
            maxBodyBytes: MAX_RESULT_BODY_BYTES,
            take: true,
          });
          if (signal.aborted) {
            endDelivery(
              ctx,
              r.agent,
              r.messages.map((m) => m.id),
            );
            throw new HandoffError('cancelled', 'The wait was cancelled; nothing was marked read.');
          }
          session.pendingReads.set(extra.requestId, { me: resolveIdentity(ctx), ids: r.messages.map((m) => m.id) });
          return r;
        } finally {
          session.taking.delete(extra.requestId);
          if (ticker) clearInterval(ticker);
        }
      }),
  );
  server.registerTool(
    'thread',
    {
      title: 'Read a thread',
      description:
        'Every message of the thread a message belongs to, in order (past about 2 MB of text, later bodies are left out, with bodyOmitted giving their size: read them by id).',
      annotations: READ_ONLY,
      inputSchema: { id: z.string() },
    },
    (a) =>
      run((ctx) => {
        const t = thread(ctx, { id: a.id });
        return { ...t, messages: omitBodiesPast(t.messages, MAX_RESULT_BODY_BYTES) };
      }),
  );
  server.registerTool(
    'agents',
    {
      title: 'List agents',
      description: 'Known agents with team, role, liveness and unread counts.',
      annotations: READ_ONLY,
      inputSchema: {},
    },
    () => run((ctx) => ({ agents: agents(ctx) })),
  );
  server.registerTool(
    'whoami',
    {
      title: 'Who am I',
      description: 'Your agent name and how it was found.',
      annotations: READ_ONLY,
      inputSchema: {},
    },
    () => run((ctx) => whoami(ctx, {})),
  );
  server.registerTool(
    'blame',
    {
      title: 'Blame a file',
      description: 'For each line of a file: the commit, the agent that made it and the handoff message behind it.',
      annotations: READ_ONLY,
      inputSchema: {
        file: z.string().describe('Path from the top of the repository.'),
        from_line: z.number().int().min(1).optional(),
        to_line: z.number().int().min(1).optional(),
      },
    },
    (a) =>
      run((ctx) =>
        blame(ctx, {
          file: fromTop(ctx, a.file),
          range: lineRange(a.from_line, a.to_line),
        }),
      ),
  );
  server.registerTool(
    'review',
    {
      title: 'Review a handoff',
      description:
        'Compare the diff attached to a handoff with what landed: each hunk landed as sent, landed changed, or not landed.',
      annotations: READ_ONLY,
      inputSchema: { id: z.string(), range: z.string().optional().describe('A..B instead of the attributed commits') },
    },
    (a) => run((ctx) => review(ctx, { id: a.id, range: a.range })),
  );
  server.registerTool(
    'claim',
    {
      title: 'Claim a task or request',
      description:
        'Claim a key (a task name, or a message id to claim a request) so no other agent takes it. Fails with claim_held naming the holder. Held for ttl_seconds (default 30 minutes), renewed by your activity (your sends, reads, claims); taken over at once when this MCP server stops. Claim again to keep a long task. With remote, the git remote decides at once between machines.',
      annotations: WRITES,
      inputSchema: {
        key: z.string(),
        ttl_seconds: z.number().int().min(1).optional(),
        remote: z.string().optional(),
        wait_seconds: z.number().int().min(0).max(3600).optional(),
      },
    },
    (a, extra) =>
      run((ctx) =>
        claim(ctx, {
          key: a.key,
          ttlSeconds: a.ttl_seconds,
          remote: a.remote,
          pid: process.pid,
          waitSeconds: a.wait_seconds === undefined ? undefined : Math.min(a.wait_seconds, MAX_WAIT_S),
          signal: signalOf(extra),
        }),
      ),
  );
  server.registerTool(
    'release',
    {
      title: 'Release a claim or reservations',
      description:
        'Release a claim you hold (key; with remote, the remote claim ref too), or your reservations of paths (paths; an empty list releases them all).',
      annotations: WRITES,
      inputSchema: {
        key: z.string().optional(),
        remote: z.string().optional(),
        paths: z.array(z.string()).optional().describe('Paths or globs from the top of the repository.'),
      },
    },
    (a) =>
      run((ctx) => {
        if (a.paths !== undefined && a.key === undefined)
          return releaseReservations(ctx, { patterns: a.paths.map((p) => fromTopPattern(p)) });
        if (a.key === undefined || a.paths !== undefined)
          throw new UsageError('usage', 'Give release either a key (a claim) or paths (reservations).');
        return release(ctx, { key: a.key, remote: a.remote });
      }),
  );
  server.registerTool(
    'claims',
    {
      title: 'List claims',
      description: 'Claimed keys, their holders, and whether each holder is live, gone or expired.',
      annotations: READ_ONLY,
      inputSchema: { mine: z.boolean().optional(), all: z.boolean().optional() },
    },
    (a) => run((ctx) => claims(ctx, { mine: a.mine, all: a.all })),
  );
  server.registerTool(
    'outcome',
    {
      title: 'Report a task outcome',
      description:
        'Record that a request is done (message: the evidence), failed or blocked (message: why). Its sender is told, and your claim on it is released.',
      annotations: WRITES,
      inputSchema: { id: z.string(), state: z.enum(['done', 'failed', 'blocked']), message: z.string().optional() },
    },
    (a) => run((ctx) => recordOutcome(ctx, { id: a.id, state: a.state, body: a.message })),
  );
  server.registerTool(
    'tasks',
    {
      title: 'List tasks',
      description: 'Requests with their state: open, claimed (by whom), reclaimable, done, failed, blocked.',
      annotations: READ_ONLY,
      inputSchema: { open: z.boolean().optional(), failed: z.boolean().optional(), mine: z.boolean().optional() },
    },
    (a) => run((ctx) => tasks(ctx, { open: a.open, failed: a.failed, mine: a.mine })),
  );
  server.registerTool(
    'reserve',
    {
      title: 'Reserve paths',
      description:
        'Reserve paths or globs you are about to change. exclusive: other agents are warned when they commit or send diffs touching them.',
      annotations: WRITES,
      inputSchema: {
        paths: z.array(z.string()).min(1).describe('Paths or globs from the top of the repository.'),
        exclusive: z.boolean().optional(),
        ttl_seconds: z.number().int().min(1).optional(),
        reason: z.string().optional(),
      },
    },
    (a) =>
      run((ctx) =>
        reserve(ctx, {
          patterns: a.paths.map((p) => fromTopPattern(p)),
          exclusive: a.exclusive,
          ttlSeconds: a.ttl_seconds,
          reason: a.reason,
          pid: process.pid,
        }),
      ),
  );
  server.registerTool(
    'search',
    {
      title: 'Search the conversation',
      description:
        'Full-text search over messages, thread subjects, attached file names and attributed commits. Words, "a phrase", prefix*.',
      annotations: READ_ONLY,
      inputSchema: {
        query: z.string(),
        from: z.string().optional(),
        kind: z.string().optional(),
        since: z.string().optional(),
        limit: z.number().int().min(1).max(200).optional(),
      },
    },
    (a) => run((ctx) => search(ctx, { query: a.query, from: a.from, kind: a.kind, since: a.since, limit: a.limit })),
  );
  server.registerTool(
    'status',
    {
      title: 'Set your status note',
      description: 'Say what you are working on; others see it in agents. An empty note clears it.',
      annotations: WRITES,
      inputSchema: { note: z.string().max(500) },
    },
    (a) => run((ctx) => setStatus(ctx, { note: a.note })),
  );
  // The caller's unread messages as a resource; subscribers get resources/updated when it changes.
  const INBOX = 'handoff://inbox';
  server.registerResource(
    'inbox',
    INBOX,
    { title: 'Your unread handoff messages', mimeType: 'application/json' },
    async () => {
      await session.ready;
      const ctx = need();
      indexChains(ctx);
      return {
        contents: [
          {
            uri: INBOX,
            mimeType: 'application/json',
            text: JSON.stringify(inbox(ctx, { maxBodyBytes: MAX_RESULT_BODY_BYTES }), null, 2),
          },
        ],
      };
    },
  );
  let watching: AbortController | null = null;
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    // The repository may be found only once the client answered roots/list (after initialized).
    await session.ready;
    if (req.params.uri === INBOX && !watching && session.ctx) {
      watching = new AbortController();
      void watchInbox(session, watching.signal, () => server.server.sendResourceUpdated({ uri: INBOX }));
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, (req) => {
    if (req.params.uri === INBOX && watching) {
      watching.abort();
      watching = null;
    }
    return {};
  });
  return server;
}

/** Sends `notify` whenever the unread count of the session's agent changes, until `signal` aborts. */
async function watchInbox(session: Session, signal: AbortSignal, notify: () => Promise<void>): Promise<void> {
  const ctx = session.ctx!;
  const me = () => resolveIdentity(ctx).name;
  let last = unreadCount(ctx, me());
  const all = AbortSignal.any([signal, session.closing.signal]);
  while (!all.aborted) {
    const now = await waitForChange(
      ctx,
      () => {
        const n = unreadCount(ctx, me());
        return n !== last ? n : undefined;
      },
      60_000,
      all,
    );
    if (now === undefined) continue;
    last = now;
    await notify().catch(() => undefined);
  }
}

/** The first of the client's roots (file:// URIs) that is inside a git repository, opened. */
async function contextFromRoots(server: McpServer): Promise<Context | null> {
  if (!server.server.getClientCapabilities()?.roots) return null;
  try {
    const { roots } = await server.server.listRoots(undefined, { timeout: 5000 });
    for (const r of roots) {
      if (!r.uri.startsWith('file://')) continue;
      try {
        return openContext({ cwd: fileURLToPath(r.uri), warn: (m) => process.stderr.write(`handoff: ${m}\n`) });
      } catch {
        /* not a repository: try the next root */
      }
    }
  } catch {
    /* the client did not answer */
  }
  return null;
}

/**
 * How long a written response's reads wait for a cancel that crossed it (a client sends its cancel at once;
 * the pipe delivers it within milliseconds) before they count without the client's next request.
 */
const CANCEL_GRACE_MS = 1000;

/** Runs the server on stdio until the client goes away, then ends every wait and exits. */
export async function serveStdio(opts: McpOptions): Promise<void> {
  const session: Session = {
    ctx: null,
    noRepo: null,
    pendingReads: new Map(),
    taking: new Map(),
    closing: new AbortController(),
    optionalFields: new Map(),
  };
  try {
    session.ctx = openContext({ warn: (m) => process.stderr.write(`handoff: ${m}\n`) });
  } catch (err) {
    session.noRepo = `handoff mcp was started in ${process.cwd()}, which is not in a git repository (${(err as Error).message.split('\n')[0]}), and the client named no root inside one. Set "cwd" to the repository in this MCP server's config, or start the agent inside the repository.`;
  }
  const server = buildServer(session, opts);
  const transport = new StdioServerTransport();
  // A read is held once the response carrying the messages was written to the client, until the client
  // shows it kept the response: a cancel of that request dropped it (the two crossed on the way).
  const held = new Map<string | number, { me: IdentityJson; ids: string[]; timer: NodeJS.Timeout }>();
  session.inFlight = () =>
    new Set([
      ...[...session.pendingReads.values(), ...held.values()].flatMap((r) => r.ids),
      ...[...session.taking.values()].flat(),
    ]);
  const confirm = (id: string | number) => {
    const h = held.get(id);
    if (!h) return;
    held.delete(id);
    clearTimeout(h.timer);
    if (!session.ctx?.db.open) return;
    try {
      markRead(session.ctx, h.me, h.ids);
      endDelivery(session.ctx, h.me.name, h.ids);
    } catch (err) {
      process.stderr.write(`handoff: could not mark ${h.ids.join(', ')} read: ${(err as Error).message}\n`);
    }
  };
  /** A read that did not reach the client: its messages are for the next reader (this one or another). */
  const dropped = (r: { me: IdentityJson; ids: string[] }) => {
    try {
      if (session.ctx?.db.open) endDelivery(session.ctx, r.me.name, r.ids);
    } catch {
      /* the files name this process: the next reader takes them once it is gone */
    }
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    const id = 'id' in message ? message.id : undefined;
    const pending = id !== undefined && 'result' in message ? session.pendingReads.get(id) : undefined;
    if (id !== undefined) session.pendingReads.delete(id);
    if (pending && !(message as { result?: { isError?: boolean } }).result?.isError)
      held.set(id!, { ...pending, timer: setTimeout(() => confirm(id!), CANCEL_GRACE_MS).unref() });
    else if (pending) dropped(pending);
  };
  let me: string | null = null;
  let settle: () => void = () => undefined;
  session.ready = new Promise<void>((r) => (settle = r));
  server.server.oninitialized = () => {
    void (async () => {
      session.ctx ??= await contextFromRoots(server);
      if (session.ctx) session.noRepo = null;
      const who = mcpIdentity(process.env, server.server.getClientVersion()?.name, opts.as);
      if (who.note) process.stderr.write(`handoff: ${who.note}\n`);
      if (!session.ctx) return;
      const kind = clientKind(server.server.getClientVersion()?.name);
      if (who.name) {
        session.ctx.env = {
          ...session.ctx.env,
          HANDOFF_AGENT: who.name,
          ...(kind ? { HANDOFF_CLIENT_RUNTIME: kind } : {}),
        };
        if (who.via === 'mcp-client') session.ctx.env.HANDOFF_AGENT_FROM = 'mcp-client';
      }
      try {
        me = resolveIdentity(session.ctx).name;
        join(session.ctx, {});
        addPresence(session.ctx, me, 'mcp');
      } catch (err) {
        process.stderr.write(`handoff: ${(err as Error).message} Tools that need an identity will say so.\n`);
      }
    })().finally(settle);
  };
  let signalled: NodeJS.Signals | null = null;
  await new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
    process.stdin.on('close', () => resolve());
    // Stopped by a signal (a client that ends its servers with SIGTERM, Ctrl-C in a terminal): the server
    // leaves as when the client goes, so its presence and scratch files go with it (node's default for
    // these signals ends the process at once, with no exit handlers).
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
      process.once(sig, () => {
        signalled = sig;
        resolve();
      });
    // Seen before the SDK handles them: a cancel drops what its request held; any other request confirms
    // every read held (the client has read the responses before it), so the request sees them read. The
    // handler the SDK sets is wrapped whenever it sets it.
    let receive: ((message: JSONRPCMessage) => void) | undefined;
    const observe = (message: JSONRPCMessage) => {
      if ('method' in message && message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: string | number } | undefined)?.requestId;
        const h = id === undefined ? undefined : held.get(id);
        if (h) {
          clearTimeout(h.timer);
          held.delete(id!);
          dropped(h);
        }
      } else if ('method' in message && 'id' in message) for (const id of [...held.keys()]) confirm(id);
      receive?.(withoutEmptyOptionals(message, session.optionalFields));
    };
    Object.defineProperty(transport, 'onmessage', {
      configurable: true,
      get: () => (receive ? observe : undefined),
      set: (fn: ((message: JSONRPCMessage) => void) | undefined) => (receive = fn),
    });
    // A line that is not JSON, or not a JSON-RPC message, gets the error JSON-RPC prescribes (id null: its
    // id cannot be known), so that a client waiting on it is not left hanging; the server goes on.
    // A request whose id can be read (its params are what is wrong) is answered under that id: the line
    // the SDK's reader takes next is noted as it takes it (a private of the SDK's stdio transport,
    // checked: without it, the answer has id null).
    let lastLine: string | null = null;
    const reader = (
      transport as unknown as {
        _readBuffer?: { readMessage?: () => unknown; append?: (chunk: Buffer) => void; _buffer?: Buffer };
      }
    )._readBuffer;
    // A line longer than MAX_REQUEST_BYTES (an oversized body) is skipped as it comes, and answered under
    // its id where its ends show it; the SDK's reader would end the session (and hold the whole line first).
    if (reader && typeof reader.append === 'function') {
      let skipping: { head: string; tail: string } | null = null;
      reader.append = (data: Buffer) => {
        let chunk = data;
        for (;;) {
          if (skipping) {
            const nl = chunk.indexOf(10);
            const upto = nl < 0 ? chunk : chunk.subarray(0, nl);
            skipping.tail = (skipping.tail + upto.toString('utf8')).slice(-400);
            if (nl < 0) return;
            const id = requestIdOf(skipping.head, skipping.tail.replace(/\r$/, ''));
            skipping = null;
            void send({
              jsonrpc: '2.0',
              id,
              error: {
                code: -32600,
                message: `Request too large: one line of more than ${MAX_REQUEST_BYTES / 1024 / 1024} MiB, skipped (a message body may be at most handoff.maxBodyBytes, 1 MiB by default). body_too_large`,
                data: { code: 'body_too_large' },
              },
            } as unknown as JSONRPCMessage).catch(() => undefined);
            chunk = chunk.subarray(nl + 1);
            if (!chunk.length) return;
            continue;
          }
          const buf = reader._buffer;
          const nl = chunk.indexOf(10);
          if ((buf?.length ?? 0) + (nl < 0 ? chunk.length : nl) <= MAX_REQUEST_BYTES) {
            reader._buffer = buf ? Buffer.concat([buf, chunk]) : chunk;
            return;
          }
          const start = buf && buf.length ? buf : chunk;
          skipping = { head: start.toString('utf8', 0, Math.min(400, start.length)), tail: '' };
          reader._buffer = undefined;
        }
      };
    }
    if (reader && typeof reader.readMessage === 'function') {
      const readMessage = reader.readMessage.bind(reader);
      reader.readMessage = () => {
        const buf = reader._buffer;
        const nl = Buffer.isBuffer(buf) ? buf.indexOf(10) : -1;
        lastLine = nl >= 0 ? buf!.toString('utf8', 0, nl) : null;
        return readMessage();
      };
    }
    const idOf = (line: string | null): string | number | null => {
      try {
        const id = (JSON.parse(line ?? '') as { id?: unknown } | null)?.id;
        return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
      } catch {
        return null;
      }
    };
    server.server.onerror = (err) => {
      const code = err instanceof SyntaxError ? -32700 : (err as { name?: string }).name === 'ZodError' ? -32600 : null;
      if (code === null) return;
      const id = code === -32600 ? idOf(lastLine) : null;
      const message =
        code === -32700
          ? 'Parse error: the line is not JSON'
          : id === null
            ? 'Invalid Request: not a JSON-RPC 2.0 message'
            : 'Invalid Request: not a valid JSON-RPC 2.0 request (check its method and params)';
      void send({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage).catch(() => undefined);
    };
    void server.connect(transport);
  });
  // The client is gone: what it was sent and did not cancel is read; every wait ends (nothing they found is
  // marked read), then the server leaves.
  for (const id of [...held.keys()]) confirm(id);
  session.closing.abort();
  await new Promise((r) => setImmediate(r));
  if (session.ctx) {
    if (me) removePresence(session.ctx, me);
    closeContext(session.ctx);
  }
  process.exit(signalled ? 128 + os.constants.signals[signalled] : 0);
}

/**
 * A tool's file path, which is from the top of the repository (an agent has no current directory here; the
 * server's own may be a subdirectory): made absolute from the worktree's top. One that leads outside is
 * refused as the CLI refuses it.
 */
function fromTop(ctx: Context, file: string): string {
  const top = ctx.repo.worktree;
  if (!top || path.isAbsolute(file)) return file;
  const joined = path.join(top, file.replace(/^:\//, ''));
  const rel = path.relative(top, joined);
  if (rel === '..' || rel.startsWith(`..${path.sep}`))
    throw new UsageError('bad_path', `${JSON.stringify(file)} is outside this repository. Give a path from its top.`);
  return joined;
}

/** A message with its body left out of the answer, and its size said. */
const withoutBody = (m: MessageJson): MessageJson => ({ ...m, body: '', bodyOmitted: Buffer.byteLength(m.body) });

/** `messages` with the bodies past `maxBytes` of them (as JSON text; the first always kept) left out and sized. */
function omitBodiesPast(messages: MessageJson[], maxBytes: number): MessageJson[] {
  const kept = withinBodyBudget(messages, maxBytes).length;
  return messages.map((m, i) => (i < kept ? m : withoutBody(m)));
}

/** blame's lines from_line..to_line (either alone: that line, or from the first); refused backwards, as the CLI's -L. */
function lineRange(from?: number, to?: number): [number, number] | undefined {
  if (from === undefined && to === undefined) return undefined;
  const range: [number, number] = [from ?? 1, to ?? from!];
  if (range[1] < range[0])
    throw new UsageError('bad_range', `from_line ${range[0]} is after to_line ${range[1]}; give from_line <= to_line.`);
  return range;
}

/** A tool's path or glob, from the top of the repository (`:/`, as the CLI reads it); an absolute one is refused there. */
function fromTopPattern(p: string): string {
  // An empty one stays empty, for reserve to refuse (`:/` alone would name the whole tree).
  return p.trim() === '' || p.startsWith('/') || p.startsWith(':/') ? p : `:/${p}`;
}
