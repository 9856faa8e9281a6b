/**
 * Verify: walks every chain and checks that the ledger is whole and unaltered (docs/ledger-format.md, "Verify"):
 * every commit parses, ids are unique, clocks and parents are consistent, attached snapshots are present,
 * SQLite holds exactly what git holds, and no tip this clone knew or saw witnessed was rewritten.
 */
import path from 'node:path';
import { CHAIN_PREFIX, fromFirstEvent, streamChainEvents } from '../git/ledger-format';
import { allowedSignersConfigured, chainCommitsWithSignatures, type CommitSignature } from '../git/signatures';
import { readRefs, removeDeadMarks } from '../git/refs';
import { allWitnesses, commitOfEvent, eachEventId, knownTips, placeOfEvent, quarantined } from '../ledger/events';
import type { Context } from './context';
import type { ChainSignatures, VerifyJson, VerifyProblem } from '../json/sync';
import { commitExists, objectsExist, replacedObjects } from '../git/history';

/** What walking the chains found, for the checks that follow. */
interface Walk {
  problems: VerifyProblem[];
  /** Each chain's commits, with each one's event clock (-1 where the commit is no readable event). */
  onChain: Map<string, Map<string, number>>;
  /** The commit of each event id in git (the copy shown, for a duplicate). */
  idsInGit: Map<string, string>;
  /** Commits of quarantined chains, which SQLite does not hold on purpose. */
  notIndexed: Set<string>;
  diffs: { chain: string; commit: string; event: string; base: string; snapshot: string; second: string | null }[];
  witnessChecks: { chain: string; commit: string; event: string; clock: number; seen: Record<string, string> }[];
  /** The agents each commit is attributed to, by attribution event. */
  attributed: Map<string, { agent: string; chain: string; event: string; clock: number }[]>;
  events: number;
  signatures: ChainSignatures[];
  repo: Context['repo'];
  /** Whether a commit exists in this repository (cached). */
  present: (commit: string) => boolean;
  /** Looks up many commits for present() at once (one git process). */
  prefetch: (commits: string[]) => void;
}

/** Checks the whole ledger; never throws for a problem found, only lists it. */
export async function verify(
  ctx: Context,
  opts: { requireSigned?: boolean; deep?: boolean } = {},
): Promise<VerifyJson> {
  // A chain ref's lock left by a writer killed mid-append (git gc would say it cannot lock the ref) and the
  // scratch files of killed processes go first.
  if (!ctx.readOnly) removeDeadMarks(ctx.repo.commonDir);
  // What SQLite holds is read before the refs (see indexChains): concurrent writers only add to the refs.
  // One read transaction keeps that view to the end, so its events can be read row by row at the end.
  ctx.db.exec('BEGIN');
  try {
    const before = { tips: knownTips(ctx.db), witnesses: allWitnesses(ctx.db) };
    const chains = new Map<string, string>();
    for (const [ref, tip] of readRefs(ctx.repo, CHAIN_PREFIX)) chains.set(ref.slice(CHAIN_PREFIX.length), tip);
    const w = await walkChains(ctx, chains, opts.requireSigned ?? false);
    checkSnapshots(ctx.repo.cwd, w);
    checkWitnesses(w);
    checkAttributions(w);
    checkIndexed(
      w,
      before,
      () => eachEventId(ctx.db),
      (id) => placeOfEvent(ctx.db, id),
    );
    checkReplaced(ctx.repo.cwd, w);
    if (opts.deep) checkDatabaseFile(ctx, w);
    return {
      ok: w.problems.length === 0,
      chains: chains.size,
      events: w.events,
      problems: w.problems,
      signatures: w.signatures,
    };
  } finally {
    // Only read: a damaged file may refuse even the end of it (--deep has said so).
    try {
      if (ctx.db.inTransaction) ctx.db.exec('COMMIT');
    } catch {
      try {
        if (ctx.db.inTransaction) ctx.db.exec('ROLLBACK');
      } catch {
        /* nothing was written */
      }
    }
  }
}

/**
 * --deep: every page of the SQLite file, read back (PRAGMA integrity_check, about 1 s at 100,000 events).
 * The comparison with git reads the events' rows only; a damaged page elsewhere (a message body) shows
 * when a command reads it, which then sets the file aside to be rebuilt.
 */
