/** The agents table: everyone who joined, was registered by a sender, or wrote an event. */
import { stmt, type Db } from './db';

export interface AgentRow {
  name: string;
  runtime: string | null;
  team: string | null;
  role: string | null;
  status: 'active' | 'left' | 'registered';
  joined_at: string | null;
  left_at: string | null;
  last_seen: string | null;
  note?: string | null;
  note_ts?: string | null;
}

/** Applies a join: the agent is active with the given team, role and runtime. */
export function upsertJoin(
  db: Db,
  a: { name: string; runtime: string | null; team: string | null; role: string | null; ts: string },
): void {
  stmt(
    db,
    `INSERT INTO agents (name, runtime, team, role, status, joined_at, last_seen)
     VALUES (@name, @runtime, @team, @role, 'active', @ts, @ts)
     ON CONFLICT (name) DO UPDATE SET
       runtime = coalesce(excluded.runtime, agents.runtime),
       team = excluded.team, role = excluded.role,
       status = CASE WHEN agents.left_at IS NOT NULL AND agents.left_at > excluded.joined_at THEN agents.status ELSE 'active' END,
       joined_at = excluded.joined_at,
       last_seen = max(coalesce(agents.last_seen, ''), excluded.last_seen)`,
  ).run(a);
}

/** Applies a leave (ignored when a later join is already applied). */
export function markLeft(db: Db, name: string, ts: string): void {
  stmt(
    db,
    `INSERT INTO agents (name, status, left_at, last_seen) VALUES (?, 'left', ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       status = CASE WHEN coalesce(agents.joined_at, '') > excluded.left_at THEN agents.status ELSE 'left' END,
       left_at = excluded.left_at`,
  ).run(name, ts, ts);
}

/**
 * What the current transaction already wrote of each agent, kept while a whole ledger is indexed (every
 * event touches its author): a registration already made is not made again, and an author's later times
 * are kept here and written once, when the transaction ends (last_seen is a maximum, so nothing in between
 * depends on it). Set and ended around one transaction (ops/index-chains.ts): after a rollback it is
 * dropped, unwritten.
 */
interface AgentMemo {
  /** The latest time seen, whether the row's runtime is known to be set, and a time still to write. */
  touched: Map<string, { ts: string; runtime: boolean; pending: string | null }>;
  known: Set<string>;
}
const memos = new WeakMap<Db, AgentMemo>();

/** Starts an agent memo for the transaction just begun (see AgentMemo). */
export function beginAgentMemo(db: Db): void {
  memos.set(db, { touched: new Map(), known: new Set() });
}

/** Ends it: before the transaction commits, with `write` (the times kept are written), or at a rollback. */
export function endAgentMemo(db: Db, write: boolean): void {
  const memo = memos.get(db);
  if (memo && write) {
    const update = stmt(db, `UPDATE agents SET last_seen = max(coalesce(last_seen, ''), ?) WHERE name = ?`);
    for (const [name, t] of memo.touched) if (t.pending !== null) update.run(t.pending, name);
  }
  memos.delete(db);
}

/** Registers an agent that has not joined yet (an offline mailbox); no effect on a known agent. */
export function ensureRegistered(db: Db, name: string): void {
  const memo = memos.get(db);
  if (memo?.known.has(name)) return;
  stmt(db, `INSERT OR IGNORE INTO agents (name, status) VALUES (?, 'registered')`).run(name);
  memo?.known.add(name);
}

/** Notes that an agent wrote an event at `ts`, registering it as active when it was unknown. */
export function touchAgent(db: Db, name: string, runtime: string | null, ts: string): void {
  const memo = memos.get(db);
  const had = memo?.touched.get(name);
  // Touched already in this transaction, and its runtime set (or none given): only the time can change.
  if (had && (had.runtime || runtime === null)) {
    if (ts > had.ts) had.ts = had.pending = ts;
    return;
  }
  stmt(
    db,
    `INSERT INTO agents (name, runtime, status, joined_at, last_seen) VALUES (?, ?, 'active', ?, ?)
     ON CONFLICT (name) DO UPDATE SET
       last_seen = max(coalesce(agents.last_seen, ''), excluded.last_seen),
       runtime = coalesce(agents.runtime, excluded.runtime),
       status = CASE WHEN agents.status = 'registered' THEN 'active' ELSE agents.status END`,
  ).run(name, runtime, ts, ts);
  // Noted once the row is written.
  if (memo) {
    memo.touched.set(name, {
      ts: had && had.ts > ts ? had.ts : ts,
      runtime: !!had?.runtime || runtime !== null,
      pending: had?.pending ?? null,
    });
    memo.known.add(name);
  }
}

/** One agent, or undefined. */
export function getAgent(db: Db, name: string): AgentRow | undefined {
  return stmt(db, 'SELECT * FROM agents WHERE name = ?').get(name) as AgentRow | undefined;
}

/** Every agent, by name. */
export function listAgents(db: Db): AgentRow[] {
  return stmt(db, 'SELECT * FROM agents ORDER BY name').all() as AgentRow[];
}

/** Agents whose team or role is `group` (for @group addresses), excluding those who left. */
export function agentsInGroup(db: Db, group: string): AgentRow[] {
  return stmt(db, `SELECT * FROM agents WHERE (team = ? OR role = ?) AND status != 'left' ORDER BY name`).all(
    group,
    group,
  ) as AgentRow[];
}
