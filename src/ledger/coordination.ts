/**
 * Claims, task outcomes, reservations, status notes and full-text search in SQLite. Claim and reservation
 * events are stored as they came; the state of a key is folded from them in causal order (clock, id), so
 * every clone computes the same holder whatever order it indexed chains in.
 */
import type { ClaimEvent, ReservationEvent, TaskEvent } from '../core/events';
import { stmt, type Db } from './db';

export interface ClaimEventRow {
  id: string;
  key: string;
  action: ClaimEvent['action'];
  agent: string;
  clone: string;
  clock: number;
  ts: string;
  expires: string | null;
  ttl_ms: number | null;
  host: string | null;
  pid: number | null;
  proc_start: string | null;
  from_agent: string | null;
  reason: string | null;
  remote: string | null;
}

/** Records a claim event (idempotent). */
export function insertClaimEvent(db: Db, ev: ClaimEvent): void {
  stmt(
    db,
    `INSERT OR IGNORE INTO claim_events (id, key, action, agent, clone, clock, ts, expires, ttl_ms, host, pid, proc_start, from_agent, reason, remote)
     VALUES (@id, @key, @action, @agent, @clone, @clock, @ts, @expires, @ttl_ms, @host, @pid, @proc_start, @from_agent, @reason, @remote)`,
  ).run({
    id: ev.id,
    key: ev.key,
    action: ev.action,
    agent: ev.author.name,
    clone: ev.clone,
    clock: ev.clock,
    ts: ev.ts,
    expires: ev.expires ?? null,
    ttl_ms: ev.ttl_ms ?? null,
    host: ev.holder?.host ?? null,
    pid: ev.holder?.pid ?? null,
    proc_start: ev.holder?.start ?? null,
    from_agent: ev.from ?? null,
    reason: ev.reason ?? null,
    remote: ev.remote ?? null,
  });
}

/** A key's holder after folding its events. */
export interface ClaimHolder {
  key: string;
  agent: string;
  /** The event that made this agent the holder. */
  event: string;
  since: string;
  /** The causal clock of the claim that made this agent the holder (since): what outcomes are ordered by. */
  sinceClock: number;
  expires: string | null;
  ttl_ms: number | null;
  host: string | null;
  pid: number | null;
  proc_start: string | null;
  remote: string | null;
}

/** What folding a key's events found: the holder, claims that lost, and takeovers. */
export interface ClaimFold {
  holder: ClaimHolder | null;
  /** Claims made while someone else held the key (offline, on another clone): they lost to the holder. */
  lost: { event: string; agent: string; ts: string; winner: string }[];
  /** Claims taken over from a holder that was gone or whose lease ran out. */
  taken: { event: string; agent: string; from: string; ts: string; reason: string }[];
}

/**
 * Folds a key's events in causal order. A claim takes a free key, a key whose lease ran out before the claim,
 * or renews the claimant's own; one made while another holds the key loses (the earlier claim wins, ties by
 * id), unless a remote decided it (claim --remote) and no remote decided the holder's. A reclaim takes the
 * key from the holder it names. Release frees it; renew extends the holder's lease.
 */