function checkDatabaseFile(ctx: Context, w: Walk): void {
  let found: string[];
  try {
    found = (ctx.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } catch (err) {
    found = [(err as Error).message];
  }
  if (found.length === 1 && found[0] === 'ok') return;
  w.problems.push({
    code: 'sqlite_damaged',
    message: `The SQLite ledger ${path.join(ctx.dataDir, 'ledger.db')} is damaged (${found.slice(0, 3).join('; ')}${found.length > 3 ? `; ${found.length - 3} more` : ''}). Run 'handoff rebuild': it is rebuilt from the git ledger.`,
  });
}

/** The chain a commit is on (for messages about it). */
function chainOf(w: Walk, commit: string): string {
  for (const [chain, on] of w.onChain) if (on.has(commit)) return chain;
  return '';
}

/** Reads every event of every chain: each parses, belongs to its chain, has a later clock and sane parents. */
async function walkChains(ctx: Context, chains: Map<string, string>, requireSigned: boolean): Promise<Walk> {
  const exists = new Map<string, boolean>();
  const w: Walk = {
    problems: [],
    onChain: new Map(),
    idsInGit: new Map(),
    notIndexed: new Set(),
    diffs: [],
    witnessChecks: [],
    attributed: new Map(),
    events: 0,
    signatures: [],
    repo: ctx.repo,
    present: (c) => {
      if (!exists.has(c)) exists.set(c, /^[0-9a-f]{40}$/.test(c) && commitExists(ctx.repo.cwd, c));
      return exists.get(c)!;
    },
    prefetch: (commits) => {
      const wanted = [...new Set(commits)].filter((c) => /^[0-9a-f]{40}$/.test(c) && !exists.has(c));
      const found = objectsExist(
        ctx.repo.cwd,
        wanted.map((c) => `${c}^{commit}`),
      );
      wanted.forEach((c, i) => exists.set(c, found[i]!));
    },
  };
  const { problems, onChain, idsInGit, notIndexed, diffs, witnessChecks } = w;
  const held = new Map(quarantined(ctx.db).map((q) => [q.chain, q]));
  for (const [chain, tip] of chains) {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(chain)) {
      problems.push({
        code: 'bad_chain_name',
        chain,
        message: `${CHAIN_PREFIX}${chain} is not named after a clone id.`,
      });
      continue;
    }
    const commits = fromFirstEvent(ctx.repo, await chainCommitsWithSignatures(ctx.repo, tip, null));
    checkSignatures(w, chain, commits, requireSigned);
    const on = new Map<string, number>();
    for (const c of commits) on.set(c.commit, -1);
    onChain.set(chain, on);
    // A chain held back at a commit: named, and its events from there on are expected to be missing from SQLite.
    const q = held.get(chain);
    const heldFrom = q ? commits.findIndex((c) => c.commit === q.commit_id) : -1;
    if (q) {
      problems.push({
        code: 'quarantined',
        chain,
        commit: q.commit_id,
        message: `Chain ${chain} is held back at commit ${q.commit_id}: ${q.reason}. 'handoff sync --drop ${chain}' removes it from this clone.`,
      });
      if (heldFrom >= 0) for (const c of commits.slice(heldFrom)) notIndexed.add(c.commit);
    }
    let prevClock = -1;
    // Streamed, without bodies (verify needs none): git reads while this checks, and memory stays bounded.
    await streamChainEvents(ctx.repo, commits, (c, event, reason) => {
      if (!event) {
        problems.push({
          code: 'unreadable_event',
          chain,
          commit: c.commit,
          message: `Commit ${c.commit} on chain ${chain} is not a valid event: ${reason}`,
        });
        return;
      }
      const e = { commit: c.commit, event };
      {
        w.events++;
        const ev = e.event;
        const seenAt = idsInGit.get(ev.id);
        if (seenAt !== undefined) {
          // Name the copy that is not the one indexed (the one shown): that is the duplicate.
          const first = { chain: chainOf(w, seenAt), commit: seenAt };
          const kept = commitOfEvent(ctx.db, ev.id);
          const dup = kept === first.commit ? { chain, commit: e.commit } : first;
          const other = dup === first ? { chain, commit: e.commit } : first;
          idsInGit.set(ev.id, other.commit);
          problems.push({
            code: 'duplicate_id',
            chain: dup.chain,
            commit: dup.commit,
            event: ev.id,
            message: `Event ${ev.id} on chain ${dup.chain} (commit ${dup.commit}) reuses the id of the event on chain ${other.chain} (commit ${other.commit}), which is the one shown.`,
          });
        } else idsInGit.set(ev.id, c.commit);
        if (ev.clone !== chain)
          problems.push({
            code: 'wrong_chain',
            chain,
            commit: e.commit,
            event: ev.id,
            message: `Event ${ev.id} says it belongs to chain ${ev.clone} but is on ${chain}.`,
          });
        if (ev.clock <= prevClock)
          problems.push({
            code: 'clock_order',
            chain,
            commit: e.commit,
            event: ev.id,
            message: `Event ${ev.id} has clock ${ev.clock}, not after the previous event's ${prevClock}.`,
          });
        prevClock = ev.clock;
        on.set(c.commit, ev.clock);
        const parents = (c as { parents?: string[] }).parents ?? [];
        // A chain's first commit whose only parent is its diff's base (written so before chains began with
        // an event without a diff): that parent keeps the base reachable.
        const second = parents[1] ?? (c.parent === null && parents.length === 1 ? parents[0]! : null);
        if (parents.length > 2)
          problems.push({
            code: 'bad_parents',
            chain,
            commit: e.commit,
            event: ev.id,
            message: `Commit ${e.commit} has ${parents.length} parents.`,
          });
        if (ev.type === 'message' && ev.diff)
          diffs.push({ chain, commit: e.commit, event: ev.id, base: ev.diff.base, snapshot: ev.diff.snapshot, second });
        else if (second)
          problems.push({
            code: 'bad_parents',
            chain,
            commit: e.commit,
            event: ev.id,
            message: `Commit ${e.commit} has a second parent but no attached diff.`,
          });
        if (ev.seen) witnessChecks.push({ chain, commit: e.commit, event: ev.id, clock: ev.clock, seen: ev.seen });
        if (ev.type === 'attribution') {
          const list = w.attributed.get(ev.commit);
          const entry = { agent: ev.agent, chain, event: ev.id, clock: ev.clock };
          if (list) list.push(entry);
          else w.attributed.set(ev.commit, [entry]);
        }
      }
    });
  }

  return w;
}

