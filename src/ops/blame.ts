/** Blame and log: each line or commit with its agent and the handoff behind it. */
import fs from 'node:fs';
import path from 'node:path';
import { HandoffError, NotFoundError, UsageError } from '../core/errors';
import { parseWhen } from '../core/text';
import { parseBlame, startBlame, type BlameResult } from '../git/blame';
import type { GitResult } from '../git/exec';
import { findMessageIds, findMessageIdsBySuffix, getMessage } from '../ledger/messages';
import { CommitResolver, type Resolved } from './attribution';
import type { Context } from './context';
import { messageJson } from './views';
import { thread } from './show';
import { requireKnownAgent } from './lookup';
import { shownFromTop } from './paths';
import type { BlameJson, BlameLineJson, LogEntryJson, WhyJson } from '../json/blame';
import { gitDate, logCommits, resolveCommit } from '../git/history';
import { treeEntries } from '../git/objects';

const UNCOMMITTED = /^0{40}$/;

export interface BlameInput {
  file: string;
  rev?: string;
  range?: [number, number];
}

/** A `git blame` started before the context is open (it runs while SQLite opens). */
export interface StartedBlame {
  input: BlameInput;
  running: Promise<GitResult>;
}

/** Starts git blame for `input` in `cwd`; pass the result to blame(). */
export function beginBlame(cwd: string, input: BlameInput): StartedBlame {
  if (input.rev !== undefined && (input.rev.startsWith('-') || /\s/.test(input.rev)))
    throw new UsageError('bad_rev', `${JSON.stringify(input.rev)} is not a revision.`);
  return { input, running: startBlame(cwd, input.file, { rev: input.rev, range: input.range }) };
}

/** Blames a file: one `git blame --porcelain` plus ledger lookups. */
export async function blame(ctx: Context, started: StartedBlame | BlameInput): Promise<BlameJson> {
  const { input, running } = 'running' in started ? started : beginBlame(ctx.repo.cwd, started);
  const resolver = new CommitResolver(ctx, input.rev ?? 'HEAD');
  resolver.prefetch();
  const res = await running;
  await resolver.ready();
  // Named from the top of the worktree, wherever blame ran (as git would look for it).
  const shown = shownFromTop(ctx, input.file);
  if (res.status !== 0) {
    const only = /has only (\d+) lines?/.exec(res.stderr);
    if (only)
      throw new NotFoundError(
        'line_not_found',
        `${shown} has only ${only[1]} line(s)${input.rev ? ` at ${input.rev}` : ''}; ask for lines within it.`,
      );
    if (/is outside repository/.test(res.stderr))
      throw new UsageError('bad_path', `${shown} is outside this repository. Give the path of a file in it.`);
    if (/bad revision|unknown revision|ambiguous argument/i.test(res.stderr))
      throw new NotFoundError('unknown_revision', `${input.rev ?? 'HEAD'} is not a commit here.`);
    if (/no such ref: HEAD/.test(res.stderr) && input.rev === undefined)
      throw new HandoffError('no_commits', 'This repository has no commit yet: there is nothing to blame.');
    if (/no such path|no such file/i.test(res.stderr)) {
      const at = path.resolve(ctx.repo.cwd, input.file);
      if (fs.statSync(at, { throwIfNoEntry: false })?.isDirectory())
        throw new UsageError('bad_path', `${shown} is a directory. Blame a file in it.`);
      const head = input.rev === undefined ? resolveCommit(ctx.repo.cwd, 'HEAD') : null;
      if (head) {
        // Committed but not in the working tree (outside a sparse checkout's cone): HEAD's copy is blamed.
        const parts = shown.split('/');
        const above = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
        const entries = treeEntries(ctx.repo, head, above);
        if (entries.get(shown)?.mode.startsWith('100') || entries.get(shown)?.mode === '120000')
          return blame(ctx, { ...input, file: path.join(ctx.repo.worktree ?? ctx.repo.cwd, shown), rev: head });
        const sub = above.find((p) => entries.get(p)?.mode === '160000');
        if (sub)
          throw new UsageError(
            'bad_path',
            `${shown} is inside the submodule ${sub}, whose history is its own: run blame in ${sub}.`,
          );
      }
      throw new NotFoundError(
        'file_not_found',
        `${shown} is not in ${input.rev ?? 'HEAD'}. Give the path of a committed file.`,
      );
    }
    throw new UsageError(
      'blame_failed',
      `git blame could not read ${shown}${input.rev ? ` at ${input.rev}` : ''}: ${res.stderr.trim()}`,
    );
  }
  const result: BlameResult = parseBlame(res.stdout.toString('utf8'), shown);
  resolver.resolveAll([...result.commits.keys()].filter((c) => !UNCOMMITTED.test(c)));
  const subjects = new Map<string, BlameLineJson['messages'][number] | null>();
  const describe = (id: string) => {
    if (!subjects.has(id)) {
      const m = getMessage(ctx.db, id);
      // A message named by a commit's trailer may not have reached this clone yet: named all the same.
      subjects.set(
        id,
        m
          ? { id, from: m.sender, kind: m.kind, subject: m.body.split('\n', 1)[0] ?? '' }
          : { id, from: '', kind: '', subject: '', missing: true },
      );
    }
    return subjects.get(id);
  };
  // Per commit, not per line: thousands of lines share a few hundred commits.
  const perResolved = new Map<Resolved | null, Pick<BlameLineJson, 'agent' | 'via' | 'link' | 'messages'>>();
  const uncommitted = new Map<string, boolean>();
  const lines = result.lines.map((l) => {
    const info = result.commits.get(l.commit)!;
    let isNew = uncommitted.get(l.commit);
    if (isNew === undefined) uncommitted.set(l.commit, (isNew = UNCOMMITTED.test(l.commit)));
    const r = isNew ? null : resolver.resolve(l.commit, { file: l.origPath, line: l.origLine });
    let shared = perResolved.get(r);
    if (!shared) {
      shared = {
        agent: r ? { name: r.agent, human: r.human } : null,
        via: r?.via ?? null,
        link: r?.link ?? null,
        messages: (r?.messages ?? []).map(describe).filter((x): x is NonNullable<typeof x> => !!x),
      };
      perResolved.set(r, shared);
    }
    return {
      line: l.line,
      commit: l.commit,
      content: l.content,
      agent: shared.agent,
      via: shared.via,
      link: shared.link,
      messages: shared.messages,
      author: info.author,
      summary: info.summary,
    };
  });
  return { file: shown, rev: input.rev ?? null, lines };
}

