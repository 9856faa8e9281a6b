/** Reading one's messages: inbox, read (with a read receipt), ack. */
import { takeForDelivery } from './deliveries';
import { NotFoundError, UsageError } from '../core/errors';
import { WORK_KINDS, type ReceiptEvent } from '../core/events';
import { getMessage, inboxCount, inboxFor, recipientsOf, unreadCount, type InboxRow } from '../ledger/messages';
import type { AckJson, IdentityJson, InboxJson, ReadJson } from '../json/types';
import { appendEvent } from './append';
import { claimNotices } from './claims';
import { reservationNotices } from './reservations';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { findMessage, requireKnownAgent, strangerNotice } from './lookup';
import { messageJson, recipientJson, withinBodyBudget } from './views';
import { setWorkingOn } from './working';
import { loopNotices } from './wakeups';

export { WORK_KINDS };

export interface InboxInput {
  as?: string;
  all?: boolean;
  from?: string;
  kind?: string;
  priority?: string;
  limit?: number;
  /** The bodies listed at most, as JSON text (withinBodyBudget); the rest count in `more`. */
  maxBodyBytes?: number;
}

/** How many messages `inbox` lists unless told otherwise. */
export const INBOX_PAGE = 50;

/** The caller's messages: unread ones (urgent first, then oldest first), or all with `all`; a page at a time. */
export function inbox(ctx: Context, input: InboxInput): InboxJson {
  const me = resolveIdentity(ctx, { as: input.as });
  if (input.from !== undefined) requireKnownAgent(ctx, input.from, '--from');
  const q = { agent: me.name, includeRead: !!input.all, from: input.from, kind: input.kind, priority: input.priority };
  // A page at a time (an agent's context is precious): --limit 0 lists everything.
  const limit = input.limit === undefined ? INBOX_PAGE : input.limit === 0 ? undefined : input.limit;
  const page = inboxFor(ctx.db, { ...q, limit });
  const rows = input.maxBodyBytes === undefined ? page : withinBodyBudget(page, input.maxBodyBytes);
  const messages = rows.map(messageJson);
  const more =
    (limit !== undefined && page.length === limit ? inboxCount(ctx.db, q) - page.length : 0) +
    (page.length - rows.length);
  return {
    agent: me.name,
    more,
    unread: unreadCount(ctx.db, me.name),
    messages,
    notices: [
      ...loopNotices(
        ctx,
        me.name,
        messages.filter((m) => m.status === 'stored'),
      ),
      ...claimNotices(ctx, me.name),
      ...reservationNotices(ctx, me.name),
      ...[strangerNotice(ctx, me.name)].filter((n): n is string => n !== null),
    ],
  };
}

/** How many unread messages `agent` has. */
export function unreadOf(ctx: Context, agent: string): number {
  return unreadCount(ctx.db, agent);
}

/** Of `ids`, those addressed to `me` and not read yet. */
export function unreadFor(ctx: Context, me: IdentityJson, ids: string[]): string[] {
  return [...new Set(ids)].filter((id) => recipientsOf(ctx.db, id).some((r) => r.agent === me.name && r.status === 0));
}

/**
 * Of `rows` (unread messages to `me`), those this process takes for delivery (ops/deliveries.ts): not those
 * another live reader of `me` delivers, nor one marked read meanwhile.
 */
export function takeUnread<T extends { id: string }>(ctx: Context, me: IdentityJson, rows: T[]): T[] {
  if (!rows.length) return rows;
  const taken = new Set(
    takeForDelivery(
      ctx,
      me.name,
      rows.map((m) => m.id),
      (ids) => unreadFor(ctx, me, ids),
    ),
  );
  return rows.filter((m) => taken.has(m.id));
}

/** Records one receipt event for the messages among `ids` that `me` has not yet read; returns those ids. */
export function recordRead(ctx: Context, me: IdentityJson, ids: string[]): string[] {
  const unread = unreadFor(ctx, me, ids);
  if (unread.length && ctx.readOnly) {
    ctx.warn(
      `${unread.length === 1 ? 'this message stays' : 'these messages stay'} unread: ${ctx.readOnly} is not writable by this user.`,
    );
    return [];
  }
  if (unread.length) appendEvent<ReceiptEvent>(ctx, me, { type: 'receipt', status: 'read', messages: unread });
  return unread;
}

