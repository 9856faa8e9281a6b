/**
 * Attribution: recording which agent made a commit for which handoff (post-commit), following commits
 * through amend, rebase and squash (post-rewrite), and resolving any commit back to its agent and
 * message, re-linking through trailers and patch ids where no hook ran.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isEventId, type AttributionEvent, type RewriteEvent } from '../core/events';
import { NAME_PATTERN, slugifyName } from '../core/names';
import {
  addedLines,
  addedRanges,
  commitPatch,
  patchIds,
  patchIdsOf,
  readCommitWithPatch,
  readCommits,
  type CommitInfo,
} from '../git/commits';
import {
  agentCommitsTouching,
  anyAgentCommitBefore,
  attributionByPatchId,
  attributionsByPatchId,
  attributionsOf,
  commitsWithLineRecords,
  listAttributions,
  commitFacts,
  rewrittenFrom,
  rewrittenInto,
  saveCommitFacts,
  type AttributionRow,
} from '../ledger/attributions';
import { writeTx } from '../ledger/db';
import { isAncestor } from '../git/exec';
import { getMessage } from '../ledger/messages';
import { shortId } from '../core/ids';
import { firstLine, inert } from '../core/text';
import type { IdentityJson } from '../json/types';
import { appendEvent } from './append';
import type { Context } from './context';
import { resolveIdentity } from './identity';
import { linkOf, workingOn } from './working';
import type { Link, LinkVia } from '../json/types';
import {
  commitExists,
  filesOfCommit,
  notReachableFrom,
  notReachableFromAsync,
  objectsExist,
  parentsAndDate,
} from '../git/history';

/** The committing identity, or the git author as a human when there is none. */
function committer(ctx: Context, info: CommitInfo | undefined): IdentityJson {
  try {
    return resolveIdentity(ctx);
  } catch {
    const name = slugifyName(info?.author ?? '') ?? 'unknown';
    return { name, runtime: null, via: 'git-user' };
  }
}

const validName = (s: string | undefined) => (s && NAME_PATTERN.test(s) && !s.includes('..') ? s : undefined);

/** Records the attribution of a commit (HEAD by default); does nothing if it is already recorded. */
export function recordCommit(ctx: Context, opts: { rev?: string } = {}): AttributionEvent | null {
  // One git process for the commit and its patch: this runs on every commit.
  const read = readCommitWithPatch(ctx.repo.cwd, opts.rev ?? 'HEAD');
  if (!read) return null;
  const { info, patch } = read;
  if (attributionsOf(ctx.db, [info.commit]).size) return null;
  const me = committer(ctx, info);
  const trailerAgent = validName(info.trailers['handoff-agent']?.[0]);
  const human = !trailerAgent && me.via === 'git-user';
  // A human is named after the commit's author (who may differ from this clone's git user).
  const agent = trailerAgent ?? (human ? (slugifyName(info.author) ?? me.name) : me.name);
  let messages = (info.trailers['handoff-message'] ?? []).filter(isEventId);
  let link: Link | null = null;
  if (messages.length) {
    // The hook writes the trailer for pinned and reply links; anything else in a trailer was put there on purpose.
    const w = workingOn(ctx, agent);
    link = w.message === messages[0] && w.mode === 'reply' ? 'reply' : 'pinned';
  } else if (!human && (!trailerAgent || trailerAgent === me.name)) {
    // No trailer: the newest request the agent read is a guess, recorded as one. Not for a commit that
    // names another agent than the one committing (a cherry-pick or a rebase of that agent's work): what
    // that agent reads now has nothing to do with it.
    const w = workingOn(ctx, agent);
    if (w.message) {
      messages = [w.message];
      link = linkOf(w);
    }
  }
  // A merge brings in changes already recorded: its patch id would be theirs, and the lines its diff adds
  // are theirs too (git blame gives a merge only the lines it made itself, a conflict's resolution).
  const merge = info.parents.length > 1;
  const pid = merge
    ? null
    : (patchIds(ctx.repo.cwd, Buffer.concat([Buffer.from(`commit ${info.commit}\n`), read.patchBytes])).get(
        info.commit,
      ) ?? null);
  // A copy of another agent's commit (a cherry-pick) answers what the original answered.
  if (pid && !merge && trailerAgent && trailerAgent !== me.name && messages.length === 0) {
    const original = attributionsByPatchId(ctx.db, pid).find((r) => r.agent === agent && r.commit_id !== info.commit);
    if (original) {
      messages = (JSON.parse(original.messages) as string[]).filter(isEventId);
      link = messages.length ? ((original.link as Link | null) ?? 'pinned') : null;
    }
  }
  const squashed = squashSources(ctx, info.message);
  if (squashed.length) recordSquash(ctx, me, info.commit, squashed);
  else if (pid) {
    // The same patch as a recorded squash (a cherry-pick of it): its lines come from the same commits.
    const prior = attributionByPatchId(ctx.db, pid);
    let sources = prior && prior.commit_id !== info.commit ? squashSourcesOf(ctx, prior.commit_id) : [];
    // A squash made by a rebase has no attribution of its own, only its lines: a message carrying several
    // commits' trailers (a squash's, copied) is looked for among those, by patch id.
    if (sources.length === 0 && (info.message.match(/^Handoff-Agent:/gim) ?? []).length >= 2) {
      const all = [...commitsWithLineRecords(ctx.db)].filter((c) => c !== info.commit).slice(-SQUASHES_LOOKED_AT);
      const here = objectsExist(ctx.repo.cwd, all);
      const squashes = all.filter((_, i) => here[i]);
      const same = [...patchIdsOf(ctx.repo.cwd, squashes)].find(([, p]) => p === pid);
      if (same) sources = squashSourcesOf(ctx, same[0]);
    }
    if (sources.length) recordSquash(ctx, me, info.commit, sources);
  }
  const { event } = appendEvent<AttributionEvent>(ctx, me, {
    type: 'attribution',
    commit: info.commit,
    tree: info.tree,
    parents: info.parents,
    patch_id: pid,
    agent,
    human,
    messages: [...new Set(messages)],
    ...(link ? { link } : {}),
    files: merge ? {} : addedRanges(patch),
    subject: info.message.split('\n', 1)[0]!.slice(0, 200),
  });
  return event;
}

