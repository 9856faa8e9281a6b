/** The events table (every event, raw) and the chain tips this database has fully indexed. */
import { stmt, type Db } from './db';

export interface EventRow {
  seq: number;
  id: string;
  chain: string;
  commit_id: string;
  parent_commit: string | null;
  type: string;
  ts: string;
  clock: number;
  author: string;
  json: string;
}

/** Inserts an event; returns false when an event with that id is already indexed. */
export function insertEvent(db: Db, row: Omit<EventRow, 'seq'>): boolean {
  // Positional parameters: binding by name looks each one up, a quarter of the insert (a whole-ledger index
  // makes one per event).
  const res = stmt(
    db,
    `INSERT OR IGNORE INTO events (id, chain, commit_id, parent_commit, type, ts, clock, author, json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(row.id, row.chain, row.commit_id, row.parent_commit, row.type, row.ts, row.clock, row.author, row.json);
  return res.changes === 1;
}

export interface QuarantineRow {
  chain: string;
  commit_id: string;
  reason: string;
  tip: string;
  retry_after: number | null;
}

/** Chains held back at a commit (a bad event, or one dated in the future). */
export function quarantined(db: Db): QuarantineRow[] {
  return stmt(db, 'SELECT * FROM quarantine ORDER BY chain').all() as QuarantineRow[];
}

/** Holds a chain back at `commit_id`; true when this is news (not already recorded for the same tip). */
export function quarantine(db: Db, q: QuarantineRow): boolean {
  const old = stmt(db, 'SELECT * FROM quarantine WHERE chain = ?').get(q.chain) as QuarantineRow | undefined;
  stmt(
    db,
    'INSERT OR REPLACE INTO quarantine (chain, commit_id, reason, tip, retry_after) VALUES (@chain, @commit_id, @reason, @tip, @retry_after)',
  ).run(q);
  return !old || old.commit_id !== q.commit_id;
}

/** Lets a chain be indexed again. */
export function releaseQuarantine(db: Db, chain: string): void {
  stmt(db, 'DELETE FROM quarantine WHERE chain = ?').run(chain);
}

/** Records an event that reused an indexed event's id. */
export function insertDuplicate(db: Db, d: { id: string; chain: string; commit_id: string }): boolean {
  return (
    stmt(db, 'INSERT OR IGNORE INTO duplicates (id, chain, commit_id) VALUES (@id, @chain, @commit_id)').run(d)
      .changes === 1
  );
}

/** Every recorded duplicate, with the commit that holds the id. */
export function duplicates(
  db: Db,
): { id: string; chain: string; commit_id: string; kept_chain: string; kept_commit: string }[] {
  return stmt(
    db,
    'SELECT d.id, d.chain, d.commit_id, e.chain AS kept_chain, e.commit_id AS kept_commit FROM duplicates d JOIN events e ON e.id = d.id ORDER BY d.id',
  ).all() as {
    id: string;
    chain: string;
    commit_id: string;
    kept_chain: string;
    kept_commit: string;
  }[];
}

/** The commit that holds an indexed event id, or null. */
export function commitOfEvent(db: Db, id: string): string | null {
  return (
    (stmt(db, 'SELECT commit_id FROM events WHERE id = ?').get(id) as { commit_id: string } | undefined)?.commit_id ??
    null
  );
}

/** The logical clock of the event committed as `commit`, if indexed. */
export function clockOfCommit(db: Db, commit: string): number | undefined {
  return (stmt(db, 'SELECT clock FROM events WHERE commit_id = ?').get(commit) as { clock: number } | undefined)?.clock;
}

/** Records that event `eventId` (on chain `witness`, at logical clock `clock`) witnessed `chain` at `tip`. */
export function insertWitness(
  db: Db,
  w: { eventId: string; witness: string; clock: number; chain: string; tip: string },
): void {
  stmt(db, 'INSERT OR IGNORE INTO witnesses (event_id, chain, tip) VALUES (@eventId, @chain, @tip)').run(w);
  stmt(
    db,
    `INSERT INTO last_witness (witness, chain, tip, clock) VALUES (@witness, @chain, @tip, @clock)
     ON CONFLICT (witness, chain) DO UPDATE SET tip = excluded.tip, clock = excluded.clock WHERE excluded.clock > last_witness.clock`,
  ).run(w);
}

/** Every distinct (chain, tip) that some event witnessed. */
export function allWitnesses(db: Db): { chain: string; tip: string; event_id: string }[] {
  return stmt(db, 'SELECT chain, tip, min(event_id) AS event_id FROM witnesses GROUP BY chain, tip').all() as {
    chain: string;
    tip: string;
    event_id: string;
  }[];
}

/** Every witnessed tip with the chain whose event witnessed it. */
export function allWitnessRows(db: Db): { chain: string; tip: string; witness: string }[] {
  return stmt(
    db,
    'SELECT w.chain, w.tip, min(e.chain) AS witness FROM witnesses w JOIN events e ON e.id = w.event_id GROUP BY w.chain, w.tip',
  ).all() as {
    chain: string;
    tip: string;
    witness: string;
  }[];
}

/** What the chain `witness` last recorded of each other chain (the newest witness per chain). */
export function lastWitnessedBy(db: Db, witness: string): Map<string, string> {
  const rows = stmt(db, 'SELECT chain, tip FROM last_witness WHERE witness = ?').all(witness) as {
    chain: string;
    tip: string;
  }[];
  return new Map(rows.map((r) => [r.chain, r.tip]));
}

/** Every event id in SQLite with its chain. */
export function eachEventId(db: Db): IterableIterator<string> {
  // Ids only, as plain strings: an object per row of a 100,000-event ledger is a tenth of verify.
  return stmt(db, 'SELECT id FROM events').pluck().iterate() as IterableIterator<string>;
}

/** Where an indexed event is: its chain and commit. */
export function placeOfEvent(db: Db, id: string): { chain: string; commit_id: string } | undefined {
  return stmt(db, 'SELECT chain, commit_id FROM events WHERE id = ?').get(id) as
    { chain: string; commit_id: string } | undefined;
}

/** Every tip of `chain` that an indexed event witnessed. */
export function witnessedTips(db: Db, chain: string): string[] {
  return stmt(db, 'SELECT DISTINCT tip FROM witnesses WHERE chain = ?').pluck().all(chain) as string[];
}

/** The chain whose indexed event `commit` is, if it is one. */
export function chainOfCommit(db: Db, commit: string): string | undefined {
  return stmt(db, 'SELECT chain FROM events WHERE commit_id = ?').pluck().get(commit) as string | undefined;
}

/** Number of indexed events (per type when given). */
export function countEvents(db: Db, type?: string): number {
  const row = type
    ? (stmt(db, 'SELECT count(*) AS n FROM events WHERE type = ?').get(type) as { n: number })
    : (stmt(db, 'SELECT count(*) AS n FROM events').get() as { n: number });
  return row.n;
}

/** The tip of each chain up to which every event is indexed. */
export function knownTips(db: Db): Map<string, string> {
  const rows = stmt(db, 'SELECT clone_id, tip FROM chains').all() as { clone_id: string; tip: string }[];
  return new Map(rows.map((r) => [r.clone_id, r.tip]));
}

/** Records that every event of `chain` up to `tip` is indexed. */
export function setKnownTip(db: Db, chain: string, tip: string, now: string): void {
  stmt(
    db,
    `INSERT INTO chains (clone_id, tip, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (clone_id) DO UPDATE SET tip = excluded.tip, updated_at = excluded.updated_at`,
  ).run(chain, tip, now);
}

/**
 * Moves a chain's known tip forward over events that are indexed and directly follow it. Writers of one
 * clone may index their events out of order; the tip only ever covers a gap-free prefix of the chain.
 */
export function advanceKnownTip(db: Db, chain: string, now: string): string | null {
  const start = knownTips(db).get(chain) ?? null;
  let tip = start;
  const next = stmt(db, 'SELECT commit_id FROM events WHERE chain = ? AND parent_commit IS ?');
  for (;;) {
    const row = next.get(chain, tip) as { commit_id: string } | undefined;
    if (!row) break;
    tip = row.commit_id;
  }
  if (tip && tip !== start) setKnownTip(db, chain, tip, now);
  return tip;
}

/** Each author's newest event's commit (by clock). */
export function newestCommitByAuthor(db: Db): Map<string, string> {
  const rows = stmt(db, 'SELECT author, commit_id, max(clock) FROM events GROUP BY author').all() as {
    author: string;
    commit_id: string;
  }[];
  return new Map(rows.map((r) => [r.author, r.commit_id]));
}

/** An indexed event's JSON by id (undefined when not indexed). */
export function eventJson(db: Db, id: string): string | undefined {
  return (stmt(db, 'SELECT json FROM events WHERE id = ?').get(id) as { json: string } | undefined)?.json;
}
