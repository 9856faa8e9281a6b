/** Commit attribution: which agent made a commit for which handoff, and the rewrites that moved commits. */
import type { AttributionEvent } from '../core/events';
import { stmt, writeTx, type Db } from './db';

export interface AttributionRow {
  commit_id: string;
  event_id: string;
  agent: string;
  human: number;
  messages: string;
  patch_id: string | null;
  clock: number;
  /** pinned, reply or guess; null for events written before links were recorded. */
  link: string | null;
  /** JSON array of the files the commit added lines to. */
  files?: string | null;
}

/**
 * Records a commit's attribution. Of two for one commit, the earlier (by clock, then event id) stands,
 * whichever was indexed first: every clone, and every rebuild, holds the same one (verify names the
 * commits that have two).
 */
export function insertAttribution(db: Db, a: AttributionRow): void {
  stmt(
    db,
    `INSERT INTO attributions (commit_id, event_id, agent, human, messages, patch_id, clock, link, files)
     VALUES (@commit_id, @event_id, @agent, @human, @messages, @patch_id, @clock, @link, @files)
     ON CONFLICT (commit_id) DO UPDATE SET
       event_id = excluded.event_id, agent = excluded.agent, human = excluded.human,
       messages = excluded.messages, patch_id = excluded.patch_id, clock = excluded.clock,
       link = excluded.link, files = excluded.files
     WHERE (excluded.clock, excluded.event_id) < (attributions.clock, attributions.event_id)`,
  ).run({ files: null, ...a });
}

/** Records that `old` became `new` (lines: JSON of which old commit each range came from, for squashes). */
export function insertRewrite(
  db: Db,
  r: { new_commit: string; old_commit: string; event_id: string; kind: string; lines: string | null },
): void {
  stmt(
    db,
    'INSERT OR IGNORE INTO rewrites (new_commit, old_commit, event_id, kind, lines) VALUES (@new_commit, @old_commit, @event_id, @kind, @lines)',
  ).run(r);
}

/** Rows of `table` for each commit that has one (keyed by commit_id). */
function byCommit<T>(db: Db, table: 'attributions' | 'commit_facts', commits: string[]): Map<string, T> {
  const q = stmt(db, `SELECT * FROM ${table} WHERE commit_id = ?`);
  const out = new Map<string, T>();
  for (const c of commits) {
    const row = q.get(c) as T | undefined;
    if (row) out.set(c, row);
  }
  return out;
}

/** Attributions of the given commits. */
export function attributionsOf(db: Db, commits: string[]): Map<string, AttributionRow> {
  return byCommit<AttributionRow>(db, 'attributions', commits);
}

/** An attribution by patch id (the newest), for commits no hook saw. */
export function attributionByPatchId(db: Db, patchId: string): AttributionRow | undefined {
  return stmt(db, 'SELECT * FROM attributions WHERE patch_id = ? ORDER BY clock DESC LIMIT 1').get(patchId) as
    AttributionRow | undefined;
}

/** Every attribution with a patch id, newest first (at most `limit`). */
export function attributionsByPatchId(db: Db, patchId: string, limit = 20): AttributionRow[] {
  return stmt(db, 'SELECT * FROM attributions WHERE patch_id = ? ORDER BY clock DESC LIMIT ?').all(
    patchId,
    limit,
  ) as AttributionRow[];
}

/** Agents' attributed commits that added lines to `file` and were recorded before `beforeClock`, newest first. */
export function agentCommitsTouching(db: Db, file: string, beforeClock: number, limit: number): AttributionRow[] {
  return stmt(
    db,
    'SELECT a.* FROM attributions a, json_each(a.files) j WHERE j.value = ? AND a.human = 0 AND a.clock <= ? ORDER BY a.clock DESC LIMIT ?',
  ).all(file, beforeClock, limit) as AttributionRow[];
}

/** Whether any agent's commit was recorded before `beforeClock`. */
export function anyAgentCommitBefore(db: Db, beforeClock: number): boolean {
  return !!stmt(db, 'SELECT 1 FROM attributions WHERE human = 0 AND clock <= ? LIMIT 1').get(beforeClock);
}

/** Commits that carry per-line records (squashes): few, so they are read in one query. */
export function commitsWithLineRecords(db: Db): Set<string> {
  return new Set(
    (
      stmt(db, 'SELECT DISTINCT new_commit FROM rewrites WHERE lines IS NOT NULL').all() as { new_commit: string }[]
    ).map((r) => r.new_commit),
  );
}

/** The commits a new commit was rewritten from. */
export function rewrittenFrom(db: Db, commit: string): { old_commit: string; kind: string; lines: string | null }[] {
  return stmt(db, 'SELECT old_commit, kind, lines FROM rewrites WHERE new_commit = ? ORDER BY old_commit').all(
    commit,
  ) as { old_commit: string; kind: string; lines: string | null }[];
}

