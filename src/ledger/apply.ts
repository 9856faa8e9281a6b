/**
 * The projection of events onto tables. Every event reaches SQLite through applyEvent, whether it was
 * just written by this process, found on a chain after a crash, or fetched from another clone, so the
 * tables are always a function of the set of events. Order between events does not matter.
 */
import { canonicalJson, type LedgerEvent } from '../core/events';
import { ensureRegistered, markLeft, touchAgent, upsertJoin } from './agents';
import { stmt, writeTx, type Db } from './db';
import { commitOfEvent, insertDuplicate, insertEvent, insertWitness } from './events';
import { applyReceipt, getMessage, insertMessage } from './messages';
import {
  indexForSearch,
  insertClaimEvent,
  insertReservationEvent,
  insertTaskEvent,
  setAgentNote,
} from './coordination';
import { insertAttribution, insertRewrite, insertVerdict } from './attributions';

export interface IndexedEvent {
  chain: string;
  commit: string;
  parent: string | null;
  event: LedgerEvent;
  body: string | null;
  /**
   * The event's JSON as read from git (event.json without its final newline), stored as it is: it parses
   * to `event`, and for every event handoff writes it is canonicalJson(event) already. Absent, it is made.
   */
  json?: string;
}

/** Indexes one event (idempotent: an event already indexed changes nothing). Call inside a transaction. */
export function applyEvent(db: Db, e: IndexedEvent): boolean {
  const ev = e.event;
  const fresh = insertEvent(db, {
    id: ev.id,
    chain: e.chain,
    commit_id: e.commit,
    parent_commit: e.parent,
    type: ev.type,
    ts: ev.ts,
    clock: ev.clock,
    author: ev.author.name,
    json: e.json ?? canonicalJson(ev),
  });
  if (!fresh) {
    // The id is taken. The same commit again is a no-op; another commit reusing the id is a duplicate:
    // what was indexed first stands, and the duplicate is recorded for sync and verify to report.
    if (commitOfEvent(db, ev.id) !== e.commit) insertDuplicate(db, { id: ev.id, chain: e.chain, commit_id: e.commit });
    return false;
  }
  for (const [chain, tip] of Object.entries(ev.seen ?? {}))
    insertWitness(db, { eventId: ev.id, witness: e.chain, clock: ev.clock, chain, tip });
  // Commit bookkeeping made by hooks is not a sign of life of an agent (and humans are not agents).
  if (ev.type !== 'attribution' && ev.type !== 'rewrite') touchAgent(db, ev.author.name, ev.author.runtime, ev.ts);
  APPLY[ev.type](db, ev as never, e);
  return true;
}

/** Where each event type is indexed (docs/architecture.md lists them). */
const APPLY: { [T in LedgerEvent['type']]: (db: Db, ev: Extract<LedgerEvent, { type: T }>, e: IndexedEvent) => void } =
  {
    agent: applyAgent,
    message: applyMessage,
    receipt: applyReceipts,
    attribution: applyAttribution,
    verdict: applyVerdict,
    rewrite: applyRewrite,
    claim: (db, ev) => insertClaimEvent(db, ev),
    task: applyTask,
    reservation: (db, ev) => insertReservationEvent(db, ev),
  };

/** An agent joined, left, or is named for the first time. */
function applyAgent(db: Db, ev: Extract<LedgerEvent, { type: 'agent' }>): void {
  // An agent joins, leaves and sets its note itself: one of these naming another agent (which handoff
  // never writes) changes nothing. Registering another is what a message to it does.
  if (ev.action !== 'register' && ev.name !== ev.author.name) return;
  if (ev.action === 'join')
    upsertJoin(db, { name: ev.name, runtime: ev.runtime, team: ev.team, role: ev.role, ts: ev.ts });
  else if (ev.action === 'leave') markLeft(db, ev.name, ev.ts);
  else ensureRegistered(db, ev.name);
  if (ev.action === 'status') setAgentNote(db, ev.name, ev.note ?? '', ev.ts);
}

/** A message: its row and one recipient row per addressee. */
function applyMessage(db: Db, ev: Extract<LedgerEvent, { type: 'message' }>, e: IndexedEvent): void {
  for (const name of ev.to) ensureRegistered(db, name);
  insertMessage(
    db,
    {
      id: ev.id,
      thread: ev.thread,
      reply_to: ev.reply_to,
      sender: ev.author.name,
      address: ev.address,
      recipients: ev.to.join(','),
      kind: ev.kind,
      priority: ev.priority,
      ts: ev.ts,
      clock: ev.clock,
      body: e.body ?? '',
      commit_id: e.commit,
      diff_base: ev.diff?.base ?? null,
      diff_tree: ev.diff?.snapshot ?? null,
      diff_files: ev.diff?.files ?? null,
      excluded: ev.diff ? JSON.stringify(ev.diff.excluded) : null,
      no_reply: ev.no_reply ? 1 : 0,
    },
    ev.to,
  );
}

