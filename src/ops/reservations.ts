/**
 * File reservations: an agent says which paths (globs) it means to change, exclusively or not, until it
 * releases them or the lease runs out. Commits and attached diffs that touch another live agent's
 * exclusive reservation are warned about (or, with handoff.reservations=block, a commit is refused).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ReservationEvent } from '../core/events';
import { stagedFiles } from '../git/history';
import { ConflictError, NotFoundError, UsageError } from '../core/errors';
import { globsOverlap } from '../core/globs';
import { inertLine, quoted } from '../core/text';
import type { ReservationJson, ReservationsJson, ReserveJson } from '../json/coordination';
import {
  everReservedExclusively,
  firstNotice,
  standingReservations,
  wasNoticed,
  type Reservation,
} from '../ledger/coordination';
import { giveOnce } from './notices';
import { appendEvent } from './append';
import { checkTtl, holderOf, liveness } from './claims';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { topRelative } from './paths';
import { markReservations } from './index-chains';
import { refuseSecrets } from './secrets';

/** Default lease of a reservation (seconds), renewed by the holder's activity. */
const DEFAULT_TTL_S = 2 * 3600;

/** `docs/` as `docs` (the top, `/`, stays as it is). */
const withoutTrailingSlash = (p: string) => p.replace(/(.)\/+$/, '$1');

/** A reservation's path or glob as stored: from the top of the working tree (ops/paths.ts); the top itself is everything. */
function checkPattern(ctx: Context, p: string): string {
  // An empty path would read as the current directory: the whole tree from the top. `.` says that.
  if (p.trim() === '')
    throw new UsageError('bad_path', 'A path was given empty. Name a path or glob; `.` reserves the whole tree.');
  // `docs/` and `docs` are one reservation (a directory reserves what is under it).
  const clean = withoutTrailingSlash(topRelative(ctx, p));
  if (clean === '.') return '**';
  // A glob with no slash matches at any depth below where it was given, as git's pathspecs do
  // (`*.md` in src/ is src/**/*.md).
  const slash = clean.lastIndexOf('/');
  if (anyDepth(withoutTrailingSlash(p)) && slash > 0) return `${clean.slice(0, slash)}/**/${clean.slice(slash + 1)}`;
  return clean;
}