export function foldClaims(
  rows: ClaimEventRow[],
  /**
   * The holder's last event up to a time (its activity renews the lease), when the lease may have run out;
   * given the lease, the last that renewed it (made while it still ran).
   */
  lastActivity?: (agent: string, upTo: string, lease?: { expiresMs: number; ttlMs: number }) => string | null,
): ClaimFold {
  const out: ClaimFold = { holder: null, lost: [], taken: [] };
  const take = (r: ClaimEventRow, since = r.ts, sinceClock = r.clock): ClaimHolder => ({
    key: r.key,
    agent: r.agent,
    event: r.id,
    since,
    sinceClock,
    expires: r.expires,
    ttl_ms: r.ttl_ms,
    host: r.host,
    pid: r.pid,
    proc_start: r.proc_start,
    remote: r.remote,
  });
  for (const r of rows) {
    const h = out.holder;
    let expired = !!h?.expires && Date.parse(r.ts) > Date.parse(h.expires);
    // The lease runs out at the later of `expires` and the holder's last event plus its ttl.
    if (expired && h!.ttl_ms && lastActivity) {
      const seen = lastActivity(h!.agent, r.ts, { expiresMs: Date.parse(h!.expires!), ttlMs: h!.ttl_ms });
      if (seen && Date.parse(seen) + h!.ttl_ms >= Date.parse(r.ts)) expired = false;
    }
    switch (r.action) {
      case 'claim':
      case 'renew':
        if (!h) out.holder = take(r);
        // The holder claiming again keeps the remote that decided its claim, if one did.
        else if (h.agent === r.agent) out.holder = { ...take(r, h.since, h.sinceClock), remote: r.remote ?? h.remote };
        else if (expired && r.action === 'claim') {
          out.taken.push({ event: r.id, agent: r.agent, from: h.agent, ts: r.ts, reason: 'expired' });
          out.holder = take(r);
        } else if (r.remote && !h.remote) {
          // The remote decided this one (claim --remote); a claim no remote saw does not outweigh it.
          out.taken.push({ event: r.id, agent: r.agent, from: h.agent, ts: r.ts, reason: `remote:${r.remote}` });
          out.holder = take(r);
        } else out.lost.push({ event: r.id, agent: r.agent, ts: r.ts, winner: h.agent });
        break;
      case 'reclaim':
        if (!h) out.holder = take(r);
        else if (h.agent === r.from_agent || h.agent === r.agent) {
          if (h.agent !== r.agent)
            out.taken.push({ event: r.id, agent: r.agent, from: h.agent, ts: r.ts, reason: r.reason ?? 'gone' });
          out.holder = take(r);
        } else if (r.remote && !h.remote) {
          // A takeover the remote decided (claim --remote), of a holder no remote decided.
          out.taken.push({ event: r.id, agent: r.agent, from: h.agent, ts: r.ts, reason: `remote:${r.remote}` });
          out.holder = take(r);
        } else out.lost.push({ event: r.id, agent: r.agent, ts: r.ts, winner: h.agent });
        break;
      case 'release':
        if (h && h.agent === r.agent) out.holder = null;
        break;
    }
  }
  return out;
}

/** When `agent` last wrote an event other than commit bookkeeping, up to `upTo` (ISO time), or null. */
export function lastActivityOf(db: Db, agent: string, upTo: string): string | null {
  // The agent's newest activity (agents.last_seen) answers when it is not later than `upTo`; only an agent
  // active since then needs the events read.
  const seen = (
    stmt(db, 'SELECT last_seen FROM agents WHERE name = ?').get(agent) as { last_seen: string | null } | undefined
  )?.last_seen;
  if (!seen) return null;
  if (seen <= upTo) return seen;
  const row = stmt(
    db,
    "SELECT max(ts) AS ts FROM events WHERE author = ? AND ts <= ? AND type NOT IN ('attribution', 'rewrite')",
  ).get(agent, upTo) as { ts: string | null };
  return row.ts;
}

/**
 * When a lease that ran out at `expiresMs` ends once `agent`'s activity renews it: each event made while the
 * lease still ran (and up to `upTo`) renews it to that event's time plus `ttlMs`. Activity after it ran out
 * does not bring it back: someone may have taken the key, or been refused on the strength of it, meanwhile.
 */
export function renewedLeaseEnd(db: Db, agent: string, expiresMs: number, ttlMs: number, upTo?: string): number {
  const seen = (
    stmt(db, 'SELECT last_seen FROM agents WHERE name = ?').get(agent) as { last_seen: string | null } | undefined
  )?.last_seen;
  if (!seen || !Number.isFinite(expiresMs)) return expiresMs;
  let end = expiresMs;
  const latest = stmt(
    db,
    "SELECT max(ts) AS ts FROM events WHERE author = ? AND ts <= ? AND type NOT IN ('attribution', 'rewrite')",
  );
  for (;;) {
    const limitIso = new Date(end).toISOString();
    const limit = upTo !== undefined && upTo < limitIso ? upTo : limitIso;
    // The newest activity overall answers when it falls within; only activity past the lease reads events.
    const t = seen <= limit ? seen : (latest.get(agent, limit) as { ts: string | null }).ts;
    const next = t ? Date.parse(t) + ttlMs : -Infinity;
    if (!(next > end)) return end;
    end = next;
  }
}

/** Every event on `key`, in causal order. */
export function claimEventsOf(db: Db, key: string): ClaimEventRow[] {
  return stmt(db, 'SELECT * FROM claim_events WHERE key = ? ORDER BY clock, id').all(key) as ClaimEventRow[];
}

/** Every key that has claim events. */
export function claimKeys(db: Db): string[] {
  return (stmt(db, 'SELECT DISTINCT key FROM claim_events ORDER BY key').all() as { key: string }[]).map((r) => r.key);
}

