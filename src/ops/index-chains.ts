/**
 * Bringing SQLite up to date with git. Every command starts here: it compares the chain tips SQLite has
 * fully indexed with the refs in git and indexes what is missing. This is what makes a crash between the
 * git write and the SQLite write lose nothing, and what picks up chains fetched by plain `git fetch`.
 *
 * Chains come from remotes and are untrusted. A chain is indexed up to its first event that fails the
 * schema (the chain is quarantined there: it stays in git, `sync` and `verify` name it, `sync --drop`
 * removes it) or that is dated more than a day ahead of this machine's clock (held back until then), so
 * no hostile value reaches SQLite and no local event inherits an unusable clock. Chains that other chains
 * witnessed are indexed first: when two events claim one id, the one from a chain others vouched for is
 * indexed first and stands; the other is recorded as a duplicate.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CHAIN_PREFIX,
  chainRef,
  chainTipsIn,
  isChainCommit,
  TRACKING_PREFIX,
  listChainCommits,
  listChainCommitsStreamed,
  readChainEvents,
  streamChainEvents,
  trackedTipsIn,
  type ChainEvent,
} from '../git/ledger-format';
import { isAncestor } from '../git/exec';
import { objectTypes } from '../git/history';
import { compareAndSwapRef, readRef, readRefs } from '../git/refs';
import { configEntries } from '../git/config';
import { configTrue } from '../core/text';
import { writeFileAtomic } from '../core/files';
import { applyEvent } from '../ledger/apply';
import { deferIndexes, LISTING_INDEXES, restoreIndexes, writeTx } from '../ledger/db';
import {
  allWitnesses,
  chainOfCommit,
  countEvents,
  witnessedTips,
  knownTips,
  quarantine,
  quarantined,
  releaseQuarantine,
  setKnownTip,
  type QuarantineRow,
} from '../ledger/events';
import type { LedgerEvent } from '../core/events';
import type { Context } from './context';
import { standingReservations } from '../ledger/coordination';
import { beginAgentMemo, endAgentMemo } from '../ledger/agents';

/** How far ahead of this machine's clock an event may be dated and still be indexed now. */
const MAX_FUTURE_MS = 24 * 3600 * 1000;

export interface IndexReport {
  chains: number;
  indexed: number;
  /** Chain commits whose events could not be read: their chain is quarantined at them. */
  bad: { chain: string; commit: string; reason: string }[];
  /** Chains whose ref no longer descends from the tip SQLite indexed: rewritten, not indexed. */
  rewritten: { chain: string; known: string; tip: string }[];
  /** Chains newly held back at a commit in this run. */
  quarantined: { chain: string; commit: string; reason: string }[];
}

/** Chain ids this clone dropped with `sync --drop` (git config handoff.dropChain): never indexed or fetched. */
export function droppedChains(ctx: Context): Set<string> {
  return new Set(ctx.config().get('handoff.dropchain') ?? []);
}

interface ChainTodo {
  chain: string;
  tip: string;
  from: string | null;
  commits: { commit: string; parent: string | null }[];
}

interface Stop {
  commit: string;
  reason: string;
  retryAfter: number | null;
}