/** The commits each of `commits` was rewritten into (amend, rebase, squash), by old commit. */
export function rewrittenInto(db: Db, commits: string[]): Map<string, string[]> {
  const q = stmt(db, 'SELECT new_commit FROM rewrites WHERE old_commit = ?');
  const out = new Map<string, string[]>();
  for (const c of commits) {
    const rows = q.all(c) as { new_commit: string }[];
    if (rows.length)
      out.set(
        c,
        rows.map((r) => r.new_commit),
      );
  }
  return out;
}

/** Attributed commits, newest first, optionally of one agent. */
/** Whether any commit is attributed to `agent` (an agent or a human). */
export function hasAttributionsBy(db: Db, agent: string): boolean {
  return stmt(db, 'SELECT 1 FROM attributions WHERE agent = ? LIMIT 1').get(agent) !== undefined;
}

export function listAttributions(db: Db, q: { agent?: string; limit: number }): AttributionRow[] {
  return stmt(
    db,
    'SELECT * FROM attributions WHERE (@agent IS NULL OR agent = @agent) ORDER BY clock DESC LIMIT @limit',
  ).all({ agent: q.agent ?? null, limit: q.limit }) as AttributionRow[];
}

export interface CommitFacts {
  commit_id: string;
  patch_id: string | null;
  trailer_agent: string | null;
  trailer_msgs: string;
  /** Number of parents; null in facts cached before it was kept. */
  parents?: number | null;
  /** Commit time in ms; null in facts cached before it was kept. */
  committed_at?: number | null;
}

/**
 * How commit facts are read from a commit (settings.commit_facts_format): 2 since a message that joins
 * several commits' differing handoff trailers names no agent. Facts cached under an earlier reading are
 * dropped (they are made again from git when asked).
 */
const COMMIT_FACTS_FORMAT = 2;

/** Cached facts of commits (a commit never changes: stale only when the reading of them changed). */
export function commitFacts(db: Db, commits: string[]): Map<string, CommitFacts> {
  const format = (
    stmt(db, "SELECT value FROM settings WHERE key = 'commit_facts_format'").get() as { value: string } | undefined
  )?.value;
  if (Number(format ?? 0) < COMMIT_FACTS_FORMAT)
    writeTx(db, () => {
      db.exec('DELETE FROM commit_facts');
      stmt(
        db,
        "INSERT INTO settings (key, value) VALUES ('commit_facts_format', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(COMMIT_FACTS_FORMAT));
    });
  return byCommit<CommitFacts>(db, 'commit_facts', commits);
}

/** Caches facts of a commit. */
export function saveCommitFacts(db: Db, f: CommitFacts): void {
  stmt(
    db,
    'INSERT OR REPLACE INTO commit_facts (commit_id, patch_id, trailer_agent, trailer_msgs, parents, committed_at) VALUES (@commit_id, @patch_id, @trailer_agent, @trailer_msgs, @parents, @committed_at)',
  ).run({ parents: null, committed_at: null, ...f });
}

export interface VerdictRow {
  id: string;
  message_id: string;
  reviewer: string;
  verdict: string;
  reviewed_commit: string | null;
  clock: number;
}

/** Records a verdict. */
export function insertVerdict(db: Db, v: VerdictRow): void {
  stmt(
    db,
    'INSERT OR IGNORE INTO verdicts (id, message_id, reviewer, verdict, reviewed_commit, clock) VALUES (@id, @message_id, @reviewer, @verdict, @reviewed_commit, @clock)',
  ).run(v);
}

/** Verdicts on a message, oldest first. */
export function verdictsOn(db: Db, messageId: string): VerdictRow[] {
  return stmt(db, 'SELECT * FROM verdicts WHERE message_id = ? ORDER BY clock, id').all(messageId) as VerdictRow[];
}

/** Every attribution whose messages include any of `ids`. */
export function attributionsForMessages(db: Db, ids: string[]): AttributionRow[] {
  const q = stmt(db, 'SELECT a.* FROM attributions a, json_each(a.messages) j WHERE j.value = ? ORDER BY a.clock');
  const seen = new Map<string, AttributionRow>();
  for (const id of ids) for (const row of q.all(id) as AttributionRow[]) seen.set(row.commit_id, row);
  return [...seen.values()].sort((a, b) => a.clock - b.clock);
}

/** Every attribution event, in causal order. */
export function attributionEvents(db: Db): AttributionEvent[] {
  const rows = stmt(db, "SELECT json FROM events WHERE type = 'attribution' ORDER BY clock, id").all() as {
    json: string;
  }[];
  return rows.map((r) => JSON.parse(r.json) as AttributionEvent);
}

/** The ledger commit of each attribution event, by event id. */
export function attributionCommits(db: Db): Map<string, string> {
  const rows = stmt(db, "SELECT id, commit_id FROM events WHERE type = 'attribution'").all() as {
    id: string;
    commit_id: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.commit_id]));
}