/**
 * Signatures, as git checks them: one that does not verify is a problem; with requireSigned, so is every
 * commit not signed by an allowed signer (reported once per chain, with the first such commit).
 */
function checkSignatures(
  w: Walk,
  chain: string,
  commits: { commit: string; sig: CommitSignature }[],
  requireSigned: boolean,
): void {
  const s: ChainSignatures = {
    chain,
    good: 0,
    unknownKey: 0,
    bad: 0,
    unsigned: 0,
    unverifiable: 0,
    signers: [],
    keys: [],
  };
  let firstWeak: { commit: string; status: string } | null = null;
  for (const c of commits) {
    const st = c.sig.status;
    if (st === 'good') s.good++;
    else if (st === 'unknown_key') s.unknownKey++;
    else if (st === 'bad') s.bad++;
    else if (st === 'unsigned') s.unsigned++;
    else s.unverifiable++;
    if (c.sig.signer && !s.signers.includes(c.sig.signer)) s.signers.push(c.sig.signer);
    if (c.sig.key && !s.keys.includes(c.sig.key)) s.keys.push(c.sig.key);
    if (st === 'bad')
      w.problems.push({
        code: 'bad_signature',
        chain,
        commit: c.commit,
        message: `Commit ${c.commit} on chain ${chain} carries a signature that does not verify: the commit was altered after signing, or the signature is not its own.`,
      });
    else if (st !== 'good' && !firstWeak) firstWeak = { commit: c.commit, status: st };
  }
  w.signatures.push(s);
  if (requireSigned && firstWeak) {
    const weak = s.unknownKey + s.unsigned + s.unverifiable;
    w.problems.push({
      code: 'not_signed',
      chain,
      commit: firstWeak.commit,
      message: `Chain ${chain} has ${weak} commit(s) not signed by an allowed signer (${[
        s.unsigned && `${s.unsigned} unsigned`,
        s.unknownKey && `${s.unknownKey} by a key not in gpg.ssh.allowedSignersFile`,
        s.unverifiable && `${s.unverifiable} that git cannot check here`,
      ]
        .filter(Boolean)
        .join(
          ', ',
        )}), the first at ${firstWeak.commit}.${s.unknownKey && !allowedSignersConfigured(w.repo) ? ' git config gpg.ssh.allowedSignersFile is not set, so no SSH key is known.' : ''}`,
    });
  }
}