/** A glob with no slash (`*.md`) matches at any depth, as in .gitignore and git's own pathspecs; a plain name (`README.md`) is that file at the top only. */
const anyDepth = (pattern: string) => /[*?[]/.test(pattern) && !pattern.includes('/');

function matcher(pattern: string): (file: string) => boolean {
  const picomatch = require('picomatch') as typeof import('picomatch');
  const m = picomatch(pattern, { dot: true, basename: anyDepth(pattern) });
  // A directory reserves what is under it.
  const under = pattern.replace(/\/+$/, '');
  return (file) => m(file) || file === under || file.startsWith(`${under}/`);
}

/**
 * Two globs overlap when some path matches both (`src/*.ts` and `src/a.*`); for syntax the glob reader
 * does not know (extglobs), when one matches the other as a path.
 */
function patternsOverlap(a: string, b: string, isFile: (p: string) => boolean): boolean {
  return globsOverlap(a, b, anyDepth, isFile) ?? (matcher(a)(b) || matcher(b)(a));
}

/**
 * Whether a plain path names a file, for comparing reservations: as the working tree has it (`Makefile`, or
 * `src/com.example` a directory), else, for a path not there (yet), when its last part has an extension.
 */
function fileTest(ctx: Context): (p: string) => boolean {
  const top = ctx.repo.worktree;
  const known = new Map<string, boolean>();
  return (p): boolean => {
    const v = known.get(p);
    if (v === undefined) {
      let st: fs.Stats | null = null;
      try {
        st = top ? fs.statSync(path.join(top, p)) : null;
      } catch {
        st = null;
      }
      const file = st ? st.isFile() : namesFile(p);
      known.set(p, file);
      return file;
    }
    return v;
  };
}

/**
 * Whether a plain path that is not in the working tree is taken for a file: its last part has an extension
 * (`src/parser.ts`, not `docs` or `.github`). A directory's reservation covers what is under it, so without
 * this every plain path would overlap every glob that matches at any depth (`*.md` and `src/parser.ts`).
 */
const namesFile = (p: string) => /^[^.].*\.[^./]+$/.test(p.slice(p.lastIndexOf('/') + 1));

function toJson(ctx: Context, r: Reservation): ReservationJson {
  const live = liveness(ctx, {
    key: r.pattern,
    agent: r.agent,
    event: r.event,
    since: r.since,
    expires: r.expires,
    ttl_ms: r.expires ? Date.parse(r.expires) - Date.parse(r.since) : null,
    host: r.host,
    pid: r.pid,
    proc_start: r.proc_start,
    remote: null,
  });
  return {
    agent: r.agent,
    pattern: r.pattern,
    exclusive: r.exclusive,
    since: r.since,
    expires: r.expires,
    liveness: live,
    reason: r.reason,
  };
}

/** Reservations that stand and whose holder is not gone or expired. */
function standing(ctx: Context): ReservationJson[] {
  return standingReservations(ctx.db)
    .map((r) => toJson(ctx, r))
    .filter((r) => r.liveness === 'live' || r.liveness === 'unknown');
}

/**
 * Another agent's exclusive reservation that stands before one of `patterns` and overlaps it, or undefined.
 * Each pattern is judged at its own place: that of the caller's reservation of it that `mine` picks out,
 * or after every reservation when there is none.
 */
function firstEarlier(
  all: ReservationJson[],
  me: string,
  patterns: string[],
  mine: (r: ReservationJson, pattern: string) => boolean,
  isFile: (p: string) => boolean,
): ReservationJson | undefined {
  for (const p of patterns) {
    const at = all.findIndex((r) => r.agent === me && mine(r, p));
    const h = all
      .slice(0, at < 0 ? all.length : at)
      .find((r) => r.agent !== me && r.exclusive && patternsOverlap(p, r.pattern, isFile));
    if (h) return h;
  }
  return undefined;
}

/** The refusal of an exclusive reservation that `h`, another agent's earlier one, overlaps. */
function refusedFor(h: ReservationJson): ConflictError {
  return new ConflictError(
    'reserved',
    `${inertLine(h.pattern)} is reserved exclusively by ${h.agent}${h.reason ? ` (${inertLine(h.reason)})` : ''}${h.expires ? ` until ${h.expires}` : ''}, so nothing was reserved. Ask ${h.agent} to release it, or reserve without --exclusive.`,
    { holder: h },
  );
}

/** Reserves paths or globs for the calling agent. */
export async function reserve(
  ctx: Context,
  input: { patterns: string[]; exclusive?: boolean; ttlSeconds?: number; reason?: string; as?: string; pid?: number },
): Promise<ReserveJson> {
  if (input.patterns.length === 0)
    throw new UsageError('bad_path', 'Say which paths to reserve: handoff reserve <path or glob>...');
  const me = resolveIdentity(ctx, { as: input.as });
  const patterns = [...new Set(input.patterns.map((p) => checkPattern(ctx, p)))];
  const ttl = checkTtl(input.ttlSeconds ?? DEFAULT_TTL_S);
  const heldBefore = new Set(
    standingReservations(ctx.db)
      .filter((r) => r.agent === me.name)
      .map((r) => r.pattern),
  );
  const expires = new Date(ctx.now().getTime() + ttl).toISOString();
  const reason = input.reason?.slice(0, 200);
  // The reason goes to every clone and stays in the ledger's history: a secret in it is refused.
  if (reason) await refuseSecrets(ctx.config(), reason, 'the reason');
  const holder = holderOf(input.pid);
  const isFile = fileTest(ctx);
  const overlaps = (r: ReservationJson) => patterns.some((p) => patternsOverlap(p, r.pattern, isFile));
  if (input.exclusive) {
    // Refused before anything is written where another agent's exclusive reservation stands earlier: a
    // renewal of an exclusive one of the caller's that still stands keeps its place, anything else (new,
    // shared before, expired) comes after every reservation there is.
    const all = standing(ctx);
    const nowIso = ctx.now().toISOString();
    const h = firstEarlier(
      all,
      me.name,
      patterns,
      (r, p) => r.exclusive && r.pattern === p && (!r.expires || r.expires > nowIso),
      isFile,
    );
    if (h) throw refusedFor(h);
  }
  const before = standing(ctx);
  // A renewal without -x makes an exclusive reservation shared: said, since the usual reason to reserve again
  // is a new note or a longer lease.
  const nowShared = input.exclusive
    ? []
    : before.filter((r) => r.agent === me.name && r.exclusive && patterns.includes(r.pattern)).map((r) => r.pattern);
  // An exclusive reservation over paths others reserved (shared) before: they are told nothing by the ledger
  // until their commits are warned of, so the caller is told who they are.
  const sharedByOthers = input.exclusive
    ? before.filter((r) => r.agent !== me.name && !r.exclusive && overlaps(r))
    : [];
  const { event } = appendEvent<ReservationEvent>(ctx, me, {
    type: 'reservation',
    action: 'reserve',
    patterns,
    exclusive: !!input.exclusive,
    expires,
    ...(holder ? { holder } : {}),
    ...(reason ? { reason } : {}),
  });
  // Reservations stand in the order they were made (ledger order, the same in every clone). An exclusive
  // one that overlaps another agent's earlier exclusive one is withdrawn at once: two writers that
  // reserve at the same moment both write, and the later one, seeing the earlier, withdraws.
  const all = standing(ctx);
  const first = input.exclusive ? firstEarlier(all, me.name, patterns, (r, p) => r.pattern === p, isFile) : undefined;
  const earlier = first ? [first] : [];
  if (earlier.length) {
    const withdrawn = patterns.filter((p) => !heldBefore.has(p));
    if (withdrawn.length)
      appendEvent<ReservationEvent>(ctx, me, { type: 'reservation', action: 'release', patterns: withdrawn });
    markReservations(ctx);
    throw refusedFor(earlier[0]!);
  }
  markReservations(ctx);
  if (nowShared.length)
    ctx.warn(
      `your reservation of ${nowShared.map((p) => inertLine(p)).join(', ')} is shared now, no longer exclusive; reserve it with -x to keep others out.`,
    );
  for (const r of sharedByOthers.slice(0, 5))
    ctx.warn(
      `${r.agent} reserved ${inertLine(r.pattern)} before you (shared${r.reason ? `: ${inertLine(r.reason)}` : ''}); your exclusive reservation now warns of (or refuses) their commits there: tell them.`,
    );
  const conflicts = all.filter((r) => r.agent !== me.name && r.exclusive && overlaps(r));
  return { agent: me.name, patterns, exclusive: !!input.exclusive, expires, event: event.id, conflicts };
}

/** Releases the caller's reservations of `patterns` (all of them when none is given). */
export function releaseReservations(
  ctx: Context,
  input: { patterns: string[]; as?: string },
): { agent: string; released: string[] } {
  const me = resolveIdentity(ctx, { as: input.as });
  const held = standingReservations(ctx.db).filter((r) => r.agent === me.name);
  const same = (a: string, b: string) => withoutTrailingSlash(a) === withoutTrailingSlash(b);
  const isHeld = (p: string) => held.some((r) => same(p, r.pattern));
  // A path is taken from the current directory, as git takes it; in a subdirectory, one this agent has not
  // reserved from there but has from the top (as 'handoff reservations' and reserve print them) is that one.
  const patterns = input.patterns.map((given) => {
    const here = checkPattern(ctx, given);
    if (isHeld(here) || /^(:|\/)/.test(given.trim())) return here;
    const fromTop = checkPattern(ctx, `:/${given.trim()}`);
    return isHeld(fromTop) ? fromTop : here;
  });
  // Paths named that this agent has not reserved: nothing is released, as for a claim it does not hold.
  const unknown = patterns.filter((p) => !isHeld(p));
  if (unknown.length)
    throw new NotFoundError(
      'not_reserved',
      `${me.name} has not reserved ${unknown.map((p) => quoted(p)).join(', ')}, so nothing was released. 'handoff reservations' lists what is reserved, and by whom.`,
    );
  const released = held
    .filter((r) => patterns.length === 0 || patterns.some((p) => same(p, r.pattern)))
    .map((r) => r.pattern);
  // The event names the reservations as they were made (one made as `docs/` before names were normalised).
  if (released.length)
    appendEvent<ReservationEvent>(ctx, me, {
      type: 'reservation',
      action: 'release',
      patterns: patterns.length ? released : [],
    });
  markReservations(ctx);
  return { agent: me.name, released };
}

/**
 * Notices for `agent` about its exclusive reservations that overlap another live agent's earlier exclusive
 * one: made in two clones before they synced, the earlier holds (reservedByOthers), which the later one's
 * agent learns here, once per reservation, rather than at a refused commit.
 */
export function reservationNotices(ctx: Context, agent: string): string[] {
  if (!everReservedExclusively(ctx.db, agent)) return [];
  const all = standingReservations(ctx.db);
  if (!all.some((r) => r.agent === agent && r.exclusive)) return [];
  const live = (r: Reservation) => ['live', 'unknown'].includes(toJson(ctx, r).liveness);
  const isFile = fileTest(ctx);
  const lost = new Map<string, string[]>();
  all.forEach((r, i) => {
    if (r.agent !== agent || !r.exclusive) return;
    const first = all
      .slice(0, i)
      .find((e) => e.agent !== agent && e.exclusive && patternsOverlap(r.pattern, e.pattern, isFile) && live(e));
    if (first)
      lost.set(r.event, [
        ...(lost.get(r.event) ?? []),
        `your exclusive reservation of ${inertLine(r.pattern)} overlaps ${first.agent}'s of ${inertLine(first.pattern)}, made first (in another clone, before the two synced): the paths both name are ${first.agent}'s, and your commits into them are warned of or refused.`,
      ]);
  });
  const out: string[] = [];
  for (const [event, lines] of lost)
    if (
      giveOnce(
        ctx,
        () => wasNoticed(ctx.db, event, agent),
        () => firstNotice(ctx.db, event, agent),
      )
    )
      out.push(...lines);
  return out;
}

/** Every standing reservation (with `all`, also those of agents that are gone or expired). */
export function reservations(ctx: Context, input: { all?: boolean } = {}): ReservationsJson {
  const rows = standingReservations(ctx.db).map((r) => toJson(ctx, r));
  return { reservations: input.all ? rows : rows.filter((r) => r.liveness === 'live' || r.liveness === 'unknown') };
}

/** The files among `files` that another live agent reserved exclusively, with the reservation. */
export function reservedByOthers(
  ctx: Context,
  me: string,
  files: string[],
): { file: string; reservation: ReservationJson }[] {
  const exclusive = standing(ctx).filter((r) => r.exclusive);
  if (!exclusive.some((r) => r.agent !== me)) return [];
  // A file belongs to the earliest exclusive reservation that covers it: one made later by another agent
  // (in another clone, before the two synced) does not take it from the caller.
  const tests = exclusive.map((r) => ({ r, test: matcher(r.pattern) }));
  const out: { file: string; reservation: ReservationJson }[] = [];
  for (const file of files) {
    const first = tests.find((t) => t.test(file));
    if (first && first.r.agent !== me) out.push({ file, reservation: first.r });
  }
  return out;
}

/** The staged files of the next commit that another live agent reserved exclusively (for the pre-commit hook). */
export function stagedReservationHits(ctx: Context, me: string): { file: string; reservation: ReservationJson }[] {
  return reservedByOthers(ctx, me, stagedFiles(ctx.repo.cwd));
}
