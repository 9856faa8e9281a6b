/**
 * Claims: one agent at a time holds a key (a task name or a request's message id). In one clone the
 * decision is taken inside the SQLite write lock, so of any number of concurrent claimers exactly one wins.
 * Across clones, claims sync as events and every clone folds them the same way (earliest by causal clock);
 * `claim --remote` makes the remote itself the arbiter with a compare-and-swap push of a ref per key.
 */
import os from 'node:os';
import { ConflictError, NotFoundError, TimeoutError, UsageError } from '../core/errors';
import { isEventId, WORK_KINDS, type ClaimEvent, type Holder } from '../core/events';
import { NAME_PATTERN } from '../core/names';
import { inertLine, quoted } from '../core/text';
import { agentAncestor, processAlive, processStartToken } from '../core/proc';
import { casRemoteClaim, readRemoteClaim, type RemoteClaimRecord } from '../git/claims';
import { listRemotes } from '../git/remote';
import type { ClaimJson, ClaimsJson, HolderJson, ReleaseJson } from '../json/coordination';
import type { IdentityJson } from '../json/types';
import {
  claimEventsOf,
  claimKeys,
  claimKeysOf,
  firstNotice,
  wasNoticed,
  foldClaims,
  lastActivityOf,
  renewedLeaseEnd,
  latestOutcomeOf,
  type ClaimHolder,
} from '../ledger/coordination';
import { getMessage } from '../ledger/messages';
import { appendEvent } from './append';
import { setWorkingOn } from './working';
import { giveOnce } from './notices';
import { previousCloneIds, type Context } from './context';
import { placeOfEvent } from '../ledger/events';
import { resolveIdentity } from './identity';
import { findMessage, requireRemote } from './lookup';

/** The holder's activity, which renews its lease, as the fold asks for it. */
export const activity =
  (ctx: Context) =>
  (agent: string, upTo: string, lease?: { expiresMs: number; ttlMs: number }): string | null => {
    if (!lease) return lastActivityOf(ctx.db, agent, upTo);
    // Only activity while the lease still ran renews it (renewedLeaseEnd): the last such, as a time.
    const end = renewedLeaseEnd(ctx.db, agent, lease.expiresMs, lease.ttlMs, upTo);
    return end > lease.expiresMs ? new Date(end - lease.ttlMs).toISOString() : null;
  };

/** The lease of a claim when --ttl is not given: renewed by the holder's activity, taken over once it runs out. */
export const DEFAULT_TTL_S = 30 * 60;

export interface ClaimInput {
  key: string;
  as?: string;
  ttlSeconds?: number;
  /** The holder's long-lived process (default: the agent runtime among this command's ancestors). */
  pid?: number;
  /** Block until the key can be taken, at most this long (seconds). */
  waitSeconds?: number;
  /** Use this remote's ref for the key as the arbiter. */
  remote?: string;
  signal?: AbortSignal;
}

/** A claim key as given: a task name, or a message id (full, short or prefix), normalised. */
export function claimKey(ctx: Context, given: string): { key: string; message: string | null } {
  const g = given.trim();
  // Anything that names a message (full id, short id, prefix; any case) is that message's key.
  if (/^[0-9A-HJKMNP-TV-Z]{6,26}\??$/i.test(g)) {
    try {
      const m = findMessage(ctx, g);
      return { key: m.id, message: m.id };
    } catch (err) {
      // Uppercase is how ids are printed: one that names no message is an error, not a task name. Digits
      // alone (an issue number, a date) are a task name.
      // A whole id in any case (26 characters, a time first) names a message, perhaps one not synced yet.
      if (
        (/[A-Z]/i.test(g) && g === g.toUpperCase()) ||
        /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i.test(g) ||
        !(err instanceof NotFoundError)
      )
        throw err;
    }
  }
  // Task names are lowercase; short ids, as tables print them, are uppercase.
  // A key also names a ref on the remote (claim --remote): what git refuses in a ref name is refused here.
  if (NAME_PATTERN.test(g) && !g.includes('..') && !g.endsWith('.lock') && !g.endsWith('.'))
    return { key: g, message: null };
  throw new UsageError(
    'invalid_name',
    `${quoted(given)} is not a claim key: use a task name (lowercase letters, digits, . _ -) or a message id.`,
  );
}

