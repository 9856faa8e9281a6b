/** The messages table and the recipients table (one row per message and recipient, with its status). */
import { WORK_KINDS } from '../core/events';
import { SHORT_ID_MAX, SHORT_ID_MIN, setShortIdLength } from '../core/ids';
import { stmt, type Db } from './db';

export interface MessageRow {
  id: string;
  thread: string;
  reply_to: string | null;
  sender: string;
  address: string;
  recipients: string;
  kind: string;
  priority: string;
  ts: string;
  clock: number;
  body: string;
  commit_id: string;
  diff_base: string | null;
  diff_tree: string | null;
  diff_files: number | null;
  excluded: string | null;
  no_reply?: number;
}

/** Receipt states in order; a state never goes back. */
const STATUS = { stored: 0, read: 1, acked: 2 } as const;
export type StatusName = keyof typeof STATUS;
export const STATUS_NAMES: StatusName[] = ['stored', 'read', 'acked'];

/** Inserts a message and a 'stored' row per recipient (keeping any receipt that arrived first). */
export function insertMessage(db: Db, m: MessageRow, to: string[]): void {
  // Positional parameters, as for events (ledger/events.ts insertEvent).
  stmt(
    db,
    `INSERT OR IGNORE INTO messages (id, thread, reply_to, sender, address, recipients, kind, priority, ts, clock, body, commit_id, diff_base, diff_tree, diff_files, excluded, no_reply)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    m.id,
    m.thread,
    m.reply_to,
    m.sender,
    m.address,
    m.recipients,
    m.kind,
    m.priority,
    m.ts,
    m.clock,
    m.body,
    m.commit_id,
    m.diff_base,
    m.diff_tree,
    m.diff_files,
    m.excluded,
    m.no_reply ?? 0,
  );
  noteShortId(db, m.id);
  const ins = stmt(db, 'INSERT OR IGNORE INTO recipients (message_id, agent, status) VALUES (?, ?, 0)');
  for (const agent of to) ins.run(m.id, agent);
}

/** Raises a recipient's status to read or acked (never lowers it). */
export function applyReceipt(db: Db, messageId: string, agent: string, status: 'read' | 'acked', ts: string): void {
  const level = STATUS[status];
  stmt(
    db,
    `INSERT INTO recipients (message_id, agent, status, read_at, acked_at) VALUES (@m, @a, @level, @ts, CASE WHEN @level = 2 THEN @ts END)
     ON CONFLICT (message_id, agent) DO UPDATE SET
       status = max(recipients.status, excluded.status),
       read_at = coalesce(recipients.read_at, excluded.read_at),
       acked_at = coalesce(recipients.acked_at, excluded.acked_at)`,
  ).run({ m: messageId, a: agent, level, ts });
}

/** One message by full id. */
export function getMessage(db: Db, id: string): MessageRow | undefined {
  return stmt(db, 'SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
}

/** Keeps settings.short_id_length long enough that no two messages share a short id. */
function noteShortId(db: Db, id: string): void {
  const others = stmt(db, 'SELECT id FROM messages WHERE substr(id, 20) = ? AND id <> ?').all(id.slice(19), id) as {
    id: string;
  }[];
  if (others.length === 0) return;
  let need = shortIdLength(db);
  for (const o of others) {
    let common = 0;
    while (common < id.length && id[id.length - 1 - common] === o.id[o.id.length - 1 - common]) common++;
    need = Math.max(need, Math.min(SHORT_ID_MAX, common + 1));
  }
  stmt(
    db,
    "INSERT INTO settings (key, value) VALUES ('short_id_length', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(settings.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
  ).run(String(need));
  setShortIdLength(need);
}

/** How many trailing characters of a message id keep every short id unique (at least 7). */
export function shortIdLength(db: Db): number {
  const row = stmt(db, "SELECT value FROM settings WHERE key = 'short_id_length'").get() as
    { value: string } | undefined;
  return Math.min(SHORT_ID_MAX, Math.max(SHORT_ID_MIN, Number(row?.value ?? 0) || 0));
}

/** Message ids ending with `suffix` (7 or more characters). */
export function findMessageIdsBySuffix(db: Db, suffix: string, limit = 10): string[] {
  const rows = stmt(db, 'SELECT id FROM messages WHERE substr(id, 20) = ? ORDER BY id').all(suffix.slice(-7)) as {
    id: string;
  }[];
  return rows
    .map((r) => r.id)
    .filter((id) => id.endsWith(suffix))
    .slice(0, limit);
}

/** Message ids starting with `prefix` (at most `limit`). */
export function findMessageIds(db: Db, prefix: string, limit = 3): string[] {
  const hi = `${prefix}\uffff`;
  return (
    stmt(db, 'SELECT id FROM messages WHERE id >= ? AND id < ? ORDER BY id LIMIT ?').all(prefix, hi, limit) as {
      id: string;
    }[]
  ).map((r) => r.id);
}

export interface InboxRow extends MessageRow {
  status: number;
}

/** Messages addressed to `agent`, oldest first, filtered as asked. */
export function inboxFor(
  db: Db,
  q: { agent: string; includeRead: boolean; from?: string; kind?: string; priority?: string; limit?: number },
): InboxRow[] {
  return stmt(
    db,
    `SELECT m.*, r.status FROM recipients r JOIN messages m ON m.id = r.message_id
     WHERE r.agent = @agent AND (@all = 1 OR r.status = 0)
       AND (@from IS NULL OR m.sender = @from) AND (@kind IS NULL OR m.kind = @kind) AND (@priority IS NULL OR m.priority = @priority)
     ORDER BY CASE m.priority WHEN 'urgent' THEN 0 ELSE 1 END, m.clock, m.id
     LIMIT @limit`,
  ).all({
    agent: q.agent,
    all: q.includeRead ? 1 : 0,
    from: q.from ?? null,
    kind: q.kind ?? null,
    priority: q.priority ?? null,
    limit: q.limit ?? -1,
  }) as InboxRow[];
}

/** How many messages `inboxFor` would list without a limit. */
export function inboxCount(
  db: Db,
  q: { agent: string; includeRead: boolean; from?: string; kind?: string; priority?: string },
): number {
  return (
    stmt(
      db,
      `SELECT count(*) AS n FROM recipients r JOIN messages m ON m.id = r.message_id
       WHERE r.agent = @agent AND (@all = 1 OR r.status = 0)
         AND (@from IS NULL OR m.sender = @from) AND (@kind IS NULL OR m.kind = @kind) AND (@priority IS NULL OR m.priority = @priority)`,
    ).get({
      agent: q.agent,
      all: q.includeRead ? 1 : 0,
      from: q.from ?? null,
      kind: q.kind ?? null,
      priority: q.priority ?? null,
    }) as { n: number }
  ).n;
}

/** Number of unread messages for an agent. */
export function unreadCount(db: Db, agent: string): number {
  return (stmt(db, 'SELECT count(*) AS n FROM recipients WHERE agent = ? AND status = 0').get(agent) as { n: number })
    .n;
}

export interface RecipientRow {
  agent: string;
  status: number;
  read_at: string | null;
  acked_at: string | null;
}

/** Delivery state of a message per recipient. */
export function recipientsOf(db: Db, messageId: string): RecipientRow[] {
  return stmt(db, 'SELECT agent, status, read_at, acked_at FROM recipients WHERE message_id = ? ORDER BY agent').all(
    messageId,
  ) as RecipientRow[];
}

/** Every message of a thread in order. */
export function threadMessages(db: Db, thread: string): MessageRow[] {
  return stmt(db, 'SELECT * FROM messages WHERE thread = ? ORDER BY clock, id').all(thread) as MessageRow[];
}

/** Replies to a message. */
export function repliesTo(db: Db, id: string): MessageRow[] {
  return stmt(db, 'SELECT * FROM messages WHERE reply_to = ? ORDER BY clock, id').all(id) as MessageRow[];
}

export interface ThreadSummaryRow {
  thread: string;
  messages: number;
  first_ts: string;
  last_ts: string;
  participants: string;
}

/** Threads, most recently active first; `agent` limits them to threads it wrote in or received. */
export function listThreads(db: Db, q: { agent?: string; limit: number }): ThreadSummaryRow[] {
  return stmt(
    db,
    `SELECT m.thread, count(*) AS messages, min(m.ts) AS first_ts, max(m.ts) AS last_ts, max(m.clock) AS last_clock,
            group_concat(DISTINCT m.sender) AS participants
     FROM messages m
     WHERE @agent IS NULL OR m.thread IN (
       SELECT thread FROM messages WHERE sender = @agent
       UNION SELECT m2.thread FROM recipients r JOIN messages m2 ON m2.id = r.message_id WHERE r.agent = @agent)
     GROUP BY m.thread ORDER BY last_clock DESC, m.thread DESC LIMIT @limit`,
  ).all({ agent: q.agent ?? null, limit: q.limit }) as ThreadSummaryRow[];
}

/** Messages that can be reviewed: review requests and messages with an attached diff, newest first. */
export function listReviewable(db: Db): MessageRow[] {
  return stmt(
    db,
    "SELECT * FROM messages WHERE kind = 'review_request' OR diff_tree IS NOT NULL ORDER BY clock DESC, id DESC LIMIT 500",
  ).all() as MessageRow[];
}

/** Direct messages between `a` and `b` (not to a team, a role or all), newest first: who sent each and its clock. */
export function exchangeHistory(db: Db, a: string, b: string, limit: number): { sender: string; clock: number }[] {
  return stmt(
    db,
    `SELECT m.sender, m.clock FROM messages m WHERE m.address NOT LIKE '@%' AND m.address <> 'all' AND (
       (m.sender = @a AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.agent = @b)) OR
       (m.sender = @b AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.agent = @a)))
     ORDER BY m.clock DESC, m.id DESC LIMIT @limit`,
  ).all({ a, b, limit }) as { sender: string; clock: number }[];
}

/** When the loop guard last told `agent` about `other` (a clock), or null. */
export function lastLoopNotice(db: Db, agent: string, other: string): number | null {
  const row = stmt(db, 'SELECT notified FROM loop_notices WHERE agent = ? AND other = ?').get(agent, other) as
    { notified: number } | undefined;
  return row?.notified ?? null;
}

/** Remembers that the loop guard told `agent` about `other` at `clock`. */
export function noteLoopNotice(db: Db, agent: string, other: string, clock: number): void {
  stmt(
    db,
    'INSERT INTO loop_notices (agent, other, notified) VALUES (?, ?, ?) ON CONFLICT (agent, other) DO UPDATE SET notified = excluded.notified',
  ).run(agent, other, clock);
}

/** Of `ids`, those `agent` has not been nudged about yet; records them as nudged now. */
/**
 * How long a nudge taken for output not yet written (`at` below 0) holds the message: a hook whose output
 * never reached the agent (a closed pipe, a kill) leaves it to be told again after that.
 */
const NUDGE_PENDING_MS = 30_000;

/**
 * Takes the nudges of `ids` the agent was not told of yet, in the caller's write transaction, and returns
 * them: each message is told once (one of two hooks running at once gets it). With `pending`, the nudge is
 * taken for output still to be written, and confirmNudges records it once written; until then, and for
 * NUDGE_PENDING_MS, no other hook takes it, and after that one may.
 */
export function takeNewNudges(db: Db, agent: string, ids: string[], at: number, pending = false): string[] {
  const get = stmt(db, 'SELECT at FROM nudges WHERE agent = ? AND message_id = ?');
  const put = stmt(
    db,
    'INSERT INTO nudges (agent, message_id, at) VALUES (?, ?, ?) ON CONFLICT (agent, message_id) DO UPDATE SET at = excluded.at',
  );
  return ids.filter((id) => {
    const row = get.get(agent, id) as { at: number } | undefined;
    if (row && !(row.at < 0 && at + row.at > NUDGE_PENDING_MS)) return false;
    put.run(agent, id, pending ? -at : at);
    return true;
  });
}

/** Forgets nudges taken pending whose output was never written: the next hook tells them. */
export function dropPendingNudges(db: Db, agent: string, ids: string[], takenAt: number): void {
  // Only as this process took them: one taken again since (after NUDGE_PENDING_MS) is another hook's.
  const del = stmt(db, 'DELETE FROM nudges WHERE agent = ? AND message_id = ? AND at = ?');
  for (const id of ids) del.run(agent, id, -takenAt);
}

/** Records as told the nudges taken pending (takeNewNudges) once the output that tells them was written. */
export function confirmNudges(db: Db, agent: string, ids: string[], at: number): void {
  // Whoever holds it pending now (another hook, after NUDGE_PENDING_MS): the message was told either way.
  const upd = stmt(db, 'UPDATE nudges SET at = ? WHERE agent = ? AND message_id = ? AND at < 0');
  for (const id of ids) upd.run(at, agent, id);
}

/** Records the tmux pane where an agent runs (local doorbell). */
export function setDoorbell(db: Db, agent: string, pane: string): void {
  stmt(
    db,
    'INSERT INTO doorbells (agent, pane) VALUES (?, ?) ON CONFLICT (agent) DO UPDATE SET pane = excluded.pane',
  ).run(agent, pane);
}

/** The pane of an agent and when it was last rung. */
export function getDoorbell(db: Db, agent: string): { pane: string; last_rung: number } | undefined {
  return stmt(db, 'SELECT pane, last_rung FROM doorbells WHERE agent = ?').get(agent) as
    { pane: string; last_rung: number } | undefined;
}

/** Notes that an agent's doorbell rang at `when` (ms). */
export function markRung(db: Db, agent: string, when: number): void {
  stmt(db, 'UPDATE doorbells SET last_rung = ? WHERE agent = ?').run(when, agent);
}

/** Every message (or every message of one thread) in causal order. */
export function messagesInOrder(db: Db, thread: string | null = null): MessageRow[] {
  return (
    thread
      ? stmt(db, 'SELECT * FROM messages WHERE thread = ? ORDER BY clock, id').all(thread)
      : stmt(db, 'SELECT * FROM messages ORDER BY clock, id').all()
  ) as MessageRow[];
}

/** Up to `limit` messages in causal order after (clock, id) `after`, of one thread or all. */
export function messagesPage(
  db: Db,
  at: { thread: string | null; after: { clock: number; id: string } | null; limit: number },
): MessageRow[] {
  const after = at.after ?? { clock: -1, id: '' };
  return (
    at.thread
      ? stmt(
          db,
          'SELECT * FROM messages WHERE thread = @thread AND (clock > @clock OR (clock = @clock AND id > @id)) ORDER BY clock, id LIMIT @limit',
        ).all({ thread: at.thread, clock: after.clock, id: after.id, limit: at.limit })
      : stmt(
          db,
          'SELECT * FROM messages WHERE clock > @clock OR (clock = @clock AND id > @id) ORDER BY clock, id LIMIT @limit',
        ).all({ clock: after.clock, id: after.id, limit: at.limit })
  ) as MessageRow[];
}

/** The ids of a thread's messages. */
export function threadMessageIds(db: Db, thread: string): string[] {
  return (stmt(db, 'SELECT id FROM messages WHERE thread = ?').all(thread) as { id: string }[]).map((r) => r.id);
}

/** A thread's first message's body (the one whose id is the thread's, else its earliest here). */
export function threadSubject(db: Db, thread: string): string | undefined {
  const root = stmt(db, 'SELECT body FROM messages WHERE id = ?').get(thread) as { body: string } | undefined;
  if (root) return root.body;
  return (
    stmt(db, 'SELECT body FROM messages WHERE thread = ? ORDER BY clock, id LIMIT 1').get(thread) as
      { body: string } | undefined
  )?.body;
}

/** Requests, review requests and todos, oldest first (what `tasks` lists). */
export function listWork(db: Db): MessageRow[] {
  return stmt(
    db,
    "SELECT * FROM messages WHERE kind IN ('request', 'review_request', 'todo') ORDER BY clock, id",
  ).all() as MessageRow[];
}

/**
 * The newest requests (request, review_request, todo; not marked --no-reply) sent to `agent` by another that
 * `agent` has read and nobody recorded done, newest first: where work-on --auto looks for its guess.
 */
export function newestReadRequests(db: Db, agent: string, limit = 20): string[] {
  const rows = stmt(
    db,
    `SELECT m.id FROM recipients r JOIN messages m ON m.id = r.message_id
      WHERE r.agent = ? AND r.status >= 1 AND m.kind IN (${[...WORK_KINDS].map((k) => `'${k}'`).join(', ')})
        AND m.no_reply = 0 AND m.sender <> r.agent
        AND NOT EXISTS (SELECT 1 FROM task_events t WHERE t.message_id = m.id AND t.state = 'done')
      ORDER BY m.clock DESC, m.id DESC LIMIT ?`,
  ).all(agent, limit) as { id: string }[];
  return rows.map((r) => r.id);
}
