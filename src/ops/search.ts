/** Full-text search over message bodies, thread subjects, attached file names and attributed commits. */
import { UsageError } from '../core/errors';
import { parseWhen } from '../core/text';
import type { SearchJson } from '../json/coordination';
import { catchUpSearch } from '../ledger/apply';
import { searchIndex } from '../ledger/coordination';
import type { Context } from './context';
import { findMessage, requireKnownAgent } from './lookup';
import { latestRewrites } from './attribution';
import { unreachableFromRefs } from '../git/history';

/**
 * Runs a query in SQLite FTS5 syntax: words (all must match), "a phrase", prefix*, OR, NOT. A query that is
 * not valid FTS5 is searched as plain words. Best matches first (bm25; the body weighs most).
 */
export function search(
  ctx: Context,
  input: { query: string; from?: string; to?: string; kind?: string; since?: string; thread?: string; limit?: number },
  onIndexing?: (done: number, total: number) => void,
): SearchJson {
  const query = input.query.trim();
  if (!query) throw new UsageError('usage', 'Say what to search for: handoff search "<words>".');
  if (input.from !== undefined) requireKnownAgent(ctx, input.from, '--from');
  if (input.to !== undefined) requireKnownAgent(ctx, input.to, '--to');
  const since = input.since ? sinceTime(input.since) : undefined;
  const thread = input.thread ? findMessage(ctx, input.thread).thread : undefined;
  const filters = {
    from: input.from,
    to: input.to,
    kind: input.kind,
    since,
    thread,
    limit: input.limit === 0 ? -1 : (input.limit ?? 20),
  };
  // The index is brought up to date here, not as events arrive (ledger/apply.ts).
  catchUpSearch(ctx.db, onIndexing);
  let rows;
  try {
    rows = searchIndex(ctx.db, query, filters);
  } catch (err) {
    // SQLite's FTS5 parser reports a bad query as a plain SQLITE_ERROR ("unterminated string", "no such column").
    if ((err as { code?: string }).code !== 'SQLITE_ERROR') throw err;
    // Not FTS5 syntax (a stray quote, a colon): search the words themselves.
    const plain = (query.match(/[\p{L}\p{N}_]+/gu) ?? []).map((w) => `"${w}"`).join(' ');
    if (!plain) return { query, hits: [] };
    rows = searchIndex(ctx.db, plain, filters);
  }
  // A commit found may have been amended, rebased or squashed since, or reset away: said, as review says it.
  const commits = rows.filter((r) => r.kind === 'commit').map((r) => r.ref);
  const cwd = ctx.repo.cwd;
  const rewrites = commits.length ? latestRewrites(ctx, commits, (cs) => unreachableFromRefs(cwd, cs)) : new Map();
  const dropped = commits.length ? unreachableFromRefs(cwd, commits) : new Set<string>();
  return {
    query,
    hits: rows.map((r) => {
      const became = r.kind === 'commit' ? (rewrites.get(r.ref) ?? []).filter((c: string) => c !== r.ref) : [];
      return {
        kind: r.kind,
        id: r.ref,
        thread: r.thread,
        author: r.author,
        ts: r.ts,
        // Matches are marked **like this** (Markdown bold), which agents and terminals both read.
        snippet: r.snippet.replace(/[\u0002\u0003]/g, '**'),
        rank: r.rank,
        ...(became.length ? { rewrittenAs: became } : {}),
        ...(!became.length && dropped.has(r.ref) ? { discarded: true as const } : {}),
      };
    }),
  };
}

function sinceTime(v: string): string {
  const t = parseWhen(v);
  if (t === null)
    throw new UsageError('bad_date', `--since ${JSON.stringify(v)} is not a date (2026-12-01, or 3d, 12h).`);
  return new Date(t).toISOString();
}