/**
 * Keys where `agent` took part (claimed, lost or was taken over) and another claimer did too (another agent,
 * or the same name in another clone): the ones its notices can be about, as a key only it ever claimed
 * cannot have been lost. Agent hooks ask at every turn.
 */
export function claimKeysOf(db: Db, agent: string): string[] {
  return (
    stmt(
      db,
      `SELECT key FROM claim_events WHERE key IN (SELECT key FROM claim_events WHERE agent = ? OR from_agent = ?)
         GROUP BY key HAVING COUNT(DISTINCT agent || ' ' || clone) > 1`,
    ).all(agent, agent) as { key: string }[]
  ).map((r) => r.key);
}

/** Whether `agent` was already told about the claim event `event`; marks it told. */
export function firstNotice(db: Db, event: string, agent: string): boolean {
  return stmt(db, 'INSERT OR IGNORE INTO claim_notices (event_id, agent) VALUES (?, ?)').run(event, agent).changes > 0;
}

/** Whether `agent` was told about the claim event `event` already (see firstNotice). */
export function wasNoticed(db: Db, event: string, agent: string): boolean {
  return !!stmt(db, 'SELECT 1 FROM claim_notices WHERE event_id = ? AND agent = ?').get(event, agent);
}

export interface TaskEventRow {
  id: string;
  message_id: string;
  state: TaskEvent['state'];
  agent: string;
  clock: number;
  ts: string;
}

/** Records a task outcome (idempotent). */
export function insertTaskEvent(db: Db, ev: TaskEvent): void {
  stmt(db, 'INSERT OR IGNORE INTO task_events (id, message_id, state, agent, clock, ts) VALUES (?, ?, ?, ?, ?, ?)').run(
    ev.id,
    ev.message,
    ev.state,
    ev.author.name,
    ev.clock,
    ev.ts,
  );
}

/** The latest outcome recorded for one message (by causal order), if any. */
export function latestOutcomeOf(db: Db, messageId: string): TaskEventRow | undefined {
  return stmt(db, 'SELECT * FROM task_events WHERE message_id = ? ORDER BY clock DESC, id DESC LIMIT 1').get(
    messageId,
  ) as TaskEventRow | undefined;
}

/** The latest outcome recorded for each of the messages (by causal order). */
export function latestOutcomes(db: Db): Map<string, TaskEventRow> {
  const out = new Map<string, TaskEventRow>();
  for (const r of stmt(db, 'SELECT * FROM task_events ORDER BY clock, id').all() as TaskEventRow[])
    out.set(r.message_id, r);
  return out;
}

export interface ReservationEventRow {
  id: string;
  action: 'reserve' | 'release';
  agent: string;
  patterns: string;
  exclusive: number;
  clock: number;
  ts: string;
  expires: string | null;
  host: string | null;
  pid: number | null;
  proc_start: string | null;
  reason: string | null;
}