/** The chains whose tips moved past what SQLite indexed, but those held back at that tip and those dropped. */
function movedChains(ctx: Context): {
  moved: { chain: string; tip: string; from: string | null }[];
  held: Map<string, QuarantineRow>;
} {
  // SQLite first, then the refs: a tip is recorded in SQLite only after its ref holds it and refs only
  // move forward, so every tip read here descends from the one SQLite knows, unless history was rewritten.
  // (The other order lets a concurrent writer advance both in between and look like a rewind.)
  const known = knownTips(ctx.db);
  const held = new Map(quarantined(ctx.db).map((q) => [q.chain, q]));
  const refs = readRefs(ctx.repo, [CHAIN_PREFIX, TRACKING_PREFIX]);
  const tips = chainTipsIn(refs);
  if (!ctx.readOnly) adoptTracked(ctx, refs, tips, known);
  const now = ctx.now().getTime();
  const moved: { chain: string; tip: string; from: string | null }[] = [];
  let dropped: Set<string> | null = null;
  for (const [chain, tip] of tips) {
    const from = known.get(chain) ?? null;
    if (from === tip) continue;
    const q = held.get(chain);
    // Held back and nothing changed: a quarantined chain stays so until dropped; a future date until then.
    if (q && q.tip === tip && (q.retry_after === null || q.retry_after > now)) continue;
    if (chain !== ctx.cloneId && (dropped ??= droppedChains(ctx)).has(chain)) continue;
    moved.push({ chain, tip, from });
  }
  return { moved, held };
}

/**
 * Moves chain refs forward to the copies plain `git fetch` brought after `sync --setup`
 * (refs/handoff/remotes/<remote>/chains/<id>, git's to update and to prune). A copy is taken when it holds
 * everything this clone has of the chain: its ref, the tip SQLite indexed, and every tip of it an indexed
 * event witnessed (as `sync` requires). A copy at an indexed event is behind, and left at no cost. Any
 * other copy is left for `handoff sync` to judge and name, and remembered (`tracked-refused` in the data
 * directory) so that no later command asks git again; so is the copy of a chain dropped with `sync --drop`,
 * and every copy under handoff.requireSigned, where only `sync`, which checks signatures, takes chains.
 * Both settings are read from git, not the context (a long-lived MCP server's may be older). This clone's
 * own chain is only ever written here. `tips` is updated.
 */
const trackedRefusedFile = (ctx: Context) => path.join(ctx.dataDir, 'tracked-refused');