/** The full story of one line: its blame, the messages behind it and their thread. */
export async function why(ctx: Context, input: { file: string; line: number; rev?: string }): Promise<WhyJson> {
  const b = await blame(ctx, { file: input.file, rev: input.rev, range: [input.line, input.line] });
  const line = b.lines[0];
  if (!line) throw new NotFoundError('line_not_found', `${input.file} has no line ${input.line}.`);
  const messages = line.messages.filter((m) => !m.missing).map((m) => messageJson(getMessage(ctx.db, m.id)!));
  const threadMessages = messages.length ? thread(ctx, { id: messages[0]!.id }).messages : [];
  return { line, messages, missing: line.messages.filter((m) => m.missing).map((m) => m.id), thread: threadMessages };
}

/**
 * A commit or message id (what log, blame and inbox print) or a branch given where log takes a path, which
 * git would take as a path no commit touched: said, where nothing of that name is in the working tree. A
 * name with a slash or a dot first ("./main") is a path, also a deleted one.
 */
function notAPath(ctx: Context, given: string): void {
  if (/[/\\]/.test(given) || given.startsWith('.') || fs.existsSync(path.resolve(ctx.repo.cwd, given))) return;
  const commit = resolveCommit(ctx.repo.cwd, given);
  const message =
    !commit && /^[0-9A-HJKMNP-TV-Z]{7,26}$/i.test(given)
      ? (findMessageIdsBySuffix(ctx.db, given.toUpperCase(), 1)[0] ?? findMessageIds(ctx.db, given.toUpperCase(), 1)[0])
      : undefined;
  if (commit)
    throw new UsageError(
      'not_a_path',
      `${given} is not a file here but a revision (commit ${commit.slice(0, 12)}); 'handoff log' takes a path. 'handoff log' alone lists the commits of HEAD; write ./${given} for a file of that name that is gone.`,
      { commit },
    );
  if (message)
    throw new UsageError(
      'not_a_path',
      `${given} is not a file here but a message (${message}); 'handoff log' takes a path. 'handoff show ${given}' shows the message, 'handoff review ${given}' what landed of it.`,
      { message },
    );
}

/** Whether `given` names a commit (in hex) or a message: what log and inbox print, never a date. */
function looksLikeId(ctx: Context, given: string): boolean {
  if (/^[0-9a-f]{7,40}$/i.test(given) && resolveCommit(ctx.repo.cwd, given)) return true;
  if (!/^[0-9A-HJKMNP-TV-Z]{7,26}$/i.test(given)) return false;
  const id = given.toUpperCase();
  return findMessageIdsBySuffix(ctx.db, id, 1).length > 0 || findMessageIds(ctx.db, id, 1).length > 0;
}