/** Records a reservation event (idempotent). */
export function insertReservationEvent(db: Db, ev: ReservationEvent): void {
  stmt(
    db,
    `INSERT OR IGNORE INTO reservation_events (id, action, agent, patterns, exclusive, clock, ts, expires, host, pid, proc_start, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    ev.id,
    ev.action,
    ev.author.name,
    JSON.stringify(ev.patterns),
    ev.exclusive ? 1 : 0,
    ev.clock,
    ev.ts,
    ev.expires ?? null,
    ev.holder?.host ?? null,
    ev.holder?.pid ?? null,
    ev.holder?.start ?? null,
    ev.reason ?? null,
  );
}

/** One reserved pattern still standing after its agent's releases (expiry and liveness are the caller's). */
export interface Reservation {
  event: string;
  agent: string;
  pattern: string;
  exclusive: boolean;
  since: string;
  expires: string | null;
  host: string | null;
  pid: number | null;
  proc_start: string | null;
  reason: string | null;
}

/** Whether `agent` ever reserved anything exclusively (a cheap look before folding every reservation). */
export function everReservedExclusively(db: Db, agent: string): boolean {
  return (
    stmt(db, "SELECT 1 FROM reservation_events WHERE agent = ? AND exclusive = 1 AND action = 'reserve' LIMIT 1").get(
      agent,
    ) !== undefined
  );
}

/** Reservations not released, folded in causal order (a later reserve of a pattern replaces the earlier). */
export function standingReservations(db: Db): Reservation[] {
  const rows = stmt(db, 'SELECT * FROM reservation_events ORDER BY clock, id').all() as ReservationEventRow[];
  const live = new Map<string, Reservation>();
  for (const r of rows) {
    const patterns = JSON.parse(r.patterns) as string[];
    if (r.action === 'release') {
      for (const k of [...live.keys()])
        if (live.get(k)!.agent === r.agent && (patterns.length === 0 || patterns.includes(live.get(k)!.pattern)))
          live.delete(k);
      continue;
    }
    for (const pattern of patterns) {
      // Renewing an exclusive reservation that still stood keeps its place (reservations stand in the order
      // they were made); one made anew (shared before, or expired) takes its place as of now.
      const key = `${r.agent}\0${pattern}`;
      const prev = live.get(key);
      if (prev && !(prev.exclusive && r.exclusive === 1 && (!prev.expires || prev.expires > r.ts))) live.delete(key);
      live.set(key, {
        event: r.id,
        agent: r.agent,
        pattern,
        exclusive: r.exclusive === 1,
        since: r.ts,
        expires: r.expires,
        host: r.host,
        pid: r.pid,
        proc_start: r.proc_start,
        reason: r.reason,
      });
    }
  }
  return [...live.values()];
}

/** Sets an agent's status note (an empty note clears it). */
export function setAgentNote(db: Db, name: string, note: string, ts: string): void {
  stmt(db, 'UPDATE agents SET note = ?, note_ts = ? WHERE name = ?').run(note || null, note ? ts : null, name);
}

/** Adds a document to the full-text index. */
export function indexForSearch(
  db: Db,
  doc: {
    body: string;
    subject: string;
    files: string;
    kind: string;
    ref: string;
    thread: string | null;
    author: string;
    ts: string;
    clock: number;
  },
): void {
  stmt(
    db,
    'INSERT INTO search (body, subject, files, kind, ref, thread, author, ts, clock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(doc.body, doc.subject, doc.files, doc.kind, doc.ref, doc.thread, doc.author, doc.ts, doc.clock);
}

export interface SearchRow {
  kind: string;
  ref: string;
  thread: string | null;
  author: string;
  ts: string;
  snippet: string;
  rank: number;
}

/**
 * Runs an FTS5 query (phrases in quotes, prefix*), best first by bm25 (the body weighs most), with a
 * highlighted snippet (the match between \u0002 and \u0003, for the printer to style). Filters narrow it.
 */
export function searchIndex(
  db: Db,
  query: string,
  f: { from?: string; kind?: string; thread?: string; since?: string; limit: number; to?: string },
): SearchRow[] {
  const where = ['search MATCH @query'];
  if (f.from) where.push('author = @from');
  if (f.kind) where.push('kind = @kind');
  if (f.thread) where.push('thread = @thread');
  if (f.since) where.push('ts >= @since');
  if (f.to) where.push('ref IN (SELECT message_id FROM recipients WHERE agent = @to)');
  // A reply carries its thread's subject, which ranks the thread's messages; but a reply that matches by
  // the subject alone says nothing the thread's first message does not: only that one is a hit then.
  const rows = stmt(
    db,
    `SELECT kind, ref, thread, author, ts,
            snippet(search, -1, char(2), char(3), '…', 12) AS snippet,
            snippet(search, 0, char(2), char(3), '…', 12) AS body_snippet,
            instr(highlight(search, 0, char(2), char(3)), char(2)) > 0 AS in_body,
            instr(highlight(search, 2, char(2), char(3)), char(2)) > 0 AS in_files,
            bm25(search, 10.0, 4.0, 2.0) AS rank
       FROM search WHERE ${where.join(' AND ')}
      ORDER BY rank LIMIT @limit`,
  ).all({
    query,
    from: f.from,
    kind: f.kind,
    thread: f.thread,
    since: f.since,
    to: f.to,
    limit: f.limit < 0 ? -1 : f.limit * 4 + 20,
  }) as (SearchRow & { body_snippet: string; in_body: number; in_files: number })[];
  const out: SearchRow[] = [];
  for (const r of rows) {
    const reply = r.kind !== 'commit' && r.thread !== null && r.ref !== r.thread;
    if (reply && !r.in_body && !r.in_files) continue;
    out.push({
      kind: r.kind,
      ref: r.ref,
      thread: r.thread,
      author: r.author,
      ts: r.ts,
      snippet: r.in_body ? r.body_snippet : r.snippet,
      rank: r.rank,
    });
    if (f.limit >= 0 && out.length >= f.limit) break;
  }
  return out;
}
