/**
 * Review: the diff attached when a handoff was sent, against what landed (the commits attributed to that
 * message or its thread, or a given range). Each hunk is "landed as sent", "landed changed" (with the
 * difference), or "not landed"; files changed afterwards that the handoff did not mention are listed.
 * Verdicts (approve, request changes, comment) are events that reach the handoff's author.
 */
// jsdiff is loaded only when a review runs: every other command starts without it.
type JsDiff = typeof import('diff');
let jsdiff: JsDiff | undefined;
const diffLib = (): JsDiff => (jsdiff ??= require('diff') as JsDiff);
import { NotFoundError, UsageError } from '../core/errors';
import type { Verdict, VerdictEvent } from '../core/events';
import { isAncestor } from '../git/exec';
import { readPatch } from '../git/ledger-format';
import { readObjects, treeEntries, type CatFileResult, type PathEntry } from '../git/objects';
import { attributionsForMessages, verdictsOn } from '../ledger/attributions';
import { CommitResolver, latestRewrites } from './attribution';
import { listReviewable, threadMessages } from '../ledger/messages';
import { appendEvent } from './append';
import { checkBody } from './body';
import type { Context } from './context';
import { refuseSecrets } from './secrets';
import { resolveIdentity } from './identity';
import { findMessage } from './lookup';
import type { HunkStatus, ReviewHunkJson, ReviewJson, ReviewListJson } from '../json/review';
import {
  commitExists,
  commitsInRange,
  commitsSince,
  filesChangedBetween,
  filesOfCommit,
  firstParentSince,
  unreachableFromRefs,
  independentCommits,
  renamesBetween,
  resolveCommit,
} from '../git/history';

function rangeEnd(ctx: Context, range: string): { from: string; to: string } {
  // A..B where A and B may contain dots (v1.0..v2.0); an empty B means HEAD, as in git.
  const m = /^(?!.*\.\.\.)([^\s]+?)\.\.([^\s]*)$/.exec(range);
  if (!m || m[1]!.startsWith('-') || m[2]!.startsWith('-'))
    throw new UsageError(
      'bad_range',
      `--range ${JSON.stringify(range)} is not a range; use A..B (B defaults to HEAD).`,
    );
  if (m[2] === '') m[2] = 'HEAD';
  const verify = (r: string) => {
    const commit = resolveCommit(ctx.repo.cwd, r);
    if (!commit) throw new NotFoundError('unknown_revision', `${r} is not a commit here.`);
    return commit;
  };
  return { from: verify(m[1]!), to: verify(m[2]!) };
}

/**
 * The commit whose tree is "what landed": the one of `commits` that contains the others. Decided by
 * history, never by date (agents make several commits in one second). When the commits sit on branches
 * that diverged, the tip on the current branch wins, then the tip holding the most of them.
 */
function landedTip(cwd: string, commits: string[]): string {
  const tips = independentCommits(cwd, commits);
  if (tips.length <= 1) return tips[0] ?? commits[commits.length - 1]!;
  const head = resolveCommit(cwd, 'HEAD');
  const score = (tip: string) => {
    const onHead = head && isAncestor(cwd, tip, head) ? 1 : 0;
    const held = commits.filter((c) => isAncestor(cwd, c, tip)).length;
    return onHead * 1e6 + held;
  };
  return tips.map((t) => ({ t, s: score(t) })).sort((a, b) => b.s - a.s)[0]!.t;
}