/** The longest lease a claim or reservation may have (the ledger refuses longer ones). */
export const MAX_TTL_S = 366 * 24 * 3600;

/** A --ttl in seconds, checked, as milliseconds. */
export function checkTtl(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL_S)
    throw new UsageError('usage', `--ttl must be between 1 and ${MAX_TTL_S} seconds (366 days).`);
  return seconds * 1000;
}

/** The process a claim made now stands for. */
export function holderOf(pid?: number): Holder | undefined {
  // With no agent runtime among this command's ancestors (a script, a terminal), nothing says how long the
  // caller lives: its shell may end at once. The lease alone decides then.
  const p = pid ?? agentAncestor();
  if (p === null) return undefined;
  if (p <= 1)
    throw new UsageError(
      'bad_pid',
      `--pid ${p} never ends, so a claim held by it would never come back; give the agent's own process.`,
    );
  if (!processAlive(p, null))
    throw new UsageError('bad_pid', `--pid ${p} is not a running process; give the agent's own long-lived process.`);
  return { host: os.hostname(), pid: p, start: processStartToken(p) };
}

/** When a holder's lease runs out: the later of its claim's and its last activity plus its ttl (ms), or Infinity. */
function leaseEnd(ctx: Context, h: Omit<ClaimHolder, 'sinceClock'>): number {
  const expires = h.expires ? Date.parse(h.expires) : Infinity;
  return h.ttl_ms ? renewedLeaseEnd(ctx.db, h.agent, expires, h.ttl_ms) : expires;
}

/** Whether a holder still holds: its process runs (same host), its lease (renewed by activity) has not run out. */
export function liveness(
  ctx: Context,
  h: Omit<ClaimHolder, 'sinceClock'>,
  end = leaseEnd(ctx, h),
): HolderJson['liveness'] {
  const now = ctx.now().getTime();
  if (now > end) return 'expired';
  if (h.host === os.hostname() && h.pid) return processAlive(h.pid, h.proc_start) ? 'live' : 'gone';
  return 'unknown';
}

/** A holder as --json shows it, with its liveness now. */
export function holderJson(ctx: Context, h: ClaimHolder): HolderJson {
  // The lease as renewed by the holder's activity: what "until" means now.
  const end = leaseEnd(ctx, h);
  return {
    agent: h.agent,
    since: h.since,
    expires: Number.isFinite(end) ? new Date(end).toISOString() : h.expires,
    host: h.host,
    pid: h.pid,
    liveness: liveness(ctx, h, end),
    remote: h.remote,
  };
}

function heldError(
  key: string,
  h: HolderJson,
  otherClone?: string,
  verb: 'claim' | 'release' = 'claim',
): ConflictError {
  const where = h.pid ? ` (pid ${h.pid} on ${h.host})` : '';
  const until = h.expires ? ` until ${h.expires} unless renewed` : '';
  const clone = otherClone ? `, in clone ${otherClone}: ${h.agent} there is another agent than here` : '';
  return new ConflictError(
    'claim_held',
    `${key} is claimed by ${h.agent} since ${h.since}${until}${where}${clone}. ${verb === 'claim' ? 'Wait for it with --wait, or ask' : 'Ask'} ${h.agent}.`,
    { key, holder: h },
  );
}

/**
 * Whether the remote's record names `me` in this clone. The same agent name in another clone is another
 * holder: the remote arbitrates between clones, and both could otherwise take the key in turn, each as a
 * renewal. A record naming no clone counts by name.
 */
function heldHere(ctx: Context, me: IdentityJson, rec: RemoteClaimRecord): boolean {
  return rec.agent === me.name && (typeof rec.clone !== 'string' || !rec.clone || rec.clone === ctx.cloneId);
}

/** The clone another holder of `me`'s name holds the remote's record in, for the error; undefined otherwise. */
function otherCloneOf(ctx: Context, me: IdentityJson, rec: RemoteClaimRecord): string | undefined {
  return rec.agent === me.name && !heldHere(ctx, me, rec) ? inertLine(rec.clone) : undefined;
}

