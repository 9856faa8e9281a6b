/**
 * Replay: the conversation in causal order, interleaved with each attached diff and each attributed
 * commit, marking which commits answer which message.
 */
import { commitSignatures, type CommitSignature } from '../git/signatures';
import { readChainTips } from '../git/ledger-format';
import { configTrue } from '../core/text';
import { NotFoundError, UsageError } from '../core/errors';
import { diffGitPath, gitHeaderPath, parseWhen } from '../core/text';
import { readCommits } from '../git/commits';
import { readObjects } from '../git/objects';
import { messagesPage, recipientsOf, threadMessageIds, threadSubject } from '../ledger/messages';
import { attributionCommits, attributionEvents, commitsWithLineRecords, verdictsOn } from '../ledger/attributions';
import { CommitResolver, latestRewrites } from './attribution';
import type { Context } from './context';
import { taskStates } from './tasks';
import { findMessage, requireKnownAgent } from './lookup';
import { topRelative } from './paths';
import { messageJson, recipientJson } from './views';
import type { DiffMode, FileStat, ReplayCommitItem, ReplayItem, ReplayJson } from '../json/replay';
import { commitNumstats, commitPatches, objectsExist, unreachableFromRefs } from '../git/history';

export interface ReplayInput {
  target?: string;
  since?: string;
  until?: string;
  agent?: string;
  path?: string;
  diff?: DiffMode;
}

/** Lines added and removed per file in a unified diff. */
function diffStat(patch: string): FileStat[] {
  const out: FileStat[] = [];
  let cur: FileStat | null = null;
  for (const l of patch.split('\n')) {
    if (l.startsWith('diff --git ')) {
      cur = { file: diffGitPath(l), added: 0, removed: 0 };
      out.push(cur);
    } else if (cur && l.startsWith('+++ ') && l.slice(4).replace(/\t$/, '') !== '/dev/null')
      cur.file = gitHeaderPath(l.slice(4));
    else if (cur && l.startsWith('+') && !l.startsWith('+++')) cur.added++;
    else if (cur && l.startsWith('-') && !l.startsWith('---')) cur.removed++;
  }
  return out;
}

function parseTime(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = parseWhen(v);
  if (t === null)
    throw new UsageError(
      'bad_date',
      `--${what} ${JSON.stringify(v)} is not a date; use an ISO date (2026-01-31, 2026-01-31T12:00Z) or "2 days ago".`,
    );
  return t;
}

/** Messages and commits per chunk: memory holds one chunk of the timeline, not all of it. */
const CHUNK = 100;

/** Orders the timeline: by clock, then by message id or commit id. */
function before(a: ReplayItem, b: ReplayItem): number {
  return (
    a.clock - b.clock ||
    (a.type === 'message' ? a.message.id : a.commit).localeCompare(b.type === 'message' ? b.message.id : b.commit)
  );
}

/**
 * The timeline in order, a chunk at a time: messages are read from SQLite a page at a time (with their
 * patches, task states and signatures for that page), and the attributed commits are merged in where
 * they belong. `replay` collects it; the terminal output writes each chunk as it comes.
 */