/** Commits newest first, each with its agent and handoff. */
export function log(
  ctx: Context,
  input: { agent?: string; since?: string; path?: string; limit?: number; rev?: string },
): LogEntryJson[] {
  // Read as replay and search read it, else as git reads it ("last monday"); refused where git would take
  // text it cannot read for "now" and list nothing. Given to git as "@<seconds>", which it reads exactly.
  const since =
    input.since === undefined
      ? undefined
      : (parseWhen(input.since) ??
        (() => {
          // git reads nearly any text as a date ("now" where it understands nothing): an id is none.
          if (looksLikeId(ctx, input.since!)) return null;
          const t = gitDate(ctx.repo.cwd, input.since!);
          return t === null ? null : t * 1000;
        })());
  if (since === null)
    throw new UsageError(
      'bad_since',
      `--since ${JSON.stringify(input.since)} is not a date; use an ISO date (2026-01-31, 2026-01-31T12:00Z) or "2 days ago".`,
    );
  if (input.rev?.startsWith('-')) throw new UsageError('bad_rev', `${JSON.stringify(input.rev)} is not a revision.`);
  if (input.path !== undefined) notAPath(ctx, input.path);
  const want = input.limit === 0 ? -1 : (input.limit ?? 100);
  // With --agent, the limit counts that agent's commits: git lists more (up to 10,000 commits), and more again,
  // until enough are found. One resolver: a commit resolved once is not resolved again.
  let listedLimit = want;
  let rows: string[][];
  const resolver = new CommitResolver(ctx, input.rev ?? 'HEAD');
  // A squash of several agents' commits is each of theirs (its lines are), and so is a squash of one agent's
  // commits made by someone else; any other commit is its agent's.
  const squashOf = (commit: string): Resolved[] | null => {
    const several = resolver.contributors(commit);
    if (several.length > 1) return several;
    const r = resolver.resolve(commit);
    const one = several[0];
    return one && (!r || one.agent !== r.agent || one.human !== r.human) ? several : null;
  };
  const agentsOf = (commit: string): Resolved[] => {
    const squash = squashOf(commit);
    if (squash) return squash;
    const r = resolver.resolve(commit);
    return r ? [r] : [];
  };
  // An agent's commits: those it made, and squashes holding its lines (whoever made them).
  const isAgents = (commit: string, agent: string) =>
    resolver.resolve(commit)?.agent === agent || agentsOf(commit).some((a) => a.agent === agent);
  for (;;) {
    const listed = logCommits(ctx.repo.cwd, {
      ...input,
      // git reads "@<seconds>" exactly (an ISO date past 2038 it reads wrongly).
      since: since === undefined ? undefined : `@${Math.floor(since / 1000)}`,
      limit: listedLimit,
    });
    if (!Array.isArray(listed)) {
      if (input.path && /is outside repository/.test(listed.error))
        throw new UsageError('bad_path', `${input.path} is outside this repository. Give a path in it.`);
      throw new UsageError('log_failed', `git log failed: ${listed.error}`);
    }
    rows = listed.map((r) => [r.commit, r.date, r.author, r.subject]);
    resolver.resolveAll(rows.map((r) => r[0]!));
    if (!input.agent || want < 0 || listedLimit < 0 || listed.length < listedLimit || listedLimit >= 10_000) break;
    if (rows.filter((r) => isAgents(r[0]!, input.agent!)).length >= want) break;
    listedLimit = Math.min(listedLimit * 4, 10_000);
  }
  const out: LogEntryJson[] = [];
  for (const [commit, date, author, subject] of rows) {
    if (want > 0 && out.length >= want) break;
    const r = resolver.resolve(commit!);
    const all = agentsOf(commit!);
    if (input.agent && !isAgents(commit!, input.agent)) continue;
    const squashed = squashOf(commit!) !== null;
    out.push({
      commit: commit!,
      date: date!,
      author: author!,
      subject: subject!,
      agent: r ? { name: r.agent, human: r.human } : null,
      ...(squashed ? { agents: all.map((a) => ({ name: a.agent, human: a.human })) } : {}),
      via: r?.via ?? null,
      link: r?.link ?? null,
      messages: [...new Set((squashed ? all : r ? [r] : []).flatMap((a) => a.messages))].map((id) => ({
        id,
        subject: getMessage(ctx.db, id)?.body.split('\n', 1)[0] ?? '',
      })),
    });
  }
  // Commits name agents that never joined (a human's, by git identity): a name is refused only when it
  // matched nothing and names nobody.
  if (input.agent !== undefined && out.length === 0) requireKnownAgent(ctx, input.agent, '--agent');
  return out;
}