/** Throws task_done (exit 4) when `message` (the request claimed as `key`) is recorded done. */
function refuseIfDone(ctx: Context, key: string, message: string | null | undefined): void {
  const outcome = message ? latestOutcomeOf(ctx.db, message) : undefined;
  if (outcome?.state === 'done')
    throw new ConflictError(
      'task_done',
      `${key} is done (recorded by ${outcome.agent} at ${outcome.ts}); there is nothing to claim. 'handoff tasks --open' lists what is still open.`,
      { key, outcome: { state: outcome.state, agent: outcome.agent, ts: outcome.ts } },
    );
}

/** Claims a key; throws claim_held (exit 4) naming the holder when another live agent holds it. */
export async function claim(ctx: Context, input: ClaimInput): Promise<ClaimJson> {
  const me = resolveIdentity(ctx, { as: input.as });
  const { key, message } = claimKey(ctx, input.key);
  const kind = message ? getMessage(ctx.db, message)?.kind : undefined;
  if (kind && !WORK_KINDS.has(kind))
    throw new UsageError(
      'not_a_request',
      `${key} is a ${kind}, not a request: claims on a message are for requests, review requests and todos (a task name can be claimed too).`,
    );
  // A request already done needs nobody to work on it (one failed or blocked may be taken up again). Asked
  // here, before a remote is asked, and again under the chain's lock as the claim is written.
  refuseIfDone(ctx, key, message);
  const ttlMs = checkTtl(input.ttlSeconds ?? DEFAULT_TTL_S);
  if (input.remote !== undefined) requireRemote(ctx, input.remote);
  const holder = holderOf(input.pid);
  const deadline = Date.now() + (input.waitSeconds ?? 0) * 1000;
  // A request claimed is what the agent's next commits most likely answer (a guess, as for a request read:
  // work-on or a reply with a diff says it for sure).
  const guess = <T>(claimed: T): T => {
    if (message && !ctx.readOnly) setWorkingOn(ctx, me.name, { message, mode: 'auto' });
    return claimed;
  };
  for (;;) {
    try {
      if (input.remote) return guess(await claimRemote(ctx, me, key, ttlMs, holder, input.remote));
      return guess(claimLocal(ctx, me, key, ttlMs, holder));
    } catch (err) {
      // A request done meanwhile is never to be taken: said at once, not after the wait.
      if (!(err instanceof ConflictError) || input.waitSeconds === undefined || err.code === 'task_done') throw err;
      if (Date.now() >= deadline || input.signal?.aborted) {
        // It was waited for already: the advice is to ask, or to wait longer.
        const advice = / Wait for it with --wait, or ask (\S+)\.$/.exec(err.message);
        const said = advice
          ? `${err.message.slice(0, advice.index)} Waited ${input.waitSeconds}s: ask ${advice[1]}, or wait longer (--timeout).`
          : `${err.message} (waited ${input.waitSeconds}s)`;
        throw new TimeoutError('timeout', said, err.details);
      }
      await new Promise((r) => setTimeout(r, Math.min(500, Math.max(50, deadline - Date.now()))));
    }
  }
}