/** Read and ack receipts of messages. */
function applyReceipts(db: Db, ev: Extract<LedgerEvent, { type: 'receipt' }>): void {
  for (const id of ev.messages) applyReceipt(db, id, ev.author.name, ev.status, ev.ts);
}

/** The agent and handoff behind a commit. */
function applyAttribution(db: Db, ev: Extract<LedgerEvent, { type: 'attribution' }>): void {
  insertAttribution(db, {
    commit_id: ev.commit,
    event_id: ev.id,
    agent: ev.agent,
    human: ev.human ? 1 : 0,
    messages: JSON.stringify(ev.messages),
    patch_id: ev.patch_id,
    clock: ev.clock,
    link: ev.messages.length ? (ev.link ?? 'pinned') : null,
    files: JSON.stringify(Object.keys(ev.files)),
  });
}

/** A review verdict, which also reaches the handoff's author as a message in its thread. */
function applyVerdict(db: Db, ev: Extract<LedgerEvent, { type: 'verdict' }>, e: IndexedEvent): void {
  insertVerdict(db, {
    id: ev.id,
    message_id: ev.message,
    reviewer: ev.author.name,
    verdict: ev.verdict,
    reviewed_commit: ev.reviewed_commit,
    clock: ev.clock,
  });
  // The handoff's author gets the verdict in their inbox, in the handoff's thread.
  deliverInThread(db, ev, e, {
    kind: 'review_response',
    urgent: ev.verdict === 'request_changes',
    body: e.body ?? `[${ev.verdict}]`,
  });
}

/** A verdict or outcome as a message to `ev.to`, in the thread of the message it is about. */
function deliverInThread(
  db: Db,
  ev: Extract<LedgerEvent, { type: 'verdict' | 'task' }>,
  e: IndexedEvent,
  m: { kind: 'review_response' | 'status'; urgent: boolean; body: string },
): void {
  for (const name of ev.to) ensureRegistered(db, name);
  insertMessage(
    db,
    {
      id: ev.id,
      thread: ev.thread,
      reply_to: ev.message,
      sender: ev.author.name,
      address: ev.to.join(','),
      recipients: ev.to.join(','),
      kind: m.kind,
      priority: m.urgent ? 'urgent' : 'normal',
      ts: ev.ts,
      clock: ev.clock,
      body: m.body,
      commit_id: e.commit,
      diff_base: null,
      diff_tree: null,
      diff_files: null,
      excluded: null,
    },
    ev.to,
  );
}

/** Commits rewritten by amend, rebase or squash, with per-line owners of a squash. */
function applyRewrite(db: Db, ev: Extract<LedgerEvent, { type: 'rewrite' }>): void {
  for (const p of ev.pairs) {
    const lines = ev.lines?.[p.new];
    insertRewrite(db, {
      new_commit: p.new,
      old_commit: p.old,
      event_id: ev.id,
      kind: ev.kind,
      lines: lines ? JSON.stringify(lines) : null,
    });
  }
}

/** A request's outcome, which also reaches the request's sender as a status message in its thread. */
function applyTask(db: Db, ev: Extract<LedgerEvent, { type: 'task' }>, e: IndexedEvent): void {
  insertTaskEvent(db, ev);
  const body = e.body ?? `[${ev.state}]`;
  deliverInThread(db, ev, e, { kind: 'status', urgent: ev.state !== 'done', body });
}

/**
 * The event types the full-text index holds: messages, task outcomes and review verdicts (each with the text
 * of the message it reaches its recipients as) and commits.
 */
const SEARCHED = "('message', 'task', 'verdict', 'attribution')";
/**
 * What the full-text index holds (settings.search_format): 2 since verdicts are in it. An index made before
 * is made again at the next search.
 */
const SEARCH_FORMAT = 2;
/** Events read at a time while the full-text index is brought up to date. */
const SEARCH_BATCH = 2000;

/**
 * Brings the full-text index up to date with the events indexed since it last was (settings.search_indexed_seq
 * is the last events.seq it holds), a batch per transaction (a writer waits at most one batch); returns how
 * many documents it added. `onProgress` hears (done, total) after each batch. Searching calls this, not
 * applyEvent: the index costs each event about a third of its SQLite pages (7 of 23 for a message), which
 * every send, sync and rebuild paid for a search that may never come. A thread's subject is its first
 * message's first line, as it stands when the index is brought up to date. A process of an earlier handoff
 * that was running when the database was upgraded goes on adding each event it writes to the index: rows
 * past settings.search_indexed_rowid are such, and their events are not added again.
 */