/** Attached snapshots: base and snapshot objects present, the base kept reachable as second parent. */
function checkSnapshots(cwd: string, w: Walk): void {
  const { problems, diffs } = w;
  if (diffs.length) {
    const specs = diffs.flatMap((d) => [d.base, d.snapshot, `${d.commit}:patch`]);
    const found = objectsExist(cwd, specs);
    diffs.forEach((d, i) => {
      const missing = [0, 1, 2]
        .filter((k) => !found[i * 3 + k])
        .map((k) => ['base commit', 'snapshot tree', 'patch'][k]);
      if (missing.length)
        problems.push({
          code: 'missing_object',
          chain: d.chain,
          commit: d.commit,
          event: d.event,
          message: `Message ${d.event} is missing its ${missing.join(' and ')}.`,
        });
      if (d.second !== d.base)
        problems.push({
          code: 'base_unreachable',
          chain: d.chain,
          commit: d.commit,
          event: d.event,
          message: `Message ${d.event}'s base ${d.base} is not its commit's second parent, so gc may drop it.`,
        });
    });
  }
}

/** A commit attributed to two agents: one of the records is wrong (a forger's, or a clone's mistake). */
function checkAttributions(walk: Walk): void {
  for (const [commit, list] of walk.attributed) {
    const agents = [...new Set(list.map((a) => a.agent))];
    if (agents.length < 2) continue;
    // Named: the record that does not stand (the later one; ledger/attributions.ts).
    const byAge = [...list].sort((x, y) => x.clock - y.clock || (x.event < y.event ? -1 : 1));
    const later = byAge[byAge.length - 1]!;
    walk.problems.push({
      code: 'conflicting_attribution',
      commit,
      chain: later.chain,
      event: later.event,
      message: `Commit ${commit} is attributed to ${agents.join(' and ')} (by ${list.map((a) => `event ${a.event} of chain ${a.chain}`).join(', ')}): blame and log show the earlier record. If one chain is not your team's, 'handoff sync --drop <chain>' removes it.`,
    });
  }
}

/** Another chain than `chain` whose walk holds `commit`, or undefined. */
function heldByAnother(onChain: Map<string, Map<string, number>>, chain: string, commit: string): string | undefined {
  for (const [c, commits] of onChain) if (c !== chain && commits.has(commit)) return c;
  return undefined;
}

/** Witnesses: every tip some event saw must still be on that chain, and came before the event. */
function checkWitnesses(walk: Walk): void {
  const { problems, onChain, witnessChecks, present } = walk;
  // Tips not on their chain are looked up at once: a forger may name thousands.
  walk.prefetch(
    witnessChecks.flatMap((w) =>
      Object.entries(w.seen)
        .filter(([c, t]) => onChain.get(c) && !onChain.get(c)!.has(t))
        .map(([, t]) => t),
    ),
  );
  for (const w of witnessChecks) {
    for (const [chain, tip] of Object.entries(w.seen)) {
      let holder: string | undefined;
      const on = onChain.get(chain);
      if (!on)
        problems.push({
          code: 'missing_chain',
          chain,
          event: w.event,
          message: `Event ${w.event} witnessed chain ${chain}, which is not in this repository. Run 'handoff sync'.`,
        });
      else if (!on.has(tip) && !present(tip)) {
        problems.push({
          code: 'suspect_witness',
          chain: w.chain,
          commit: tip,
          event: w.event,
          message: `Event ${w.event} (chain ${w.chain}) witnessed commit ${tip} of chain ${chain}, which nobody has: the witnessing chain is suspect.`,
        });
      } else if (!on.has(tip) && (holder = heldByAnother(onChain, chain, tip))) {
        // Another chain holds it: a forger's (no clone builds on another's chain), and no evidence of a rewrite.
        problems.push({
          code: 'suspect_witness',
          chain: w.chain,
          commit: tip,
          event: w.event,
          message: `Event ${w.event} (chain ${w.chain}) witnessed commit ${tip} of chain ${chain}, which only chain ${holder} holds: the witnessing chain is suspect.`,
        });
      } else if (!on.has(tip))
        problems.push({
          code: 'rewritten',
          chain,
          commit: tip,
          event: w.event,
          message: `Chain ${chain} was rewritten: it no longer contains ${tip}, which event ${w.event} (chain ${w.chain}) witnessed.`,
        });
      else if ((on.get(tip) ?? -1) >= w.clock)
        problems.push({
          code: 'clock_order',
          chain: w.chain,
          event: w.event,
          message: `Event ${w.event} has a clock not after the event it witnessed on chain ${chain}.`,
        });
    }
  }
}