function claimLocal(
  ctx: Context,
  me: IdentityJson,
  key: string,
  ttlMs: number,
  holder: Holder | undefined,
  remote?: string,
  /** The holder the remote's ref named, whose lease the remote judged run out (claim --remote). */
  took?: { from: string; reason: 'gone' | 'expired'; since: string },
): ClaimJson {
  let decided: Pick<ClaimJson, 'action' | 'reclaimed'> = { action: 'claimed', reclaimed: null };
  let since = '';
  const holder0 = holder;
  const { event } = appendEvent<ClaimEvent>(ctx, me, () => {
    // Done by another process since the command looked: nothing to claim (checked under the lock).
    refuseIfDone(ctx, key, isEventId(key) ? key : null);
    const h = foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
    since = h?.since ?? '';
    const expires = new Date(ctx.now().getTime() + ttlMs).toISOString();
    const base = {
      type: 'claim' as const,
      key,
      expires,
      ttl_ms: ttlMs,
      ...(holder ? { holder } : {}),
      ...(remote ? { remote } : {}),
    };
    // The remote took the key from a holder this clone has not heard of yet (or holds as that one): the
    // event says whom it took it from, so that every clone's ledger, in whatever order it learns of the
    // two claims, names the holder the remote names.
    if (took && (!h || h.agent === took.from)) {
      decided = { action: 'reclaimed', reclaimed: took };
      return { ...base, action: 'reclaim' as const, from: took.from, reason: took.reason };
    }
    if (!h) {
      decided = { action: 'claimed', reclaimed: null };
      return { ...base, action: 'claim' as const };
    }
    if (h.agent === me.name) {
      decided = { action: 'renewed', reclaimed: null };
      return { ...base, action: 'renew' as const };
    }
    const state = liveness(ctx, h);
    // The remote decided for this claim while the holder here looks live. Its claim the same remote
    // decided: the remote judged its lease run out there (a remote's lease is renewed only by claiming
    // again), so this takes it over, as the remote did. One no remote decided (another agent took the key
    // here meanwhile, a race with the check in claimRemote): a remote-decided claim outweighs it.
    if (remote && state !== 'gone' && state !== 'expired') {
      if (h.remote) {
        decided = { action: 'reclaimed', reclaimed: { from: h.agent, reason: 'expired', since: h.since } };
        return { ...base, action: 'reclaim' as const, from: h.agent, reason: 'expired' as const };
      }
      decided = { action: 'claimed', reclaimed: null };
      return { ...base, action: 'claim' as const };
    }
    if (state === 'gone' || state === 'expired') {
      const reason = state === 'gone' ? 'gone' : 'expired';
      decided = { action: 'reclaimed', reclaimed: { from: h.agent, reason, since: h.since } };
      return { ...base, action: 'reclaim' as const, from: h.agent, reason };
    }
    throw heldError(key, holderJson(ctx, h));
  });
  // The claim just written is what holds the key now; its holder process is this command's (live) one.
  const now: HolderJson = {
    agent: me.name,
    since: decided.action === 'renewed' ? since : event.ts,
    expires: event.expires ?? null,
    host: holder0?.host ?? null,
    pid: holder0?.pid ?? null,
    liveness: holder0 ? 'live' : 'unknown',
    remote: remote ?? null,
  };
  return { key, agent: me.name, ...decided, holder: now, event: event.id };
}

async function claimRemote(
  ctx: Context,
  me: IdentityJson,
  key: string,
  ttlMs: number,
  holder: Holder | undefined,
  remote: string,
): Promise<ClaimJson> {
  // Another agent holding the key here, live, is not overruled by asking a remote: the remote arbitrates
  // between clones, for holders this clone cannot see.
  const here = foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
  if (here && here.agent !== me.name && here.remote !== remote) {
    const state = liveness(ctx, here);
    if (state !== 'gone' && state !== 'expired') throw heldError(key, holderJson(ctx, here));
  }
  const current = await readRemoteClaim(ctx.repo, remote, key);
  const now = ctx.now();
  const rec = current?.record;
  let reclaimed: ClaimJson['reclaimed'] = null;
  const mine = !!rec && heldHere(ctx, me, rec);
  if (rec && rec.state === 'held' && !mine) {
    const expired = now.getTime() > Date.parse(rec.expires);
    const gone = rec.host === os.hostname() && rec.pid > 1 && !processAlive(rec.pid, rec.start);
    if (!expired && !gone) throw heldError(key, remoteHolderJson(rec, 'unknown', remote), otherCloneOf(ctx, me, rec));
    reclaimed = { from: rec.agent, reason: gone ? 'gone' : 'expired', since: rec.since };
  }
  const record: RemoteClaimRecord = {
    key,
    state: 'held',
    agent: me.name,
    clone: ctx.cloneId,
    since: rec && rec.state === 'held' && mine ? rec.since : now.toISOString(),
    expires: new Date(now.getTime() + ttlMs).toISOString(),
    host: holder?.host ?? os.hostname(),
    pid: holder?.pid ?? 0,
    start: holder?.start ?? null,
  };
  const won = await casRemoteClaim(ctx.repo, remote, key, record, current?.oid ?? null);
  if (!won) {
    const after = await readRemoteClaim(ctx.repo, remote, key);
    if (after?.record.state === 'held')
      throw heldError(key, remoteHolderJson(after.record, 'unknown', remote), otherCloneOf(ctx, me, after.record));
    throw new ConflictError('claim_held', `${key} changed on ${remote} while claiming it; try again.`, { key });
  }
  // The remote decided; the local ledger records it so that it syncs like every claim.
  const out = claimLocal(ctx, me, key, ttlMs, holder, remote, reclaimed ?? undefined);
  return { ...out, action: reclaimed ? 'reclaimed' : out.action === 'renewed' ? 'renewed' : 'claimed', reclaimed };
}