/** The oldest commit of `head`'s first-parent line that contains every one of `tips`, or null. */
function firstHoldingAll(cwd: string, tips: string[], head: string): string | null {
  const holds = (c: string) => tips.every((t) => t === c || isAncestor(cwd, t, c));
  // The line since the tips' common ancestor, newest first: those that hold them all are a prefix of it
  // (a first parent that lacks a tip has no ancestor that holds it), found by bisection.
  const line = firstParentSince(cwd, head, tips);
  let lo = 0;
  let hi = line.length; // line[0..lo) hold them all; line[hi..) do not
  if (!line.length || !holds(line[0]!)) return null;
  lo = 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (holds(line[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return line[lo - 1]!;
}

/** How many of the branch's newest commits since a diff's base are looked at for copies no hook recorded. */
const RELINK_LIMIT = 100;

/**
 * Commits of HEAD since `base` that answer the handoff (`wanted` says which message ids do) though no hook
 * recorded them for it: a rebase made where the hooks did not run (its trailers), a squash merge on the host
 * (its patch id, or its lines traced to the agents' commits), as log and blame link them.
 */
function relinkedCommits(ctx: Context, base: string, known: Set<string>, wanted: (ids: string[]) => boolean): string[] {
  const candidates = commitsSince(ctx.repo.cwd, 'HEAD', base, RELINK_LIMIT).filter((c) => !known.has(c));
  if (!candidates.length) return [];
  const resolver = new CommitResolver(ctx, 'HEAD');
  resolver.resolveAll(candidates);
  return candidates
    .filter((c) => {
      const r = resolver.resolve(c);
      if (r && r.via !== 'hook' && wanted(r.messages)) return true;
      return resolver.contributors(c).some((x) => wanted(x.messages));
    })
    .reverse();
}

/** Whether HEAD contains `commit`. */
function onHead(cwd: string, commit: string): boolean {
  const head = resolveCommit(cwd, 'HEAD');
  return head !== null && (head === commit || isAncestor(cwd, commit, head));
}

/** Compares a handoff's attached diff with what landed. */
export function review(ctx: Context, input: { id: string; range?: string }): ReviewJson {
  const m = findMessage(ctx, input.id);
  if (!m.diff_tree || !m.diff_base)
    throw new UsageError(
      'no_diff',
      `Message ${m.id} was sent without --attach-diff, so there is nothing to compare. Review a message that carries a diff.`,
    );
  const patch = readPatch(ctx.repo, m.commit_id) ?? '';
  const cwd = ctx.repo.cwd;
  let at: string | null = null;
  let commits: string[] = [];
  let changedFiles: string[] = [];
  let elsewhere: string[] = [];
  let discarded: string[] = [];
  let relinked: string[] = [];
  if (input.range) {
    const r = rangeEnd(ctx, input.range);
    at = r.to;
    commits = commitsInRange(cwd, r.from, r.to);
    changedFiles = filesChangedBetween(cwd, r.from, r.to);
  } else {
    // The commits that answer this message, or any message of its thread.
    const threadIds = threadMessages(ctx.db, m.thread).map((x) => x.id);
    const rows = attributionsForMessages(ctx.db, [m.id, ...threadIds.filter((x) => x !== m.id)]);
    // A commit recorded before this handoff was sent answers an earlier message of the thread, not this one.
    commits = rows.filter((r) => r.clock >= m.clock || JSON.parse(r.messages).includes(m.id)).map((r) => r.commit_id);
    // A commit rewritten (amended, rebased, squashed) into others that exist is judged as those, through
    // every later rewrite of them, also once the commit itself is gone (git gc after a rebase); not as a
    // rewrite nothing holds (undone by reset), which leaves the commit it was made from.
    commits = [
      ...new Set([...latestRewrites(ctx, commits, (cs) => unreachableFromRefs(cwd, cs)).values()].flat()),
    ].filter((c) => commitExists(cwd, c));
    // Copies no hook recorded, on this branch since the diff's base (a rebase made elsewhere, a squash merge on
    // the host): linked by their trailers, patch ids or lines, as log and blame link them.
    const answering = new Set([
      m.id,
      ...threadMessages(ctx.db, m.thread)
        .filter((x) => x.clock >= m.clock)
        .map((x) => x.id),
    ]);
    relinked = relinkedCommits(ctx, m.diff_base, new Set(commits), (ids) => ids.some((id) => answering.has(id)));
    commits = [...commits, ...relinked];
    // A commit that nothing holds any more (thrown away by reset --hard) did not land anywhere: not judged.
    const dropped = unreachableFromRefs(cwd, commits);
    discarded = commits.filter((c) => dropped.has(c));
    commits = commits.filter((c) => !dropped.has(c));
    if (commits.length) {
      at = landedTip(cwd, commits);
      // What landed is the history of that commit: commits on other branches are left out (and named).
      let outside = commits.filter((c) => c !== at && !isAncestor(cwd, c, at!));
      // Branches merged since: HEAD holds every commit, though none holds the others. They are judged at the
      // first commit of HEAD's first-parent line that holds them all (the merge).
      const head = outside.length ? resolveCommit(cwd, 'HEAD') : null;
      if (head && commits.every((c) => c === head || isAncestor(cwd, c, head))) {
        const merged = firstHoldingAll(cwd, independentCommits(cwd, commits), head);
        if (merged) {
          at = merged;
          outside = [];
        }
      }
      commits = commits.filter((c) => !outside.includes(c));
      // Named: a commit nothing holds any more was left out above (discarded).
      elsewhere = outside;
      const files = new Set<string>();
      for (const c of commits) for (const f of filesOfCommit(cwd, c)) files.add(f);
      changedFiles = [...files];
    }
  }
  // No commit is attributed to the handoff (its sender committed the diff itself, or someone did without
  // 'work-on'), and none was thrown away: what HEAD holds is what landed, so far as this branch knows.
  let byHead = false;
  if (!at && !input.range && !discarded.length) {
    at = resolveCommit(cwd, 'HEAD');
    byHead = at !== null;
  }
  const parsed = parseGitPatch(patch);
  const mentioned = new Set<string>();
  /** The files of the patch, by the names git would write (a forged patch's `../x`, `./x`, `/x` left out). */
  const repoNames: string[] = [];
  for (const f of parsed) {
    const name = (f.newFileName && f.newFileName !== '/dev/null' ? f.newFileName : (f.oldFileName ?? '')).replace(
      /^[ab]\//,
      '',
    );
    mentioned.add(name);
    if (f.oldFileName && f.oldFileName !== '/dev/null') mentioned.add(f.oldFileName.replace(/^[ab]\//, ''));
    // A name git would not write in a patch (`../x`, `./x`, `/x`: a forged patch) names no file here.
    if (isRepoPath(name)) repoNames.push(name);
  }
  const landedFiles = at
    ? readObjects(
        ctx.repo,
        repoNames.map((n) => `${at}:${n}`),
      )
    : new Map();
  // HEAD, where it contains what was judged and has moved on since: each hunk is judged there too.
  const head = at && !input.range && onHead(cwd, at) ? resolveCommit(cwd, 'HEAD') : null;
  const later = head && head !== at ? head : null;
  const headFiles = later
    ? readObjects(
        ctx.repo,
        repoNames.map((n) => `${later}:${n}`),
      )
    : new Map();
  // A file of the patch missing where it is judged, which a rename since the diff's base moved: read where
  // it went (and the new name is no change outside the handoff).
  const names = parsed
    .filter((f) => f.newFileName !== '/dev/null')
    .map((f) => f.newFileName!.replace(/^[ab]\//, ''))
    .filter(isRepoPath);
  /** Files of the patch that a rename since the diff's base moved where they are judged: their name there. */
  const movedTo = new Map<string, string>();
  const followRenames = (rev: string, files: Map<string, CatFileResult | null>) => {
    const missing = names.filter((n) => !files.get(`${rev}:${n}`));
    if (!missing.length) return;
    const moved = renamesBetween(cwd, m.diff_base!, rev);
    const found = missing.filter((n) => moved.has(n));
    if (!found.length) return;
    const objs = readObjects(
      ctx.repo,
      found.map((n) => `${rev}:${moved.get(n)}`),
    );
    for (const n of found) {
      files.set(`${rev}:${n}`, objs.get(`${rev}:${moved.get(n)}`) ?? null);
      mentioned.add(moved.get(n)!);
      if (rev === at) movedTo.set(n, moved.get(n)!);
    }
  };
  if (at) followRenames(at, landedFiles);
  if (later) followRenames(later, headFiles);
  /**
   * A file none of the judged commits (or the range) changed: what stands there differently from what was
   * sent is someone else's change, not this handoff landing changed. (What was sent, standing there exactly,
   * landed.)
   */
  const judgedFiles = at && !byHead ? new Set(changedFiles) : null;
  const untouched = <T extends { status: HunkStatus; difference: string | null }>(name: string, j: T): T =>
    judgedFiles && j.status === 'changed' && !judgedFiles.has(name) && !judgedFiles.has(movedTo.get(name) ?? name)
      ? { ...j, status: 'not_landed', difference: null }
      : j;
  const hunks: ReviewHunkJson[] = [];
  const hunkless: string[] = [];
  /** Of those, the files the patch renames without changing them: their name before. */
  const renamedFrom = new Map<string, string>();
  /** Of those, the submodules whose commit the patch changes. */
  const submodules = new Set<string>();
  for (const f of parsed) {
    const name = (f.newFileName && f.newFileName !== '/dev/null' ? f.newFileName : (f.oldFileName ?? '')).replace(
      /^[ab]\//,
      '',
    );
    const deleted = f.newFileName === '/dev/null';
    const obj = at ? landedFiles.get(`${at}:${name}`) : null;
    const landedLines = obj ? fileLines(obj.content) : null;
    const headObj = later ? headFiles.get(`${later}:${name}`) : null;
    const headLines = headObj ? fileLines(headObj.content) : null;
    // A submodule's pointer ("Subproject commit <id>"): judged by the commit its entry names, as a mode is.
    if (f.hunks.length && f.hunks.every((h) => h.lines.every((l) => SUBPROJECT_LINE.test(l)))) {
      hunkless.push(name);
      submodules.add(name);
      continue;
    }
    for (const h of f.hunks) {
      // As git writes it: jsdiff counts an empty side from 1, git from 0.
      const header = `@@ -${h.oldLines === 0 ? h.oldStart - 1 : h.oldStart},${h.oldLines} +${h.newLines === 0 ? h.newStart - 1 : h.newStart},${h.newLines} @@`;
      const lines = markNoNewline(h.lines);
      // A file that was empty or new: the hunk is the whole file, and lines added around it are a change.
      const whole = h.oldLines === 0 && lines.every((l) => l[0] === '+');
      const judge = (at: string[] | null) =>
        whole ? classifyWhole(lines, at) : classify(lines, at, deleted, Math.max(0, h.newStart - 1));
      const judged = untouched(name, judge(landedLines));
      const now = later ? judge(headLines).status : null;
      hunks.push({ file: name, header, ...judged, atHead: now && now !== judged.status ? now : null });
    }
    if (f.hunks.length === 0) {
      hunkless.push(name);
      const from = f.oldFileName?.replace(/^[ab]\//, '');
      if (from && f.oldFileName !== '/dev/null' && !deleted && from !== name) renamedFrom.set(name, from);
    }
  }
  // A file the patch changes without hunks (binary, a mode, an empty file): judged by its mode and object.
  if (hunkless.length) {
    const sent = treeEntries(ctx.repo, m.diff_tree, hunkless);
    const base = treeEntries(ctx.repo, m.diff_base, hunkless);
    const landedAt = at ? treeEntries(ctx.repo, at, hunkless) : new Map<string, PathEntry>();
    const headAt = later ? treeEntries(ctx.repo, later, hunkless) : null;
    const same = (a?: PathEntry, b?: PathEntry) => a?.mode === b?.mode && a?.oid === b?.oid;
    const judge = (e?: PathEntry, name = ''): HunkStatus =>
      same(e, sent.get(name)) ? 'landed' : same(e, base.get(name)) ? 'not_landed' : 'changed';
    for (const name of hunkless) {
      const status: HunkStatus = at
        ? untouched(name, { status: judge(landedAt.get(name), name), difference: null }).status
        : 'not_landed';
      const now = headAt ? judge(headAt.get(name), name) : null;
      hunks.push({
        file: name,
        header: submodules.has(name)
          ? '(submodule commit)'
          : renamedFrom.has(name)
            ? `(renamed from ${renamedFrom.get(name)})`
            : '(binary or mode change)',
        status,
        difference: null,
        atHead: now && now !== status ? now : null,
      });
    }
  }
  const summary: Record<HunkStatus, number> = { landed: 0, changed: 0, not_landed: 0 };
  for (const h of hunks) summary[h.status]++;
  // Where HEAD has moved on and changed how some hunk stands (a revert, a later edit): the same count there.
  let atHead: ReviewJson['atHead'] = null;
  if (later && hunks.some((h) => h.atHead)) {
    atHead = { commit: later, summary: { landed: 0, changed: 0, not_landed: 0 } };
    for (const h of hunks) atHead.summary[h.atHead ?? h.status]++;
  }
  return {
    message: m.id,
    thread: m.thread,
    from: m.sender,
    landed: {
      commits,
      range: input.range ?? null,
      at,
      onHead: at !== null && onHead(cwd, at),
      elsewhere,
      discarded,
      relinked,
      ...(byHead ? { byHead: true as const } : {}),
    },
    hunks,
    summary,
    atHead,
    unmentioned: changedFiles.filter((f) => !mentioned.has(f)).sort(),
    verdicts: verdictsOn(ctx.db, m.id).map((v) => ({
      id: v.id,
      reviewer: v.reviewer,
      verdict: v.verdict,
      reviewedCommit: v.reviewed_commit,
    })),
  };
}

/** A line that ends its file without a newline carries this at its end, so that adding the newline is a change. */
const NO_NEWLINE = '\u0000(no newline at end of file)';

/** A file's lines as hunks compare them (the last marked when the file does not end with a newline). */
function fileLines(content: Buffer): string[] {
  const text = content.toString('utf8');
  if (text === '') return [];
  const lines = text.replace(/\n$/, '').split('\n');
  if (!text.endsWith('\n')) lines[lines.length - 1] += NO_NEWLINE;
  return lines;
}

/** A hunk's lines with "\\ No newline at end of file" folded into the line it follows. */
function markNoNewline(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (l.startsWith('\\')) {
      if (out.length) out[out.length - 1] += NO_NEWLINE;
    } else out.push(l);
  }
  return out;
}

/**
 * `git diff-tree -p` output parsed by jsdiff, with each file's names as git wrote them: jsdiff trims a name,
 * and a name may end in spaces (git ends such a header line with a tab). Entries without a file (an empty
 * patch) are left out.
 */
function parseGitPatch(patch: string): ReturnType<JsDiff['parsePatch']> {
  const parsed = diffLib()
    .parsePatch(patch)
    .filter((f) => f.oldFileName || f.newFileName);
  // The ---/+++ lines of each file's header (before its first hunk), in order.
  const headers: { old?: string; new?: string }[] = [];
  let inHeader = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) {
      headers.push({});
      inHeader = true;
    } else if (line.startsWith('@@')) inHeader = false;
    else if (inHeader && (line.startsWith('--- ') || line.startsWith('+++ '))) {
      const raw = line.slice(4);
      // Quoted names are jsdiff's to read; an unquoted one runs to the tab git ends it with, if any.
      if (raw.startsWith('"')) continue;
      const name = raw.endsWith('\t') ? raw.slice(0, -1) : raw;
      headers[headers.length - 1]![line[0] === '-' ? 'old' : 'new'] = name;
    }
  }
  if (headers.length !== parsed.length) return parsed;
  parsed.forEach((f, i) => {
    const h = headers[i]!;
    if (h.old !== undefined && h.old.trim() === f.oldFileName) f.oldFileName = h.old;
    if (h.new !== undefined && h.new.trim() === f.newFileName) f.newFileName = h.new;
  });
  return parsed;
}

/** Where a run of lines occurs in `hay`, or -1. */
function indexOfRun(hay: string[], run: string[]): number {
  if (run.length === 0) return -1;
  outer: for (let i = 0; i + run.length <= hay.length; i++) {
    for (let k = 0; k < run.length; k++) if (hay[i + k] !== run[k]) continue outer;
    return i;
  }
  return -1;
}

function classify(
  lines: string[],
  landed: string[] | null,
  deleted: boolean,
  hint = 0,
): { status: HunkStatus; difference: string | null } {
  const added = lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1));
  const removed = lines.filter((l) => l.startsWith('-')).map((l) => l.slice(1));
  const newSide = lines.filter((l) => !l.startsWith('-') && !l.startsWith('\\')).map((l) => l.slice(1));
  const oldSide = lines.filter((l) => !l.startsWith('+') && !l.startsWith('\\')).map((l) => l.slice(1));
  if (deleted) return { status: landed === null ? 'landed' : 'not_landed', difference: null };
  if (landed === null) return { status: 'not_landed', difference: null };
  // First where the hunk's own context still stands: the same lines elsewhere in the file say nothing of it.
  const framed = frame(lines, landed, hint);
  if (framed) {
    if (sameLines(framed, newSide)) return { status: 'landed', difference: null };
    if (sameLines(framed, oldSide)) return { status: 'not_landed', difference: null };
    return { status: 'changed', difference: differenceOf(newSide, framed) };
  }
  // No context frames it (a hunk with none at its ends): each side whole, its inner context included.
  if (added.length > 0 && indexOfRun(landed, newSide) >= 0) return { status: 'landed', difference: null };
  if (indexOfRun(landed, oldSide) >= 0) return { status: 'not_landed', difference: null };
  // The context is gone: by the lines themselves.
  if (added.length === 0) {
    // A pure removal landed when the removed run is gone.
    return { status: indexOfRun(landed, removed) < 0 ? 'landed' : 'not_landed', difference: null };
  }
  if (indexOfRun(landed, added) >= 0) return { status: 'landed', difference: null };
  const present = new Set(landed);
  const hits = added.filter((l) => l.trim() !== '' && present.has(l)).length;
  const wasChangedAway = removed.length > 0 && indexOfRun(landed, removed) < 0;
  if (hits === 0 && !wasChangedAway) return { status: 'not_landed', difference: null };
  // Show what became of the hunk: the sent new side against the landed region around the first match.
  const anchor = added.find((l) => present.has(l)) ?? newSide.find((l) => l.trim() !== '' && present.has(l));
  const at = anchor !== undefined ? Math.max(0, landed.indexOf(anchor) - newSide.indexOf(anchor)) : 0;
  const region = landed.slice(at, at + newSide.length + Math.max(0, added.length - hits));
  if (sameLines(region, newSide)) return { status: 'landed', difference: null };
  return { status: 'changed', difference: differenceOf(newSide, region) };
}

/** A hunk that is its whole file (one that was empty or new), against the whole landed file. */
function classifyWhole(lines: string[], landed: string[] | null): { status: HunkStatus; difference: string | null } {
  const sent = lines.map((l) => l.slice(1));
  if (landed === null || landed.length === 0) return { status: 'not_landed', difference: null };
  if (sameLines(landed, sent)) return { status: 'landed', difference: null };
  return { status: 'changed', difference: differenceOf(sent, landed) };
}

const sameLines = (a: string[], b: string[]) => a.length === b.length && a.every((l, i) => l === b[i]);

function differenceOf(sent: string[], landed: string[]): string {
  return diffLib()
    .createTwoFilesPatch('sent', 'landed', `${sent.join('\n')}\n`, `${landed.join('\n')}\n`, '', '', { context: 2 })
    .split('\n')
    .slice(1) // the "====" line; "--- sent" and "+++ landed" say which side is which
    .join('\n')
    .replaceAll(NO_NEWLINE, ' (no newline at end of file)');
}

/**
 * The landed lines between the hunk's unchanged leading and trailing context, found nearest to where the
 * hunk was (`hint`, 0-based); null when the context itself is gone.
 */
function frame(lines: string[], landed: string[], hint: number): string[] | null {
  const body = lines.filter((l) => !l.startsWith('\\'));
  const firstChange = body.findIndex((l) => l[0] === '+' || l[0] === '-');
  let lastChange = body.length - 1;
  while (lastChange >= 0 && body[lastChange]![0] !== '+' && body[lastChange]![0] !== '-') lastChange--;
  if (firstChange < 0) return null;
  const lead = body.slice(0, firstChange).map((l) => l.slice(1));
  const trail = body.slice(lastChange + 1).map((l) => l.slice(1));
  if (lead.length === 0 && trail.length === 0) return null;
  // A hunk at the start or the end of the file has context on one side only, and the file's end stands for
  // the other: lines added beyond it count as part of the hunk (as a line added inside it would). So what
  // was sent landed where it stands flush with that end; and where the hunk's old lines stand untouched
  // beside its context, nearer that end than anything sent, it did not land (a header added above a first
  // line that was to change). Anything else is judged as any hunk is, below.
  if (lead.length === 0 || trail.length === 0) {
    const atStart = lead.length === 0;
    const context = atStart ? trail : lead;
    const newSide = body.filter((l) => l[0] !== '-').map((l) => l.slice(1));
    const oldSide = body.filter((l) => l[0] !== '+').map((l) => l.slice(1));
    // (A pure addition's old side is its context alone: no old lines to stand untouched.)
    const hasOld = oldSide.length > context.length;
    /** Where `side` stands whole beside an occurrence of the context: [from, to) in the landed lines. */
    const places = (side: string[]): [number, number][] => {
      const out: [number, number][] = [];
      for (let q = 0; q + context.length <= landed.length; q++) {
        if (!context.every((l, k) => landed[q + k] === l)) continue;
        const from = atStart ? q + context.length - side.length : q;
        const to = from + side.length;
        if (from >= 0 && to <= landed.length && sameLines(landed.slice(from, to), side)) out.push([from, to]);
      }
      return out;
    };
    // Distance from the open end of the file (the start for a hunk at the start, the end for one at the end).
    const gap = ([from, to]: [number, number]) => (atStart ? from : landed.length - to);
    const sent = places(newSide).sort((a, b) => gap(a) - gap(b));
    if (sent[0] && gap(sent[0]) === 0) return landed.slice(...sent[0]);
    const kept = hasOld ? places(oldSide).sort((a, b) => gap(a) - gap(b)) : [];
    if (kept[0] && (!sent[0] || gap(kept[0]) < gap(sent[0]))) return landed.slice(...kept[0]);
  }
  const starts: number[] = [];
  if (lead.length === 0) starts.push(0);
  else
    for (let i = 0; i + lead.length <= landed.length; i++)
      if (lead.every((l, k) => landed[i + k] === l)) starts.push(i);
  if (starts.length === 0) return null;
  starts.sort((a, b) => Math.abs(a - hint) - Math.abs(b - hint));
  // The trailing context may recur (a closing brace): the end taken is the one that frames a region the
  // size of either side of the hunk, or nearest to it.
  const sizes = [body.filter((l) => l[0] !== '-').length, body.filter((l) => l[0] !== '+').length];
  for (const p of starts) {
    const from = p + lead.length;
    if (trail.length === 0) return landed.slice(p);
    let best: { end: number; off: number } | null = null;
    for (let q = from; q + trail.length <= landed.length; q++) {
      if (!trail.every((l, k) => landed[q + k] === l)) continue;
      const end = q + trail.length;
      const off = Math.min(...sizes.map((n) => Math.abs(end - p - n)));
      if (!best || off < best.off) best = { end, off };
      if (off === 0) break;
    }
    if (best) return landed.slice(p, best.end);
  }
  return null;
}

/** Records a verdict on a handoff; its author gets it in their inbox (or, for the author's own, who worked on it). */
export async function recordVerdict(
  ctx: Context,
  input: { id: string; verdict: Verdict; body?: string; as?: string; range?: string },
): Promise<{ verdict: VerdictEvent; review: ReviewJson | null }> {
  const me = resolveIdentity(ctx, { as: input.as });
  const m = findMessage(ctx, input.id);
  if (input.verdict !== 'approve' && !input.body?.trim()) {
    throw new UsageError(
      'missing_comment',
      `Say why with -m "...": ${input.verdict === 'request_changes' ? '--request-changes' : '--comment'} needs a message.`,
    );
  }
  const text = `[${input.verdict.replace('_', ' ')}] ${input.body?.trim() ?? ''}`.trim();
  const body = checkBody(ctx, text);
  await refuseSecrets(ctx.config(), body, 'the comment');
  const current = m.diff_tree ? review(ctx, { id: m.id, range: input.range }) : null;
  // The sender's verdict is for whoever worked on the handoff: the agents whose commits answer it, else its
  // recipients. Anyone else's is for the sender.
  let to = [m.sender];
  if (m.sender === me.name) {
    const makers = attributionsForMessages(ctx.db, [m.id])
      .filter((a) => !a.human)
      .map((a) => a.agent);
    const asked = m.recipients ? m.recipients.split(',') : [];
    to = [...new Set(makers.length ? makers : asked)].filter((a) => a !== me.name);
  }
  const { event } = appendEvent<VerdictEvent>(
    ctx,
    me,
    {
      type: 'verdict',
      verdict: input.verdict,
      message: m.id,
      thread: m.thread,
      to,
      reviewed_commit: current?.landed.at ?? null,
      body_bytes: Buffer.byteLength(body, 'utf8'),
    },
    { body },
  );
  return { verdict: event, review: current };
}

/** Handoffs that can be reviewed (review requests and messages with diffs), open ones first. */
export function listReviews(ctx: Context): ReviewListJson {
  const rows = listReviewable(ctx.db);
  const reviews = rows.map((r) => {
    const v = verdictsOn(ctx.db, r.id);
    // A comment says something without deciding: the state is the newest approval or request for
    // changes, and "comment" only where nobody decided yet.
    const last = v.filter((x) => x.verdict !== 'comment').pop() ?? v[v.length - 1];
    return {
      message: r.id,
      from: r.sender,
      kind: r.kind,
      subject: r.body.split('\n', 1)[0] ?? '',
      ts: r.ts,
      state: (last?.verdict ?? 'open') as 'open' | Verdict,
      verdicts: v.length,
    };
  });
  reviews.sort((a, b) => Number(b.state === 'open') - Number(a.state === 'open') || b.ts.localeCompare(a.ts));
  return { reviews };
}

/** A line of a submodule's hunk in a git patch. */
const SUBPROJECT_LINE = /^[-+ ]Subproject commit [0-9a-f]{40,64}(-dirty)?$/;

/** A path as git names a file of a tree: relative, with no empty, `.` or `..` part. */
function isRepoPath(name: string): boolean {
  return name !== '' && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