/** The line the post-commit hook prints: which agent the commit was recorded for, and which handoff it answers. */
export function commitNotice(ctx: Context, e: AttributionEvent): string | null {
  if (e.human) return null;
  const who = `handoff: ${e.commit.slice(0, 7)} recorded for ${e.agent}`;
  const id = e.messages[0];
  if (!id) return `${who}, answering no handoff ('handoff work-on <id>' links the next commits to one)`;
  const m = getMessage(ctx.db, id);
  const what = `${shortId(id)}${m ? ` "${firstLine(m.body, 50)}" from ${inert(m.sender)}` : ''}`;
  if (e.link === 'guess')
    return `${who}, answering ${what}: a guess (the newest request ${e.agent} read); 'handoff work-on <id>' pins the right one`;
  return `${who}, answering ${what} (${e.link === 'reply' ? `${e.agent} replied to it with a diff` : 'pinned'})`;
}

/**
 * The commits a squash merge was made from, oldest first: listed by the prepare-commit-msg hook from
 * SQUASH_MSG (so an edited message does not matter), or in git's default "Squashed commit of the
 * following:" message.
 */
function squashSources(ctx: Context, message: string): string[] {
  const file = path.join(ctx.repo.gitDir, 'handoff-squash');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
    fs.rmSync(file, { force: true });
  } catch {
    /* not a squash made with the hooks installed */
  }
  if (!text && /^Squashed commit of the following:/.test(message)) text = message;
  const listed = [...text.matchAll(/^commit ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
  return [...new Set(listed)].reverse().filter((c) => commitExists(ctx.repo.cwd, c));
}

/** The commits a squash was made from (recorded with per-line owners), following earlier rewrites of it. */
type LineOwners = Record<string, [number, number, string][]>;

/**
 * The per-line owners recorded for a squash commit, if any. Several records may map one commit (an amend
 * inside a rebase, then the rebase itself): the fullest one wins.
 */
function lineRecordOf(from: { lines: string | null }[]): LineOwners | null {
  const best = from.filter((f) => f.lines).sort((a, b) => b.lines!.length - a.lines!.length)[0];
  return best ? (JSON.parse(best.lines!) as LineOwners) : null;
}

function squashSourcesOf(ctx: Context, commit: string, depth = 0): string[] {
  const from = rewrittenFrom(ctx.db, commit);
  const owners = lineRecordOf(from);
  if (owners) return [...new Set(Object.values(owners).flatMap((r) => r.map((x) => x[2])))];
  if (from.length === 1 && depth < 20) return squashSourcesOf(ctx, from[0]!.old_commit, depth + 1);
  return [];
}

/** How many squashes with line records a copy of one is compared with (the newest). */
const SQUASHES_LOOKED_AT = 200;

/** Records that `commit` was squashed from `sources`, with which of them added each line. */
function recordSquash(ctx: Context, me: IdentityJson, commit: string, sources: string[]): void {
  if (sources.length === 0) return;
  const lines = lineOwners(ctx.repo.cwd, commit, sources, ctx.db);
  appendEvent<RewriteEvent>(ctx, me, {
    type: 'rewrite',
    kind: 'relink',
    pairs: sources.map((old) => ({ old, new: commit })),
    lines: { [commit]: lines },
  });
}

/** Records a rewrite reported by post-rewrite (stdin lines "old new"). */
export function recordRewrite(ctx: Context, opts: { kind: 'amend' | 'rebase'; input: string }): RewriteEvent | null {
  const pairs: { old: string; new: string }[] = [];
  for (const line of opts.input.split('\n')) {
    const [oldC, newC] = line.trim().split(' ');
    if (oldC && newC && /^[0-9a-f]{40}$/.test(oldC) && /^[0-9a-f]{40}$/.test(newC) && oldC !== newC)
      pairs.push({ old: oldC, new: newC });
  }
  if (pairs.length === 0) return null;
  // A new commit made from several old ones (squash): map each added line to the old commit that added it.
  const byNew = new Map<string, string[]>();
  for (const p of pairs) byNew.set(p.new, [...(byNew.get(p.new) ?? []), p.old]);
  const lines: Record<string, Record<string, [number, number, string][]>> = {};
  for (const [newC, olds] of byNew) {
    if (olds.length >= 2) lines[newC] = lineOwners(ctx.repo.cwd, newC, olds, ctx.db);
    // An amend: the lines the amended commit added keep their owner (another agent may have amended it).
    else if (
      opts.kind === 'amend' &&
      (lineRecordOf(rewrittenFrom(ctx.db, olds[0]!)) || !squashSourcesOf(ctx, olds[0]!).length)
    ) {
      const owners = amendLineOwners(ctx, newC, olds[0]!);
      if (Object.keys(owners).length) lines[newC] = owners;
    }
    // A squash amended or rebased again: its lines still come from the commits it was squashed from.
    else {
      const sources = squashSourcesOf(ctx, olds[0]!);
      if (sources.length) lines[newC] = lineOwners(ctx.repo.cwd, newC, sources, ctx.db);
    }
  }
  const resolved = opts.kind === 'rebase' ? resolvedInRebase(ctx, byNew, lines) : [];
  const { event } = appendEvent<RewriteEvent>(ctx, committer(ctx, undefined), {
    type: 'rewrite',
    kind: opts.kind,
    pairs,
    ...(Object.keys(lines).length ? { lines } : {}),
  });
  for (const r of resolved) attributeResolution(ctx, r.commit, r.old);
  return event;
}

/**
 * Commits a rebase copied with lines their originals did not add (a conflict resolved, an edit at a stop):
 * the lines the original added keep their owner (in `lines`, as for an amend), and the rest are their
 * resolver's, who ran the rebase (recorded by attributeResolution). A plain copy has the original's patch
 * id and costs one `git patch-id` for all.
 */
function resolvedInRebase(
  ctx: Context,
  byNew: Map<string, string[]>,
  lines: Record<string, LineOwners>,
): { commit: string; old: string }[] {
  const single = [...byNew].filter(([newC, olds]) => olds.length === 1 && !lines[newC]);
  if (!single.length) return [];
  const pids = patchIdsOf(
    ctx.repo.cwd,
    single.flatMap(([newC, olds]) => [newC, olds[0]!]),
  );
  const out: { commit: string; old: string }[] = [];
  for (const [newC, [old]] of single) {
    const a = pids.get(newC);
    const b = pids.get(old!);
    if (!a || !b || a === b || attributionsOf(ctx.db, [newC]).size) continue;
    const stats = { added: 0 };
    const owners = amendLineOwners(ctx, newC, old!, stats);
    const kept = Object.values(owners)
      .flat()
      .reduce((n, [, c]) => n + c, 0);
    if (kept >= stats.added) continue;
    lines[newC] = owners;
    out.push({ commit: newC, old: old! });
  }
  return out;
}

/**
 * The attribution of a commit a rebase copied with lines of its own (resolvedInRebase): its resolver's,
 * answering what the original answered.
 */
function attributeResolution(ctx: Context, commit: string, old: string): void {
  const read = readCommitWithPatch(ctx.repo.cwd, commit);
  if (!read) return;
  const { info, patch } = read;
  const me = committer(ctx, undefined);
  const human = me.via === 'git-user';
  const original = attributionsOf(ctx.db, [old]).get(old);
  const messages = original ? (JSON.parse(original.messages) as string[]).filter(isEventId) : [];
  const pid =
    patchIds(ctx.repo.cwd, Buffer.concat([Buffer.from(`commit ${info.commit}\n`), read.patchBytes])).get(info.commit) ??
    null;
  appendEvent<AttributionEvent>(ctx, me, {
    type: 'attribution',
    commit: info.commit,
    tree: info.tree,
    parents: info.parents,
    patch_id: pid,
    agent: human ? (slugifyName(me.name) ?? me.name) : me.name,
    human,
    messages,
    ...(messages.length ? { link: (original?.link as Link | null) ?? 'pinned' } : {}),
    files: addedRanges(patch),
    subject: info.message.split('\n', 1)[0]!.slice(0, 200),
  });
}

/**
 * For a commit made from several others (a squash), which of them added each of its added lines: per file,
 * [first line, count, source commit] in the new commit's version of the file. Lines are matched by content,
 * each source line used once.
 */
function lineOwners(
  cwd: string,
  newC: string,
  olds: string[],
  db?: Context['db'],
  /** Filled with how many lines `newC` added, and, of the sources credited, how many they added and gave. */
  stats?: { added: number; sources: Map<string, { added: number; given: number }> },
): Record<string, [number, number, string][]> {
  const pool = olds.map((o) => ({
    commit: o,
    added: addedLines(commitPatch(cwd, o)),
    // A source with per-line owners of its own (an amend by another agent): its lines go to those.
    owners: db ? lineRecordOf(rewrittenFrom(db, o)) : null,
  }));
  const addedBy = pool.map((p) => [...p.added.values()].reduce((n, m) => n + m.size, 0));
  const mine = addedLines(commitPatch(cwd, newC));
  if (stats) stats.added = [...mine.values()].reduce((n, m) => n + m.size, 0);
  const out: Record<string, [number, number, string][]> = {};
  for (const [file, rows] of mine) {
    const ranges: [number, number, string][] = [];
    for (const [lineNo, text] of [...rows].sort((a, b) => a[0] - b[0])) {
      // The source that added this text in this file nearest to where it is now (the same text added in two
      // places by two commits goes to each); at equal distance the newest, which rewrote the line. Else a
      // source that added it to another file (a rename, a line moved).
      let found: { i: number; file: string; at: number; d: number } | null = null;
      for (const [i, p] of pool.entries())
        for (const [k, t] of p.added.get(file) ?? [])
          if (t === text && (!found || Math.abs(k - lineNo) <= found.d))
            found = { i, file, at: k, d: Math.abs(k - lineNo) };
      if (!found)
        for (const [i, p] of pool.entries())
          for (const [f, m] of p.added)
            if (f !== file)
              for (const [k, t] of m) if (t === text && (!found || i > found.i)) found = { i, file: f, at: k, d: 0 };
      if (!found) continue;
      const { i, file: from, at } = found;
      const owner = pool[i]!;
      owner.added.get(from)!.delete(at);
      if (stats) {
        const s = stats.sources.get(owner.commit) ?? { added: addedBy[i]!, given: 0 };
        s.given++;
        stats.sources.set(owner.commit, s);
      }
      const source = owner.owners?.[from]?.find(([s, c]) => at >= s && at < s + c)?.[2] ?? owner.commit;
      const last = ranges[ranges.length - 1];
      if (last && last[2] === source && last[0] + last[1] === lineNo) last[1]++;
      else ranges.push([lineNo, 1, source]);
    }
    if (ranges.length) out[file] = ranges;
  }
  return out;
}

/**
 * For an amend, the commit that added each line of `newC` that `old` had added: `old` itself, or, where `old`
 * has per-line owners of its own (an amend amended again, a squash), the commit those name. Lines the amend
 * added are left out: they are the new commit's own.
 */
function amendLineOwners(ctx: Context, newC: string, old: string, stats?: { added: number }): LineOwners {
  const cwd = ctx.repo.cwd;
  const before = addedLines(commitPatch(cwd, old));
  const theirs = lineRecordOf(rewrittenFrom(ctx.db, old));
  const pools = new Map([...before].map(([file, rows]) => [file, new Map(rows)]));
  const take = (file: string, text: string): string | null => {
    const pool = pools.get(file);
    const k = pool ? [...pool].find(([, t]) => t === text)?.[0] : undefined;
    if (k === undefined) return null;
    pool!.delete(k);
    return theirs?.[file]?.find(([s, c]) => k >= s && k < s + c)?.[2] ?? old;
  };
  const owners = new Map<string, Map<number, string>>();
  const left: [string, number, string][] = [];
  const mine = addedLines(commitPatch(cwd, newC));
  if (stats) stats.added = [...mine.values()].reduce((n, m) => n + m.size, 0);
  // Same file first; then a line the amend moved to another file (or renamed with it) is found there.
  for (const [file, rows] of mine)
    for (const [lineNo, text] of [...rows].sort((a, b) => a[0] - b[0])) {
      const owner = take(file, text);
      if (owner) (owners.get(file) ?? owners.set(file, new Map()).get(file)!).set(lineNo, owner);
      else left.push([file, lineNo, text]);
    }
  for (const [file, lineNo, text] of left) {
    let owner: string | null = null;
    for (const f of pools.keys()) if ((owner = take(f, text))) break;
    if (owner) (owners.get(file) ?? owners.set(file, new Map()).get(file)!).set(lineNo, owner);
  }
  const out: LineOwners = {};
  for (const [file, byLine] of owners) {
    const ranges: [number, number, string][] = [];
    for (const [lineNo, owner] of [...byLine].sort((a, b) => a[0] - b[0])) {
      const last = ranges[ranges.length - 1];
      if (last && last[2] === owner && last[0] + last[1] === lineNo) last[1]++;
      else ranges.push([lineNo, 1, owner]);
    }
    out[file] = ranges;
  }
  return out;
}

/** Clock skew allowed between a commit's date and the attribution clock of the commits it squashed. */
const SKEW_MS = 60 * 60 * 1000;

export interface Resolved {
  agent: string;
  human: boolean;
  messages: string[];
  via: LinkVia;
  /** The commit the attribution was recorded for (differs from the asked one after a rewrite). */
  source: string;
  /** How sure the link to `messages` is; null when there are none. */
  link: Link | null;
}

/** Resolves commits to agents: recorded attributions, then rewrites, then trailers, then patch ids. */
export class CommitResolver {
  private readonly cache = new Map<string, Resolved | null>();
  private readonly squashLines = new Map<string, Record<string, [number, number, string][]>>();
  /** Commits whose lines were traced by content (relinkByContent). */
  private readonly relinked = new Set<string>();
  private unmerged: Set<string> | undefined;
  private pendingUnmerged: Promise<Set<string>> | undefined;
  private lineRecords: Set<string> | undefined;
  /** `tip`: the revision being blamed or logged; squash sources are agents' commits outside its history. */
  constructor(
    private readonly ctx: Context,
    private readonly tip = 'HEAD',
  ) {}

  /** Agents' attributed commits (the newest 500) that exist here and are not in the history of the tip. */
  private unmergedAgentCommits(): Set<string> {
    if (this.unmerged) return this.unmerged;
    const recent = this.recentAgentCommits();
    this.unmerged = new Set();
    if (recent.length === 0) return this.unmerged;
    // One walk: what the agents' commits reach that the tip does not (missing commits are skipped).
    this.unmerged = notReachableFrom(this.ctx.repo.cwd, recent, this.tip);
    return this.unmerged;
  }
  private recentAgentCommits(): string[] {
    return listAttributions(this.ctx.db, { limit: 500 })
      .filter((r) => !r.human)
      .map((r) => r.commit_id);
  }

  /**
   * Starts the walk of unmergedAgentCommits in the background, for a caller that waits for git meanwhile
   * (blame, while git blame runs): it may not be needed, and costs nothing then but an idle moment. Pass
   * ready() before resolving.
   */
  prefetch(): void {
    if (this.unmerged || this.pendingUnmerged) return;
    const recent = this.recentAgentCommits();
    if (recent.length === 0) {
      this.unmerged = new Set();
      return;
    }
    this.pendingUnmerged = notReachableFromAsync(this.ctx.repo.cwd, recent, this.tip);
    // A walk that fails is made again when it is needed.
    this.pendingUnmerged.catch(() => undefined);
  }
  /** Takes the result of prefetch(). */
  async ready(): Promise<void> {
    const pending = this.pendingUnmerged;
    this.pendingUnmerged = undefined;
    if (pending) this.unmerged = await pending.catch(() => undefined);
  }
  private fromRow(row: AttributionRow, via: LinkVia): Resolved {
    const messages = JSON.parse(row.messages) as string[];
    return {
      agent: row.agent,
      human: !!row.human,
      messages,
      via,
      source: row.commit_id,
      link: messages.length ? ((row.link as Link | null) ?? 'pinned') : null,
    };
  }

  /** Looks up many commits at once (the fallbacks cost two git processes for all unknown commits). */
  resolveAll(commits: string[]): void {
    const todo = [...new Set(commits)].filter((c) => !this.cache.has(c) && !/^0+$/.test(c));
    const unknown: string[] = [];
    for (const c of todo) {
      const r = this.viaLedger(c, 0);
      this.cache.set(c, r);
      if (!r) unknown.push(c);
    }
    if (unknown.length === 0) return;
    // Trailers and patch ids never change for a commit: computed once, then read from the cache.
    const facts = commitFacts(this.ctx.db, unknown);
    const missing = unknown.filter((c) => !facts.has(c));
    if (missing.length) {
      // A commit whose message joins several commits' handoff trailers (a squash in `rebase -i` where no
      // hook ran) is not the last one's: its lines are traced by content to the commits it was made from.
      const trailerOf = (i: CommitInfo) => (i.combined ? undefined : validName(i.trailers['handoff-agent']?.[0]));
      const infos = readCommits(this.ctx.repo.cwd, missing);
      const needPid = infos.filter((i) => !trailerOf(i)).map((i) => i.commit);
      const pids = patchIdsOf(this.ctx.repo.cwd, needPid);
      writeTx(this.ctx.db, () => {
        for (const info of infos) {
          const f = {
            commit_id: info.commit,
            patch_id: pids.get(info.commit) ?? null,
            trailer_agent: trailerOf(info) ?? null,
            trailer_msgs: JSON.stringify(
              info.combined ? [] : (info.trailers['handoff-message'] ?? []).filter(isEventId),
            ),
            parents: info.parents.length,
            committed_at: Date.parse(info.commitTime) || null,
          };
          saveCommitFacts(this.ctx.db, f);
          facts.set(info.commit, f);
        }
      });
    }
    for (const c of unknown) {
      const f = facts.get(c);
      if (!f) continue;
      if (f.trailer_agent) {
        const messages = JSON.parse(f.trailer_msgs) as string[];
        this.cache.set(c, {
          agent: f.trailer_agent,
          human: false,
          messages,
          via: 'trailer',
          source: c,
          link: messages.length ? 'pinned' : null,
        });
      } else if (f.patch_id && (f.parents ?? 1) <= 1) {
        // (A merge's first-parent patch is the merged commits': it is not their copy.)
        const row = this.copiedFrom(c, attributionsByPatchId(this.ctx.db, f.patch_id));
        if (row) {
          this.cache.set(c, this.fromRow(row, 'patch-id'));
          // The same patch as a squash: its lines come from the squashed commits, here too.
          const sources = squashSourcesOf(this.ctx, row.commit_id);
          if (sources.length) this.squashLines.set(c, lineOwners(this.ctx.repo.cwd, c, sources, this.ctx.db));
        }
      }
      // Only a commit with one parent, made after some agent commit was recorded, can be a squash of them.
      if (
        !this.cache.get(c) &&
        f.parents === 1 &&
        f.committed_at &&
        anyAgentCommitBefore(this.ctx.db, f.committed_at + SKEW_MS)
      ) {
        this.relinkByContent(c, f.committed_at + SKEW_MS);
      }
    }
  }

  /**
   * Which of the recorded commits with a commit's patch id it copies. Agents that made the same change each
   * have one: the one its message names (git's squash message lists the commits it squashed) is taken, else
   * the newest.
   */
  private copiedFrom(commit: string, rows: AttributionRow[]): AttributionRow | undefined {
    if (rows.length < 2 || new Set(rows.map((r) => r.agent)).size < 2) return rows[0];
    const named = readCommits(this.ctx.repo.cwd, [commit])[0]?.message.match(/\b[0-9a-f]{7,64}\b/g) ?? [];
    return rows.find((r) => named.some((h) => r.commit_id.startsWith(h))) ?? rows[0];
  }

  /**
   * A commit no hook saw and no trailer or patch id explains, such as a squash merge made on the host with
   * an edited message: each added line is traced to the agent's commit that added the same text to the
   * same file, among attributed commits that are not already in its history.
   */
  private relinkByContent(commit: string, beforeClock: number): void {
    const cwd = this.ctx.repo.cwd;
    const unmerged = this.unmergedAgentCommits();
    if (unmerged.size === 0) return;
    const files = filesOfCommit(cwd, commit, { firstParent: true });
    const candidates = new Map<string, AttributionRow>();
    for (const f of files.slice(0, 50))
      for (const row of agentCommitsTouching(this.ctx.db, f, beforeClock, 50)) candidates.set(row.commit_id, row);
    if (candidates.size === 0) return;
    const sources = [...candidates.values()]
      .filter((r) => unmerged.has(r.commit_id) && !isAncestor(cwd, commit, r.commit_id))
      .sort((a, b) => a.clock - b.clock)
      .map((r) => r.commit_id);
    if (sources.length === 0) return;
    const stats = { added: 0, sources: new Map<string, { added: number; given: number }>() };
    const owners = lineOwners(cwd, commit, sources, this.ctx.db, stats);
    if (Object.keys(owners).length === 0) return;
    // A squash carries most of its sources' lines, and is made mostly of them; a commit that shares a line
    // or two with agents' work that never landed (an abandoned branch) is not one.
    const given = [...stats.sources.values()].reduce((n, s) => n + s.given, 0);
    const offered = [...stats.sources.values()].reduce((n, s) => n + s.added, 0);
    if (given * 2 <= stats.added || given * 2 <= offered) return;
    this.squashLines.set(commit, owners);
    this.relinked.add(commit);
  }

  private viaLedger(commit: string, depth: number): Resolved | null {
    if (depth > 50) return null;
    // A squash keeps, per line, the commit that line came from (even when the squash itself is attributed).
    this.lineRecords ??= commitsWithLineRecords(this.ctx.db);
    if (depth === 0 && this.lineRecords.has(commit)) {
      const owners = lineRecordOf(rewrittenFrom(this.ctx.db, commit));
      if (owners) this.squashLines.set(commit, owners);
    }
    const direct = attributionsOf(this.ctx.db, [commit]).get(commit);
    if (direct) return this.fromRow(direct, depth === 0 ? 'hook' : 'rewrite');
    const from = rewrittenFrom(this.ctx.db, commit);
    if (from.length === 0) return null;
    for (const f of from) {
      const r = this.viaLedger(f.old_commit, depth + 1);
      if (r) return { ...r, via: 'rewrite' };
    }
    return null;
  }

  /** The attribution of a commit, refined per line for squashed commits (`file`, `line` in that commit). */
  resolve(commit: string, at?: { file: string; line: number }): Resolved | null {
    if (!this.cache.has(commit)) this.resolveAll([commit]);
    const lines = at && this.squashLines.get(commit)?.[at.file];
    if (lines) {
      const hit = lines.find(([start, count]) => at!.line >= start && at!.line < start + count);
      if (hit) {
        const r = this.viaLedger(hit[2], 1);
        if (r) return { ...r, via: this.relinked.has(commit) ? 'content' : 'rewrite' };
      }
    }
    return this.cache.get(commit) ?? null;
  }

  /**
   * Where a commit's lines come from several commits (a squash): what each of those resolves to, in the order
   * their lines first appear, one per agent. Empty for any other commit.
   */
  contributors(commit: string): Resolved[] {
    if (!this.cache.has(commit)) this.resolveAll([commit]);
    const owners = this.squashLines.get(commit);
    if (!owners) return [];
    const sources = [...new Set(Object.values(owners).flatMap((ranges) => ranges.map((r) => r[2])))];
    const out = new Map<string, Resolved>();
    for (const source of sources) {
      const r = this.viaLedger(source, 1);
      const key = r ? `${r.human ? 'h' : 'a'}:${r.agent}` : null;
      if (r && key && !out.has(key)) out.set(key, r);
    }
    return [...out.values()];
  }
}

/** Without a reflog: how recent a merge commit must be for the post-merge hook to take it as just made here. */
const JUST_MERGED_S = 10 * 60;

/**
 * Whether HEAD is a merge commit that `git merge` or `git pull` has just made (the post-merge hook runs then,
 * and also after a fast-forward, where HEAD moved to commits made elsewhere, which are recorded there or
 * nowhere: even a merge someone else made on top of what HEAD was). HEAD's reflog says which: git writes
 * "...: Fast-forward" (never translated) for a fast-forward. Without a reflog (core.logAllRefUpdates off): a
 * merge whose first parent is what HEAD was before (ORIG_HEAD) and whose date is a moment ago.
 */
export function mergeJustMade(ctx: Context): boolean {
  const head = parentsAndDate(ctx.repo.cwd, 'HEAD');
  if (!head || head.parents.length < 2) return false;
  const last = lastReflogEntry(path.join(ctx.repo.gitDir, 'logs', 'HEAD'));
  if (last && last.next === head.commit) return last.old === head.parents[0] && !/: Fast-forward$/.test(last.message);
  let before: string;
  try {
    before = fs.readFileSync(path.join(ctx.repo.gitDir, 'ORIG_HEAD'), 'utf8').trim();
  } catch {
    return false;
  }
  return head.parents[0] === before && Math.abs(Date.now() / 1000 - head.date) < JUST_MERGED_S;
}

/** The last line of a reflog file ("<old> <new> <who> <when>\t<message>"), read from its end. */
function lastReflogEntry(file: string): { old: string; next: string; message: string } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const want = Math.min(size, 4096);
    const buf = Buffer.alloc(want);
    fs.readSync(fd, buf, 0, want, size - want);
    const lines = buf.toString('utf8').split('\n').filter(Boolean);
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) [^\t]*\t(.*)$/.exec(lines[lines.length - 1] ?? '');
    return m ? { old: m[1]!, next: m[2]!, message: m[3]! } : null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * An amend made by hand at a stop of a rebase (`edit`, or a conflict), reported by post-rewrite as "amend"
 * (git's own amends inside a rebase, its squashes, carry GIT_REFLOG_ACTION; the rebase reports those). It
 * is recorded as outside a rebase: the new commit as its maker's (prepare-commit-msg named them), and the
 * lines the amended commit had with their agents. Where that commit is the rebase's copy of the one it
 * stopped at, not recorded yet, the copy is first recorded as a rewrite of the original, so that its lines
 * go to the original's agent. Undefined when this is not such an amend (nothing is recorded).
 */
export function recordAmendAtStop(ctx: Context, input: string): AttributionEvent | null | undefined {
  if (process.env.GIT_REFLOG_ACTION || !rebaseInProgress(ctx)) return undefined;
  const [old] = input.trim().split(/\s+/);
  let stopped = '';
  try {
    stopped = fs.readFileSync(path.join(ctx.repo.gitDir, 'rebase-merge', 'stopped-sha'), 'utf8').trim();
  } catch {
    /* the apply backend, or no stop: nothing to link */
  }
  if (
    old &&
    /^[0-9a-f]{40}$/.test(old) &&
    /^[0-9a-f]{40}$/.test(stopped) &&
    stopped !== old &&
    !attributionsOf(ctx.db, [old]).size &&
    rewrittenFrom(ctx.db, old).length === 0
  )
    recordRewrite(ctx, { kind: 'rebase', input: `${stopped} ${old}\n` });
  const event = recordCommit(ctx);
  recordRewrite(ctx, { kind: 'amend', input });
  return event;
}

/** True while git is in the middle of a rebase in this worktree (post-rewrite will report the result). */
export function rebaseInProgress(ctx: Context): boolean {
  return ['rebase-merge', 'rebase-apply'].some((d) => fs.existsSync(path.join(ctx.repo.gitDir, d)));
}

/**
 * For each of `commits`, the commits it became through the rewrites recorded since, that exist here
 * (itself when none does). The ledger is asked per commit; git once per generation of rewrites.
 * `unusable`, given every commit the rewrites lead to that exists, names those not to end at (review: what
 * nothing holds any more, as after a rewrite undone by `reset --hard ORIG_HEAD`): a commit whose rewrites
 * all end there stays itself.
 */
export function latestRewrites(
  ctx: Context,
  commits: string[],
  unusable?: (commits: string[]) => Set<string>,
): Map<string, string[]> {
  const into = new Map<string, string[]>();
  const exists = new Map<string, boolean>();
  let frontier = [...new Set(commits)];
  while (frontier.length) {
    const found = rewrittenInto(ctx.db, frontier);
    const unknown = [...new Set([...found.values()].flat())].filter((c) => !exists.has(c));
    const here = objectsExist(
      ctx.repo.cwd,
      unknown.map((c) => `${c}^{commit}`),
    );
    unknown.forEach((c, i) => exists.set(c, here[i]!));
    for (const c of frontier)
      into.set(
        c,
        (found.get(c) ?? []).filter((n) => exists.get(n)),
      );
    frontier = [...new Set([...into.values()].flat())].filter((c) => !into.has(c));
  }
  const skip = unusable ? unusable([...new Set([...into.values()].flat())]) : new Set<string>();
  const latest = (c: string, seen = new Set<string>()): string[] => {
    const next = (into.get(c) ?? []).filter((n) => !seen.has(n));
    if (next.length === 0) return [c];
    seen.add(c);
    const ends = [...new Set(next.flatMap((n) => latest(n, seen)))].filter((e) => !skip.has(e));
    return ends.length ? ends : [c];
  };
  return new Map(commits.map((c) => [c, latest(c)]));
}