function remoteHolderJson(rec: RemoteClaimRecord, liveness: HolderJson['liveness'], remote: string): HolderJson {
  return { agent: rec.agent, since: rec.since, expires: rec.expires, host: rec.host, pid: rec.pid, liveness, remote };
}

/** Releases a key this agent holds. */
export async function release(
  ctx: Context,
  input: { key: string; as?: string; remote?: string },
): Promise<ReleaseJson> {
  const me = resolveIdentity(ctx, { as: input.as });
  const { key } = claimKey(ctx, input.key);
  // The remote's ref, then the ledger: released when either held it for this agent.
  if (input.remote !== undefined) requireRemote(ctx, input.remote);
  const onRemote = input.remote ? await releaseRemote(ctx, me, key, input.remote) : false;
  const holder = input.remote ? null : foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
  const local = releaseLocal(ctx, me, key, onRemote);
  // Without --remote: a claim a remote decided is freed there too, or other agents stay locked out.
  if (local.released && holder) await releaseWhereDecided(ctx, me, key, holder);
  return onRemote && !local.released ? { ...local, released: true } : local;
}

/**
 * After `me` released `key` in the ledger: the remote that decided its claim (claim --remote) is told too,
 * if it is a remote configured here (the name comes from the ledger, which other clones write too); a
 * failure is a warning that says how to finish.
 */
export async function releaseWhereDecided(
  ctx: Context,
  me: IdentityJson,
  key: string,
  holder: ClaimHolder,
): Promise<void> {
  if (holder.agent !== me.name || !holder.remote || !listRemotes(ctx.repo.cwd).includes(holder.remote)) return;
  try {
    await releaseRemote(ctx, me, key, holder.remote);
  } catch (err) {
    ctx.warn(
      `the claim on ${holder.remote} is still held: ${(err as Error).message.split('\n')[0]} Release it with: handoff release ${key} --remote ${holder.remote}`,
    );
  }
}

/** Frees `key` on `remote` when `me` holds it there (compare-and-swap); true when it did. */
export async function releaseRemote(ctx: Context, me: IdentityJson, key: string, remote: string): Promise<boolean> {
  const current = await readRemoteClaim(ctx.repo, remote, key);
  if (!current || current.record.state !== 'held') return false;
  if (!heldHere(ctx, me, current.record))
    throw heldError(
      key,
      remoteHolderJson(current.record, 'unknown', remote),
      otherCloneOf(ctx, me, current.record),
      'release',
    );
  const ok = await casRemoteClaim(ctx.repo, remote, key, { ...current.record, state: 'released' }, current.oid);
  if (!ok) throw new ConflictError('claim_held', `${key} changed on ${remote} while releasing it; try again.`, { key });
  return true;
}

/**
 * Checks, before releasing several keys, that `me` holds each (an error names the first it does not, so that
 * nothing is released); returns the keys normalised, each once.
 */
export function checkReleasable(ctx: Context, input: { keys: string[]; as?: string }): string[] {
  const me = resolveIdentity(ctx, { as: input.as });
  const keys = [...new Set(input.keys.map((k) => claimKey(ctx, k).key))];
  for (const key of keys) {
    const h = foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
    if (!h) throw new NotFoundError('not_claimed', `${key} is not claimed by anyone, so nothing was released.`);
    const otherClone = decidedElsewhere(ctx, me, h);
    if (h.agent !== me.name || otherClone) throw heldError(key, holderJson(ctx, h), otherClone, 'release');
  }
  return keys;
}

/**
 * The other clone that holds `h` for `me`'s name, when a remote decided it there: a claim a remote decided
 * is the clone's that made it, which the same agent name in another clone neither releases (the remote
 * would still say held) nor frees for others.
 */
function decidedElsewhere(ctx: Context, me: IdentityJson, h: ClaimHolder): string | undefined {
  const chain = h.agent === me.name && h.remote ? placeOfEvent(ctx.db, h.event)?.chain : undefined;
  return chain && chain !== ctx.cloneId && !previousCloneIds(ctx.dataDir).includes(chain) ? chain : undefined;
}