export function catchUpSearch(db: Db, onProgress?: (done: number, total: number) => void): number {
  const setting = (key: string) =>
    Number(
      (stmt(db, 'SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? 0,
    );
  const save = stmt(
    db,
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  if (setting('search_format') < SEARCH_FORMAT)
    writeTx(db, () => {
      if (setting('search_format') >= SEARCH_FORMAT) return; // made again by another process meanwhile
      db.exec('DELETE FROM search');
      save.run('search_indexed_seq', '0');
      save.run('search_indexed_rowid', '0');
      save.run('search_format', String(SEARCH_FORMAT));
    });
  const last = () => (stmt(db, 'SELECT MAX(seq) AS n FROM events').get() as { n: number | null }).n ?? 0;
  const to = last();
  if (to <= setting('search_indexed_seq')) return 0;
  const total = onProgress
    ? (
        stmt(db, `SELECT count(*) AS n FROM events WHERE seq > ? AND seq <= ? AND type IN ${SEARCHED}`).get(
          setting('search_indexed_seq'),
          to,
        ) as { n: number }
      ).n
    : 0;
  const page = stmt(
    db,
    `SELECT e.seq, e.type, e.json, m.body FROM events e LEFT JOIN messages m ON m.id = e.id
      WHERE e.seq > ? AND e.seq <= ? AND e.type IN ${SEARCHED} ORDER BY e.seq LIMIT ${SEARCH_BATCH}`,
  );
  let added = 0;
  for (let done = false; !done;) {
    done = writeTx(db, () => {
      // Read again under the write lock: another search may have brought it further meanwhile.
      const from = setting('search_indexed_seq');
      if (from >= to) return true;
      const foreign = new Set(
        stmt(db, 'SELECT ref FROM search WHERE rowid > ?').pluck().all(setting('search_indexed_rowid')) as string[],
      );
      const rows = page.all(from, to) as { seq: number; type: string; json: string; body: string | null }[];
      for (const r of rows) {
        const ev = JSON.parse(r.json) as LedgerEvent;
        if (foreign.has(ev.type === 'attribution' ? ev.commit : ev.id)) continue;
        if (ev.type === 'attribution') {
          indexForSearch(db, {
            body: ev.subject ?? '',
            subject: ev.subject ?? '',
            files: Object.keys(ev.files).join(' '),
            kind: 'commit',
            ref: ev.commit,
            thread: ev.messages[0] ?? null,
            author: ev.agent,
            ts: ev.ts,
            clock: ev.clock,
          });
        } else if (ev.type === 'message') {
          const paths = ev.diff?.paths ?? [];
          indexMessageText(db, ev.id, ev.thread, ev.kind, ev.author.name, ev.ts, ev.clock, r.body ?? '', paths);
        } else if (ev.type === 'task') {
          const body = r.body ?? `[${ev.state}]`;
          indexMessageText(db, ev.id, ev.thread, 'status', ev.author.name, ev.ts, ev.clock, body, []);
        } else if (ev.type === 'verdict') {
          const body = r.body ?? `[${ev.verdict}]`;
          indexMessageText(db, ev.id, ev.thread, 'review_response', ev.author.name, ev.ts, ev.clock, body, []);
        } else continue;
        added++;
      }
      const reached = rows.length < SEARCH_BATCH ? to : rows[rows.length - 1]!.seq;
      save.run('search_indexed_seq', String(reached));
      const top =
        (stmt(db, 'SELECT rowid AS n FROM search ORDER BY rowid DESC LIMIT 1').get() as { n: number } | undefined)?.n ??
        0;
      save.run('search_indexed_rowid', String(top));
      return reached >= to;
    });
    onProgress?.(added, total);
  }
  return added;
}

/** Adds a message to the full-text index, with its thread's subject and the paths of its diff. */
function indexMessageText(
  db: Db,
  id: string,
  thread: string,
  kind: string,
  author: string,
  ts: string,
  clock: number,
  body: string,
  paths: string[],
): void {
  const root = thread === id ? null : getMessage(db, thread);
  const subject = (root?.body ?? body).split('\n', 1)[0]!.slice(0, 200);
  indexForSearch(db, { body, subject, files: paths.join(' '), kind, ref: id, thread, author, ts, clock });
}