/** The remote-tracking copies refused as rewritten, as "<chain> <tip>" (what adoptTracked remembers). */
export function trackedRefused(ctx: Context): Set<string> {
  try {
    return new Set(fs.readFileSync(trackedRefusedFile(ctx), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

function adoptTracked(ctx: Context, refs: Map<string, string>, tips: Map<string, string>, known: Map<string, string>) {
  const tracked = trackedTipsIn(refs);
  if (!tracked.length) return;
  const cwd = ctx.repo.cwd;
  const refusedFile = trackedRefusedFile(ctx);
  let refused: Set<string> | null = null;
  const readRefused = (): Set<string> => (refused ??= trackedRefused(ctx));
  const refuse = (chain: string, tip: string) => {
    const set = readRefused().add(`${chain} ${tip}`);
    // Only the pairs still copied are kept.
    const still = new Set(tracked.map((t) => `${t.chain} ${t.tip}`));
    try {
      writeFileAtomic(refusedFile, `${[...set].filter((p) => still.has(p)).join('\n')}\n`);
    } catch {
      /* asked again next time */
    }
  };
  let settings: { dropped: Set<string>; signedOnly: boolean } | null = null;
  for (const { remote, chain, tip } of tracked) {
    const have = tips.get(chain) ?? null;
    if (have === tip || chain === ctx.cloneId) continue;
    if (chainOfCommit(ctx.db, tip) === chain || readRefused().has(`${chain} ${tip}`)) continue;
    // A copy behind the chain's ref holds nothing new: left, and never refused (SQLite may not know it yet,
    // as while a rebuild indexes anew).
    if (have && isAncestor(cwd, tip, have)) continue;
    if (!settings) {
      const entries = configEntries(cwd, '^handoff\\.(dropchain|requiresigned)$');
      settings = {
        dropped: new Set(entries.filter(([k]) => k === 'handoff.dropchain').map(([, v]) => v)),
        signedOnly: configTrue(entries.filter(([k]) => k === 'handoff.requiresigned').at(-1)?.[1]),
      };
      if (settings.signedOnly && tracked.some((t) => !readRefused().has(`${t.chain} ${t.tip}`)))
        ctx.warn(
          "handoff.requireSigned is set: chains that plain 'git fetch' brings are taken by 'handoff sync', which checks their signatures.",
        );
    }
    if (settings.dropped.has(chain) || settings.signedOnly) {
      refuse(chain, tip);
      continue;
    }
    // What this clone has of the chain must all be in the copy: a witnessed tip only where SQLite does not
    // hold it as the chain's event (the indexed tip covers those), and only where it is an event of that
    // chain here (a witness naming a commit nobody has is no evidence, as `sync` judges it).
    const mustHold = new Set([have, known.get(chain) ?? null]);
    for (const w of witnessedTips(ctx.db, chain))
      if (chainOfCommit(ctx.db, w) !== chain && isChainCommit(ctx.repo, chain, w)) mustHold.add(w);
    mustHold.delete(null);
    // A copy that names no commit (a blob, a tree or a tag pushed under a chain's name) is nobody's chain.
    if (!have && mustHold.size === 0 && objectTypes(cwd, [tip])[0] !== 'commit') {
      refuse(chain, tip);
      continue;
    }
    if ([...mustHold].some((c) => !isAncestor(cwd, c!, tip))) {
      refuse(chain, tip);
      ctx.warn(
        `${remote}'s copy of chain ${chain} (${tip.slice(0, 12)}) does not contain what this clone has of it, and is left out: 'handoff sync ${remote}' names what was rewritten.`,
      );
      continue;
    }
    try {
      if (compareAndSwapRef(ctx.repo, chainRef(chain), tip, have)) tips.set(chain, tip);
      else {
        // Another process moved it meanwhile: what it holds now is what this command indexes.
        const now = readRef(ctx.repo, chainRef(chain));
        if (now) tips.set(chain, now);
      }
    } catch (err) {
      // Left where it is: the next command, or `handoff sync`, takes it.
      ctx.warn(`could not move chain ${chain} forward to ${tip.slice(0, 12)}: ${(err as Error).message}`);
    }
  }
}

/** What indexing has to do: the chains whose tips moved, each with its new commits (oldest first). */
function planIndex(
  ctx: Context,
  report: IndexReport,
  listed?: Map<string, { from: string | null; commits: { commit: string; parent: string | null }[] }>,
): { todo: ChainTodo[]; held: Map<string, QuarantineRow> } {
  const { moved, held } = movedChains(ctx);
  const todo: ChainTodo[] = [];
  for (const { chain, tip, from } of moved) {
    report.chains++;
    let commits: { commit: string; parent: string | null }[] = [];
    try {
      const had = listed?.get(tip);
      commits = had && had.from === from ? had.commits : listChainCommits(ctx.repo, tip, from);
    } catch {
      commits = []; // the remembered tip is gone from the object database: treated as a rewrite below
    }
    // Appends only ever extend a chain: the oldest new commit must sit on the tip indexed before.
    if (from && (commits.length === 0 || commits[0]!.parent !== from)) {
      report.rewritten.push({ chain, known: from, tip });
      ctx.warn(
        `chain ${chain} was rewritten: its tip ${tip.slice(0, 12)} does not descend from ${from.slice(0, 12)}, which was indexed before. It is not indexed; run 'handoff verify'.`,
      );
      continue;
    }
    todo.push({ chain, tip, from, commits });
  }
  return { todo, held };
}

/** Why a chain's event cannot be indexed (the chain is held back there), or null when it can. */
function checkEvent(ctx: Context, t: ChainTodo, commit: string, event: LedgerEvent, now: number): Stop | null {
  if (event.clone !== t.chain)
    return { commit, reason: `the event says it belongs to chain ${event.clone}`, retryAfter: null };
  if (event.clock > now + MAX_FUTURE_MS && t.chain !== ctx.cloneId)
    return {
      commit,
      reason: `dated ${new Date(event.clock).toISOString()}, more than a day ahead of this machine's clock`,
      retryAfter: event.clock - MAX_FUTURE_MS,
    };
  return null;
}

/** Chains others vouched for come first, then by id (see the header). */
function orderChains(todo: ChainTodo[], vouched: Set<string>): ChainTodo[] {
  return [...todo].sort(
    (a, b) =>
      Number(!vouched.has(a.chain)) - Number(!vouched.has(b.chain)) ||
      (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0),
  );
}

/** Records how far a chain was indexed, and holds it back at `stop` (or releases it when it got past). */
function finishChain(
  ctx: Context,
  t: ChainTodo,
  last: string | null,
  stop: Stop | null,
  held: Map<string, QuarantineRow>,
  report: IndexReport,
): void {
  writeTx(ctx.db, () => {
    // Only move the tip from where this run started; a concurrent process may have moved it already.
    const current = knownTips(ctx.db).get(t.chain) ?? null;
    if (current === t.from && last && last !== t.from) setKnownTip(ctx.db, t.chain, last, ctx.now().toISOString());
    if (stop) {
      const news = quarantine(ctx.db, {
        chain: t.chain,
        commit_id: stop.commit,
        reason: stop.reason,
        tip: t.tip,
        retry_after: stop.retryAfter,
      });
      if (news) {
        report.quarantined.push({ chain: t.chain, commit: stop.commit, reason: stop.reason });
        if (stop.retryAfter === null) report.bad.push({ chain: t.chain, commit: stop.commit, reason: stop.reason });
        ctx.warn(
          `chain ${t.chain} is held back at commit ${stop.commit.slice(0, 12)}: ${stop.reason}. Its earlier events are indexed, nothing after it is. ${stop.retryAfter === null ? `'handoff sync --drop ${t.chain}' removes the chain from this clone.` : 'It is tried again when that time comes.'}`,
        );
      }
    } else if (held.has(t.chain)) {
      releaseQuarantine(ctx.db, t.chain);
    }
  });
}

/** Events applied per transaction. */
const APPLY_BATCH = 5000;

/**
 * Indexes every chain commit that SQLite has not seen; `onProgress` is told (done, total) for long runs.
 * Every command starts with this; it reads what is new in one `git cat-file` per 5,000 commits.
 */
export function indexChains(ctx: Context, onProgress?: (done: number, total: number) => void): IndexReport {
  const report: IndexReport = { chains: 0, indexed: 0, bad: [], rewritten: [], quarantined: [] };
  const { todo, held } = planIndex(ctx, report);
  if (todo.length === 0) return report;
  const now = ctx.now().getTime();

  // Read first, then order: chains vouched for by other chains' witnesses go first (see the header).
  const read = new Map<string, { events: ChainEvent[]; stop: Stop | null }>();
  const vouched = new Set<string>();
  for (const w of allWitnesses(ctx.db)) vouched.add(w.chain);
  for (const t of todo) {
    const events: ChainEvent[] = [];
    let stop: Stop | null = null;
    for (let i = 0; i < t.commits.length && !stop; i += APPLY_BATCH) {
      const slice = t.commits.slice(i, i + APPLY_BATCH);
      const { events: evs, bad } = readChainEvents(ctx.repo, slice);
      const badAt = new Map(bad.map((b) => [b.commit, b.reason]));
      const byCommit = new Map(evs.map((e) => [e.commit, e]));
      for (const c of slice) {
        const reason = badAt.get(c.commit);
        const e = byCommit.get(c.commit);
        stop =
          reason !== undefined || !e
            ? { commit: c.commit, reason: reason ?? 'unreadable', retryAfter: null }
            : checkEvent(ctx, t, c.commit, e.event, now);
        if (stop) break;
        events.push(e!);
        for (const witnessed of Object.keys(e!.event.seen ?? {})) if (witnessed !== t.chain) vouched.add(witnessed);
      }
    }
    read.set(t.chain, { events, stop });
  }
  const ordered = orderChains(todo, vouched);
  const total = ordered.reduce((n, t) => n + read.get(t.chain)!.events.length, 0);
  let done = 0;
  for (const t of ordered) {
    const { events, stop } = read.get(t.chain)!;
    for (let i = 0; i < events.length; i += APPLY_BATCH) {
      writeTx(ctx.db, () => {
        for (const e of events.slice(i, i + APPLY_BATCH))
          if (applyEvent(ctx.db, { chain: t.chain, ...e })) report.indexed++;
      });
      done += Math.min(APPLY_BATCH, events.length - i);
      onProgress?.(done, total);
    }
    finishChain(ctx, t, events.length ? events[events.length - 1]!.commit : t.from, stop, held, report);
  }
  if (report.indexed > 0 && !ctx.readOnly) markReservations(ctx);
  return report;
}

/**
 * indexChains for whole ledgers (rebuild, a fresh clone's sync): each chain is streamed from one
 * `git cat-file` and each event applied as it arrives, so memory holds no more than one read of git's
 * output, and git decompresses while SQLite writes. Past 10,000 events SQLite skips fsync while it fills
 * (what it holds comes from git and can be indexed again) and syncs once at the end. With more than one chain to index, a first
 * pass reads the events' witnesses to order the chains, except for the chains in `scanned`, whose new
 * events the caller has read already, finding that they vouch for the chains in `vouched` (sync does).
 */
export async function indexChainsStreamed(
  ctx: Context,
  opts: {
    onProgress?: (done: number, total: number) => void;
    vouched?: Set<string>;
    scanned?: Set<string>;
    /** Commit lists the caller made already, by tip. */
    commits?: Map<string, { from: string | null; commits: { commit: string; parent: string | null }[] }>;
  } = {},
): Promise<IndexReport> {
  const report: IndexReport = { chains: 0, indexed: 0, bad: [], rewritten: [], quarantined: [] };
  const { todo, held } = planIndex(ctx, report, opts.commits ?? (await listMovedChains(ctx)));
  if (todo.length === 0) return report;
  const now = ctx.now().getTime();
  const vouched = new Set<string>(opts.vouched);
  for (const w of allWitnesses(ctx.db)) vouched.add(w.chain);
  if (todo.length > 1)
    for (const t of todo.filter((x) => !opts.scanned?.has(x.chain)))
      await streamChainEvents(ctx.repo, t.commits, (_c, event) => {
        for (const witnessed of Object.keys(event?.seen ?? {})) if (witnessed !== t.chain) vouched.add(witnessed);
      });
  const total = todo.reduce((n, t) => n + t.commits.length, 0);
  const bulk = total >= 10_000;
  const synchronous = ctx.db.pragma('synchronous', { simple: true }) as number;
  // A command that leaves its database open copies the log in only at its end (ops/context.ts,
  // tuneForOneShot); a bulk load copies it in as it goes, which keeps the log, and each page read through
  // it, small.
  const autocheckpoint = ctx.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  if (bulk) ctx.db.pragma('synchronous = OFF');
  if (bulk && autocheckpoint < 1000) ctx.db.pragma('wal_autocheckpoint = 1000');
  // Where most of the ledger is new (a rebuild, a fresh clone), the indexes commands list by are made
  // once at the end rather than kept up row by row.
  const file = path.join(ctx.dataDir, 'ledger.db');
  const deferred =
    bulk && !ctx.readOnly && total >= countEvents(ctx.db) ? deferIndexes(ctx.db, file, LISTING_INDEXES) : null;
  try {
    await indexOrdered(ctx, orderChains(todo, vouched), { total, now, held, report, onProgress: opts.onProgress });
    // Made from what was dropped, not from the note, which another process may have acted on meanwhile.
    if (deferred) restoreIndexes(ctx.db, file, deferred);
  } catch (err) {
    // The indexes come back also when indexing fails (if even that fails, the note stays for later).
    try {
      if (deferred) restoreIndexes(ctx.db, file, deferred);
    } catch {
      /* the note makes them at the next open */
    }
    throw err;
  } finally {
    if (bulk) {
      ctx.db.pragma(`synchronous = ${synchronous}`);
      ctx.db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
      ctx.db.pragma('wal_checkpoint(PASSIVE)');
    }
  }
  if (report.indexed > 0 && !ctx.readOnly) markReservations(ctx);
  return report;
}

/**
 * The new commits of every chain whose tip moved past what SQLite indexed, by tip, listed as git walks
 * (listChainCommitsStreamed) for planIndex to take. A tip that moves meanwhile is listed again there.
 */
async function listMovedChains(
  ctx: Context,
): Promise<Map<string, { from: string | null; commits: { commit: string; parent: string | null }[] }>> {
  const out = new Map<string, { from: string | null; commits: { commit: string; parent: string | null }[] }>();
  for (const { tip, from } of movedChains(ctx).moved) {
    try {
      out.set(tip, { from, commits: await listChainCommitsStreamed(ctx.repo, tip, from) });
    } catch {
      /* left to planIndex, which judges a tip it cannot list */
    }
  }
  return out;
}

/** Streams and applies each chain in turn (see indexChainsStreamed). */
async function indexOrdered(
  ctx: Context,
  ordered: ChainTodo[],
  at: {
    total: number;
    now: number;
    held: Map<string, QuarantineRow>;
    report: IndexReport;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<void> {
  const { total, now, held, report } = at;
  let done = 0;
  for (const t of ordered) {
    let stop: Stop | null = null;
    let last = t.from;
    // Events are applied as they arrive, in a transaction that commits whenever the stream waits for git:
    // nothing is held in memory, and no other work of this process runs inside the transaction.
    let open = 0;
    let inTx = false;
    const commit = () => {
      if (!inTx) return;
      endAgentMemo(ctx.db, true);
      ctx.db.exec('COMMIT');
      inTx = false;
      done += open;
      open = 0;
      at.onProgress?.(done, total);
    };
    try {
      await streamChainEvents(
        ctx.repo,
        t.commits,
        (c, event, reason, body, json) => {
          stop = event
            ? checkEvent(ctx, t, c.commit, event, now)
            : { commit: c.commit, reason: reason ?? 'unreadable', retryAfter: null };
          if (stop) return false;
          if (!inTx) {
            ctx.db.exec('BEGIN IMMEDIATE');
            inTx = true;
            beginAgentMemo(ctx.db);
          }
          if (
            applyEvent(ctx.db, {
              chain: t.chain,
              commit: c.commit,
              parent: c.parent,
              event: event!,
              body,
              json: json ?? undefined,
            })
          )
            report.indexed++;
          last = c.commit;
          if (++open >= APPLY_BATCH) commit();
          return true;
        },
        { bodies: true, beforeWait: commit },
      );
    } catch (err) {
      // Whatever failed (an event, or the commit itself), the open transaction is undone whole.
      endAgentMemo(ctx.db, false);
      if (inTx) ctx.db.exec('ROLLBACK');
      throw err;
    }
    finishChain(ctx, t, last, stop, held, report);
  }
}

/**
 * Keeps <data dir>/reservations present while an exclusive reservation may stand, so that the pre-commit
 * hook starts node only then (ops/reservations.ts checks liveness and paths).
 */
export function markReservations(ctx: Context): void {
  const now = ctx.now().toISOString();
  const any = standingReservations(ctx.db).some((r) => r.exclusive && (!r.expires || r.expires > now));
  const marker = path.join(ctx.dataDir, 'reservations');
  try {
    if (any) fs.writeFileSync(marker, '', { mode: 0o600 });
    else fs.rmSync(marker, { force: true });
  } catch {
    /* the hook then finds no marker, or an old one, and at worst checks for nothing */
  }
}