/** Releases `key` if `me` holds it in the local ledger (a no-op otherwise). */
export function releaseLocal(ctx: Context, me: IdentityJson, key: string, quiet = false): ReleaseJson {
  const h = foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
  if (!h) {
    if (quiet) return { key, agent: me.name, released: false, event: null };
    throw new NotFoundError('not_claimed', `${key} is not claimed by anyone.`);
  }
  const otherClone = decidedElsewhere(ctx, me, h);
  if (h.agent !== me.name || otherClone) {
    if (quiet) return { key, agent: me.name, released: false, event: null };
    throw heldError(key, holderJson(ctx, h), otherClone, 'release');
  }
  const { event } = appendEvent<ClaimEvent>(ctx, me, { type: 'claim', action: 'release', key });
  return { key, agent: me.name, released: true, event: event.id };
}

/** The keys held now (with --all, also ones whose holder is gone or expired); with `mine`, only this agent's. */
export function claims(ctx: Context, input: { as?: string; mine?: boolean; all?: boolean }): ClaimsJson {
  const me = input.mine ? resolveIdentity(ctx, { as: input.as }).name : null;
  const out: ClaimsJson['claims'] = [];
  for (const key of claimKeys(ctx.db)) {
    const h = foldClaims(claimEventsOf(ctx.db, key), activity(ctx)).holder;
    if (!h || (me && h.agent !== me)) continue;
    const holder = holderJson(ctx, h);
    if (!input.all && (holder.liveness === 'gone' || holder.liveness === 'expired')) continue;
    const m = isEventId(key) ? getMessage(ctx.db, key) : undefined;
    // A request recorded done since it was claimed (by anyone) needs no holder: its claim is over.
    const outcome = m ? latestOutcomeOf(ctx.db, m.id) : undefined;
    if (!input.all && outcome?.state === 'done' && outcome.clock >= h.sinceClock) continue;
    out.push({ key, holder, message: m ? { id: m.id, subject: m.body.split('\n', 1)[0]!.slice(0, 80) } : null });
  }
  return { claims: out };
}

/** Notices for `agent` about its claims that lost to an earlier one or were taken over; each is given once. */
export function claimNotices(ctx: Context, agent: string): string[] {
  const out: string[] = [];
  for (const key of claimKeysOf(ctx.db, agent)) {
    const fold = foldClaims(claimEventsOf(ctx.db, key), activity(ctx));
    // Holding the key again (it took it back) makes what happened before moot: consumed, not said.
    const once = (event: string) =>
      giveOnce(
        ctx,
        () => wasNoticed(ctx.db, event, agent),
        () => firstNotice(ctx.db, event, agent),
      );
    if (fold.holder?.agent === agent) {
      for (const e of [...fold.lost, ...fold.taken]) firstNotice(ctx.db, e.event, agent);
      // A request another claimer finished after this agent's claim (in another clone, before the two synced:
      // there, it held the claim itself): the holder learns its work is done, failed or blocked.
      const outcome = isEventId(key) ? latestOutcomeOf(ctx.db, key) : undefined;
      if (
        outcome &&
        outcome.agent !== agent &&
        outcome.clock > fold.holder.sinceClock &&
        fold.lost.some((l) => l.agent === outcome.agent) &&
        once(outcome.id)
      )
        out.push(
          `${key}, which you hold, was marked ${outcome.state} by ${outcome.agent} at ${outcome.ts} (their claim, made in another clone, lost to yours once the two synced). Check 'handoff show ${key}' before you go on; 'handoff release ${key}' frees it.`,
        );
      continue;
    }
    for (const l of fold.lost)
      if (l.agent === agent && once(l.event))
        out.push(`your claim of ${key} (${l.ts}) lost to ${l.winner}, who claimed it first; ${l.winner} holds it.`);
    for (const t of fold.taken)
      if (t.from === agent && once(t.event))
        out.push(
          `your claim of ${key} was taken over by ${t.agent} at ${t.ts} (${t.reason === 'gone' ? 'your process was gone' : t.reason.startsWith('remote:') ? `${inertLine(t.reason.slice(7))} decided for ${t.agent}: your claim was made without --remote` : 'your lease ran out'}).`,
        );
  }
  return out;
}