/** recordRead, and the newest request among `ids` taken as what `me` works on (a guess: see below). */
export function markRead(ctx: Context, me: IdentityJson, ids: string[]): string[] {
  const unread = recordRead(ctx, me, ids);
  if (ctx.readOnly) return unread; // nothing written (recordRead said so)
  // The newest request read is a guess at what the agent's next commits answer (work-on and replies with a
  // diff say it for sure). Pings, answers and status lines are not work to do.
  const work = ids
    .map((id) => getMessage(ctx.db, id))
    .filter(
      (m): m is NonNullable<typeof m> =>
        !!m &&
        WORK_KINDS.has(m.kind) &&
        !m.no_reply &&
        m.sender !== me.name &&
        recipientsOf(ctx.db, m.id).some((r) => r.agent === me.name),
    )
    .sort((a, b) => a.clock - b.clock || (a.id < b.id ? -1 : 1));
  if (work.length) setWorkingOn(ctx, me.name, { message: work[work.length - 1]!.id, mode: 'auto' });
  return unread;
}

/** Prints messages and marks them read: the given ids, or every unread one with `all`. */
export function read(
  ctx: Context,
  input: {
    as?: string;
    ids: string[];
    all?: boolean;
    deferMark?: boolean;
    maxBodyBytes?: number;
    /** With all: take them for delivery (ops/deliveries.ts), leaving out what another reader delivers. */
    take?: boolean;
    /** With all: messages not to return (another answer of this reader carries them). */
    exclude?: () => Set<string>;
  },
): ReadJson {
  const me = resolveIdentity(ctx, { as: input.as });
  if (!input.all && input.ids.length === 0)
    throw new UsageError('missing_id', "Say which message to read: 'handoff read <id>', or 'handoff read --all'.");
  let rows: ReturnType<typeof messageJson>[];
  /** Messages named that did not fit in this answer (maxBodyBytes): left as they are, for the next read. */
  let left = 0;
  if (input.all) {
    // With a budget, the first that fit: the rest stay unread for the next read.
    const skip = input.exclude?.();
    const listed = inboxFor(ctx.db, { agent: me.name, includeRead: false });
    const unread = skip?.size ? listed.filter((m) => !skip.has(m.id)) : listed;
    const fit = input.maxBodyBytes === undefined ? unread : withinBodyBudget(unread, input.maxBodyBytes);
    rows = (input.take ? takeUnread(ctx, me, fit) : fit).map(messageJson);
    left = unread.length - fit.length;
  } else {
    // One message named twice (its full and its short id, say) is shown and marked once.
    const found = new Map(input.ids.map((id) => findMessage(ctx, id)).map((m) => [m.id, m]));
    const all = [...found.values()];
    const fit = input.maxBodyBytes === undefined ? all : withinBodyBudget(all, input.maxBodyBytes);
    left = all.length - fit.length;
    rows = fit.map(messageJson);
    // The reader's own status, where the message is addressed to it.
    for (const m of rows) {
      const mine = recipientsOf(ctx.db, m.id).find((r) => r.agent === me.name);
      if (mine) m.status = recipientJson(mine).status;
    }
  }
  // deferMark: the caller marks them read itself once the messages reached the reader (the MCP server, the
  // CLI once it printed them), and is told which are unread for it now.
  const marked = input.deferMark
    ? unreadFor(
        ctx,
        me,
        rows.map((m) => m.id),
      )
    : markRead(
        ctx,
        me,
        rows.map((m) => m.id),
      );
  // What this read marks (now, or once delivered) is said as read.
  const marking = new Set(marked);
  for (const m of rows) if (m.status === 'stored' && marking.has(m.id)) m.status = 'read';
  const notices = loopNotices(ctx, me.name, rows);
  if (left)
    notices.push(
      input.all
        ? `${left} more unread message${left === 1 ? '' : 's'} did not fit in this answer (about 2 MB of text at most) and stay unread: read all again for the next.`
        : `${left} more of the messages asked for did not fit in this answer (about 2 MB of text at most) and stay as they were: read them next.`,
    );
  return { agent: me.name, notices, messages: rows, marked };
}

/** Acknowledges messages addressed to the caller (acknowledged implies read). */
export function ack(ctx: Context, input: { as?: string; ids: string[] }): AckJson {
  const me = resolveIdentity(ctx, { as: input.as });
  if (input.ids.length === 0)
    throw new UsageError('missing_id', "Say which message to acknowledge: 'handoff ack <id>'.");
  const rows: InboxRow[] = [];
  const ids = [...new Set(input.ids.map((i) => findMessage(ctx, i).id))];
  for (const id of ids) {
    const mine = recipientsOf(ctx.db, id).find((r) => r.agent === me.name);
    if (!mine)
      throw new NotFoundError(
        'not_a_recipient',
        `Message ${id} was not addressed to ${me.name}, so ${me.name} cannot acknowledge it.`,
      );
    if (mine.status < 2) rows.push({ id } as InboxRow);
  }
  const acked = rows.map((r) => r.id);
  if (acked.length) appendEvent<ReceiptEvent>(ctx, me, { type: 'receipt', status: 'acked', messages: acked });
  return { agent: me.name, acked };
}