export function* replayChunks(ctx: Context, input: ReplayInput): Generator<ReplayItem[]> {
  const mode = input.diff ?? 'stat';
  const since = parseTime('since', input.since);
  const until = parseTime('until', input.until);
  let thread: string | null = null;
  if (input.target) thread = findMessage(ctx, input.target).thread;
  let commits = attributionEvents(ctx.db);
  if (thread) {
    const inThread = new Set(threadMessageIds(ctx.db, thread));
    commits = commits.filter((c) => c.messages.some((id) => inThread.has(id)));
  }
  if (input.agent !== undefined) requireKnownAgent(ctx, input.agent, '--agent');
  // A path as git takes it: from the current directory, inside the repository; the top is everything.
  const given = input.path ? topRelative(ctx, input.path).replace(/\/+$/, '') : '.';
  const wanted = given === '.' ? null : given;
  // A directory covers what is under it; a glob (`docs/*`, `**/*.ts`) matches as in reservations.
  const glob =
    wanted && /[*?[{]/.test(wanted)
      ? (require('picomatch') as typeof import('picomatch'))(wanted, { dot: true, basename: !wanted.includes('/') })
      : null;
  const touches = (files: string[]) =>
    !wanted || files.some((f) => (glob ? glob(f) : f === wanted || f.startsWith(`${wanted}/`)));
  const inTime = (clock: number) => (since === undefined || clock >= since) && (until === undefined || clock <= until);
  // Signatures are shown once the ledger uses them: signing configured here, or a chain whose newest
  // commit is signed (a cheap look before checking every event's commit).
  const ledgerCommitOf = attributionCommits(ctx.db);
  const signing =
    configTrue(ctx.config().get('handoff.sign')?.at(-1)) ||
    configTrue(ctx.config().get('handoff.requiresigned')?.at(-1)) ||
    [...commitSignatures(ctx.repo, [...readChainTips(ctx.repo).values()]).values()].some(
      (s) => s.status !== 'unsigned',
    );
  const signaturesOf = (ids: string[]) =>
    signing ? commitSignatures(ctx.repo, ids) : new Map<string, CommitSignature>();

  const commitItems = commitTimeline(ctx, commits, { mode, inTime, touches, byPath: !!wanted, agent: input.agent });
  const commitSigs = signaturesOf(commitItems.map((c) => ledgerCommitOf.get(c.id) ?? ''));
  const pending: ReplayItem[] = commitItems
    .map(({ id, item }) => ({
      ...item,
      ...(signing ? { signature: commitSigs.get(ledgerCommitOf.get(id) ?? '')?.status ?? 'unverifiable' } : {}),
    }))
    .sort(before);
  let next = 0;

  let after: { clock: number; id: string } | null = null;
  for (;;) {
    const rows = messagesPage(ctx.db, { thread, after, limit: CHUNK });
    // Patches of this page's messages with diffs (one cat-file), when they are shown or filtered on.
    const withDiff = rows.filter((r) => r.diff_tree);
    const patches = new Map<string, string>();
    if (withDiff.length && (mode !== 'none' || wanted)) {
      const objs = readObjects(
        ctx.repo,
        withDiff.map((r) => `${r.commit_id}:patch`),
      );
      for (const r of withDiff) patches.set(r.id, objs.get(`${r.commit_id}:patch`)?.content.toString('utf8') ?? '');
    }
    const states = taskStates(ctx, rows);
    const sigs = signaturesOf(rows.map((r) => r.commit_id));
    const chunk: ReplayItem[] = [];
    for (const r of rows) {
      if (!inTime(r.clock)) continue;
      if (input.agent && r.sender !== input.agent && !r.recipients.split(',').includes(input.agent)) continue;
      const patch = patches.get(r.id) ?? null;
      const stat = patch !== null ? diffStat(patch) : null;
      if (wanted && !(stat && touches(stat.map((x) => x.file)))) continue;
      const item: ReplayItem = {
        type: 'message',
        clock: r.clock,
        message: messageJson(r),
        stat: mode === 'none' ? null : stat,
        patch: mode === 'full' ? patch : null,
        recipients: recipientsOf(ctx.db, r.id).map(recipientJson),
        verdicts: verdictsOn(ctx.db, r.id).map((v) => ({ id: v.id, reviewer: v.reviewer, verdict: v.verdict })),
        ...(states.has(r.id) ? { task: states.get(r.id)! } : {}),
        ...(signing ? { signature: sigs.get(r.commit_id)?.status ?? 'unverifiable' } : {}),
      };
      // The commits that come before this message, then the message.
      while (next < pending.length && before(pending[next]!, item) < 0) chunk.push(pending[next++]!);
      chunk.push(item);
    }
    const last = rows.at(-1);
    if (rows.length < CHUNK || !last) {
      while (next < pending.length) chunk.push(pending[next++]!);
      if (chunk.length) yield chunk;
      return;
    }
    if (chunk.length) yield chunk;
    after = { clock: last.clock, id: last.id };
  }
}

/** Each attributed commit as a timeline item (one git call each for subjects, stats and patches). */
function commitTimeline(
  ctx: Context,
  commits: ReturnType<typeof attributionEvents>,
  at: {
    mode: DiffMode;
    inTime: (clock: number) => boolean;
    touches: (files: string[]) => boolean;
    /** A path is asked for: a commit counts by every file it changed (an attribution lists only added lines). */
    byPath?: boolean;
    agent?: string;
  },
): { id: string; item: ReplayCommitItem }[] {
  const candidates = commits.filter((c) => at.inTime(c.clock) && (!at.agent || c.agent === at.agent));
  // Files a commit only removed lines from, deleted, or changed through a merge, as git lists them.
  let changed: Map<string, FileStat[]> | null = null;
  if (at.byPath) {
    const ids = candidates.map((c) => c.commit).filter(Boolean);
    const found = ids.length ? objectsExist(ctx.repo.cwd, ids) : [];
    changed = commitNumstats(
      ctx.repo.cwd,
      ids.filter((_, i) => found[i]),
    );
  }
  const shown = candidates.filter((c) =>
    at.touches([
      ...Object.keys(c.files),
      ...(changed?.get(c.commit)?.flatMap((s) => (s.from ? [s.file, s.from] : [s.file])) ?? []),
    ]),
  );
  // Commit subjects (one git log for all commits that still exist here).
  const present = shown.map((c) => c.commit).filter(Boolean);
  const subjects = new Map<string, string>();
  // Commits here that no branch or tag holds any more (reset away), as search and review name them.
  let dropped = new Set<string>();
  if (present.length) {
    const found = objectsExist(ctx.repo.cwd, present);
    const existing = present.filter((_, i) => found[i]);
    for (const info of readCommits(ctx.repo.cwd, existing))
      subjects.set(info.commit, info.message.split('\n', 1)[0] ?? '');
    if (existing.length) dropped = unreachableFromRefs(ctx.repo.cwd, existing);
  }
  // A squash keeps whose lines it holds: the agents' commits it was made from, and the handoffs they answer.
  const lineRecords = commitsWithLineRecords(ctx.db);
  const resolver = shown.some((c) => lineRecords.has(c.commit)) ? new CommitResolver(ctx) : null;
  const squashOf = (c: (typeof shown)[number]) => {
    if (!resolver || !lineRecords.has(c.commit)) return null;
    const from = resolver.contributors(c.commit);
    if (!from.length || (from.length === 1 && from[0]!.agent === c.agent && from[0]!.human === c.human)) return null;
    return from;
  };
  // Lines added and removed per file of each commit, and with --diff full their patches (one git call each).
  const numstats: Map<string, FileStat[]> =
    at.mode === 'none' ? new Map() : commitNumstats(ctx.repo.cwd, [...subjects.keys()]);
  // What each became since (amended, rebased, squashed).
  const rewrites = latestRewrites(
    ctx,
    shown.map((c) => c.commit),
    (cs) => unreachableFromRefs(ctx.repo.cwd, cs),
  );
  const patchesOfCommits =
    at.mode === 'full' ? commitPatches(ctx.repo.cwd, [...subjects.keys()]) : new Map<string, string>();
  return shown.map((c) => {
    const squash = squashOf(c);
    const answers = [...new Set([...c.messages, ...(squash ?? []).flatMap((a) => a.messages)])];
    const rewrittenInto = (rewrites.get(c.commit) ?? []).filter((n) => n !== c.commit);
    const item: ReplayCommitItem = {
      type: 'commit',
      clock: c.clock,
      commit: c.commit,
      agent: c.agent,
      human: c.human,
      ...(squash ? { squashOf: squash.map((a) => ({ name: a.agent, human: a.human })) } : {}),
      subject: subjects.get(c.commit) ?? '(commit not in this clone)',
      ts: c.ts,
      answers,
      link: c.messages.length
        ? (c.link ?? 'pinned')
        : answers.length
          ? (squash!.find((a) => a.messages.length)?.link ?? 'pinned')
          : null,
      // git's own count where the commit is here; else the lines the attribution recorded as added. None
      // with --diff none.
      stat:
        at.mode === 'none'
          ? []
          : (numstats.get(c.commit) ??
            Object.entries(c.files).map(([file, ranges]) => ({
              file,
              added: ranges.reduce((n, [, k]) => n + k, 0),
              removed: 0,
            }))),
      patch: at.mode === 'full' ? (patchesOfCommits.get(c.commit) ?? null) : null,
      rewrittenInto,
      ...(!rewrittenInto.length && dropped.has(c.commit) ? { discarded: true as const } : {}),
    };
    return { id: c.id, item };
  });
}

/** Builds the whole timeline (for --json and the HTML page). */
export function replay(ctx: Context, input: ReplayInput): ReplayJson {
  const items: ReplayItem[] = [];
  for (const chunk of replayChunks(ctx, input)) items.push(...chunk);
  const thread = input.target ? findMessage(ctx, input.target).thread : null;
  if (input.target && items.length === 0 && threadMessageIds(ctx.db, thread!).length === 0)
    throw new NotFoundError('message_not_found', `Nothing to replay for ${input.target}.`);
  const agents = new Set<string>();
  const threads = new Set<string>();
  for (const it of items) {
    if (it.type === 'message') {
      agents.add(it.message.from);
      threads.add(it.message.thread);
    } else agents.add(it.agent);
  }
  const threadSubjects: Record<string, string> = {};
  for (const t of threads) threadSubjects[t] = (threadSubject(ctx.db, t) ?? '').split('\n', 1)[0]!.slice(0, 200);
  return { thread, agents: [...agents].sort(), threads: [...threads], threadSubjects, items };
}
