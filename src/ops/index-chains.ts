/**
 * Bringing SQLite up to date with git. Every command starts here: it compares the chain tips SQLite has
 * fully indexed with the refs in git and indexes what is missing. This is what makes a crash between the
 * git write and the SQLite write lose nothing, and what picks up chains fetched by plain `git fetch`.
 */
import { listChainCommits, readChainEvents, readChainTips } from '../git/ledger-format';
import { applyEvent } from '../ledger/apply';
import { writeTx } from '../ledger/db';
import { knownTips, setKnownTip } from '../ledger/events';
import type { Context } from './context';

export interface IndexReport {
  chains: number;
  indexed: number;
  /** Chain commits whose events could not be read (reported by verify; skipped here). */
  bad: { chain: string; commit: string; reason: string }[];
  /** Chains whose ref no longer descends from the tip SQLite indexed: rewritten, not indexed. */
  rewritten: { chain: string; known: string; tip: string }[];
}

/** Indexes every chain commit that SQLite has not seen; `onProgress` is told (done, total) for long runs. */
export function indexChains(ctx: Context, onProgress?: (done: number, total: number) => void): IndexReport {
  // SQLite first, then the refs: a tip is recorded in SQLite only after its ref holds it and refs only
  // move forward, so every tip read here descends from the one SQLite knows, unless history was rewritten.
  // (The other order lets a concurrent writer advance both in between and look like a rewind.)
  const known = knownTips(ctx.db);
  const tips = readChainTips(ctx.repo);
  const report: IndexReport = { chains: 0, indexed: 0, bad: [], rewritten: [] };
  for (const [chain, tip] of tips) {
    const from = known.get(chain) ?? null;
    if (from === tip) continue;
    report.chains++;
    let commits: { commit: string; parent: string | null }[] = [];
    try {
      commits = listChainCommits(ctx.repo, tip, from);
    } catch {
      commits = []; // the remembered tip is gone from the object database: treated as a rewrite below
    }
    // Appends only ever extend a chain: the oldest new commit must sit on the tip indexed before.
    if (from && (commits.length === 0 || commits[0]!.parent !== from)) {
      report.rewritten.push({ chain, known: from, tip });
      ctx.warn(`chain ${chain} was rewritten: its tip ${tip.slice(0, 12)} does not descend from ${from.slice(0, 12)}, which was indexed before. It is not indexed; run 'handoff verify'.`);
      continue;
    }
    const BATCH = 2000;
    for (let i = 0; i < commits.length; i += BATCH) {
      const { events, bad } = readChainEvents(ctx.repo, commits.slice(i, i + BATCH));
      for (const b of bad) {
        report.bad.push({ chain, ...b });
        ctx.warn(`skipped ledger commit ${b.commit.slice(0, 12)} on chain ${chain}: ${b.reason} ('handoff verify' reports it)`);
      }
      writeTx(ctx.db, () => {
        for (const e of events) if (applyEvent(ctx.db, { chain, ...e })) report.indexed++;
      });
      onProgress?.(Math.min(i + BATCH, commits.length), commits.length);
    }
    writeTx(ctx.db, () => {
      // Only move the tip from where this run started; a concurrent process may have moved it already.
      const current = knownTips(ctx.db).get(chain) ?? null;
      if (current === from) setKnownTip(ctx.db, chain, tip, ctx.now().toISOString());
    });
  }
  return report;
}