/** What this clone indexed: tips must still be on their chains, and SQLite must hold exactly git's events. */
function checkIndexed(
  walk: Walk,
  before: { tips: Map<string, string>; witnesses: ReturnType<typeof allWitnesses> },
  inSqlite: () => Iterable<string>,
  placeOf: (id: string) => { chain: string; commit_id: string } | undefined,
): void {
  const { problems, onChain, idsInGit, notIndexed, present } = walk;
  const knownBefore = before.tips;
  const witnessesBefore = before.witnesses;
  for (const [chain, tip] of knownBefore) {
    const on = onChain.get(chain);
    if (!on)
      problems.push({
        code: 'missing_chain',
        chain,
        commit: tip,
        message: `Chain ${chain} was indexed before but its ref is gone. ${
          present(tip)
            ? `Its events are still in this repository until git prunes them: 'git update-ref ${CHAIN_PREFIX}${chain} ${tip}' puts it back`
            : "Run 'handoff sync' to fetch it again"
        } (a 'git fetch --prune' under an older 'handoff sync --setup' deleted such refs).`,
      });
    else if (!on.has(tip))
      problems.push({
        code: 'rewritten',
        chain,
        commit: tip,
        message: `Chain ${chain} was rewritten: it no longer contains ${tip}, which this clone indexed.`,
      });
  }
  for (const w of witnessesBefore) {
    const on = onChain.get(w.chain);
    if (
      on &&
      !on.has(w.tip) &&
      present(w.tip) &&
      !heldByAnother(onChain, w.chain, w.tip) &&
      !problems.some((p) => p.code === 'rewritten' && p.commit === w.tip)
    ) {
      problems.push({
        code: 'rewritten',
        chain: w.chain,
        commit: w.tip,
        event: w.event_id,
        message: `Chain ${w.chain} was rewritten: it no longer contains ${w.tip}, witnessed by event ${w.event_id}.`,
      });
    }
  }
  // Each indexed event must be in git; what is left of git's ids after them is missing from SQLite.
  // Read here, row by row (a loop left early ends the statement, so the transaction can end).
  const missing: string[] = [];
  for (const id of inSqlite()) if (!idsInGit.delete(id)) missing.push(id);
  for (const id of missing) {
    const r = placeOf(id) ?? { chain: '', commit_id: '' };
    problems.push({
      code: 'missing_from_git',
      chain: r.chain,
      commit: r.commit_id,
      event: id,
      message: `Event ${id} (commit ${r.commit_id}) is indexed but no longer on chain ${r.chain}: it was dropped from the git ledger.`,
    });
  }
  for (const [id, commit] of idsInGit) {
    if (!notIndexed.has(commit)) {
      const chain = chainOf(walk, commit);
      problems.push({
        code: 'missing_from_sqlite',
        chain,
        commit,
        event: id,
        message: `Event ${id} is in git but not in SQLite. Run 'handoff rebuild'.`,
      });
    }
  }
}

/** Replacement objects over ledger commits change what plain git shows. */
function checkReplaced(cwd: string, w: Walk): void {
  for (const [original, replacement] of replacedObjects(cwd)) {
    for (const [chain, on] of w.onChain) {
      if (on.has(original))
        w.problems.push({
          code: 'replaced',
          chain,
          commit: original,
          message: `Ledger commit ${original} on chain ${chain} is replaced by ${replacement} (git replace): plain git shows altered history.`,
        });
    }
  }
}
