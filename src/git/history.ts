/** Questions about the user's history: which commits exist, what a range holds, what a commit touched. */
import fs from 'node:fs';
import path from 'node:path';
import { runGit, startGit } from './exec';
import type { Repo } from './repo';

/** The commit `rev` names, or null when it names none. */
export function resolveCommit(cwd: string, rev: string): string | null {
  const res = runGit(['rev-parse', '--verify', '-q', `${rev}^{commit}`], { cwd, allowFailure: true });
  return res.status === 0 ? res.stdout.toString('utf8').trim() : null;
}

/** A commit's id, parents and commit date (seconds), or null when `rev` names no commit. */
export function parentsAndDate(cwd: string, rev: string): { commit: string; parents: string[]; date: number } | null {
  const res = runGit(['log', '-1', '--format=%H%n%P%n%ct', `${rev}^{commit}`, '--'], { cwd, allowFailure: true });
  if (res.status !== 0) return null;
  const [commit = '', parents = '', date = ''] = res.stdout.toString('utf8').split('\n');
  return { commit, parents: parents.split(' ').filter(Boolean), date: Number(date) };
}

/**
 * A date as git's own --since reads it ("last monday", "Dec 1", "1 week 2 days ago"), in seconds; null for
 * text git reads as now without saying so (anything it cannot read), unless the text says now.
 */
export function gitDate(cwd: string, text: string): number | null {
  if (text.startsWith('-')) return null;
  const before = Math.floor(Date.now() / 1000);
  const res = runGit(['rev-parse', `--since=${text}`], { cwd, allowFailure: true });
  const m = /--max-age=(\d+)/.exec(res.stdout.toString('utf8'));
  if (res.status !== 0 || !m) return null;
  const t = Number(m[1]);
  if (t >= before - 1 && t <= Math.floor(Date.now() / 1000) + 1 && !/^\s*(now|today)\s*$/i.test(text)) return null;
  return t;
}

/** Whether the commit exists in this repository. */
export function commitExists(cwd: string, oid: string): boolean {
  return runGit(['cat-file', '-e', `${oid}^{commit}`], { cwd, allowFailure: true }).status === 0;
}

/** For each object spec, whether it exists (one git call for all). */
export function objectsExist(cwd: string, specs: string[]): boolean[] {
  return objectTypes(cwd, specs).map((type) => type !== null);
}

/**
 * Each object's type as stored (a tag named by its id is not followed; `<oid>^{commit}` peels), or null where
 * it is missing (one git call for all).
 */
export function objectTypes(cwd: string, specs: string[]): (string | null)[] {
  if (specs.length === 0) return [];
  const lines = runGit(['cat-file', '--batch-check=%(objecttype)'], { cwd, input: `${specs.join('\n')}\n` })
    .stdout.toString('utf8')
    .split('\n');
  return specs.map((_, i) => (lines[i] && !lines[i]!.endsWith('missing') ? lines[i]! : null));
}

/**
 * Objects reachable from `commit` but from none of `not` that are not in the repository (`git rev-list
 * --missing=print`): what a `git gc --prune=now` run at the same time may have removed before a ref held them.
 * `not` holds every parent (a snapshot's event has the user's commit as its second): only the new is walked.
 */
export function missingObjectsOf(cwd: string, commit: string, not: string[]): string[] {
  const res = runGit(
    ['rev-list', '--objects', '--missing=print', commit, ...(not.length ? ['--not', ...not] : []), '--'],
    {
      cwd,
      allowFailure: true,
    },
  );
  if (res.status !== 0) return [commit];
  return res.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('?'))
    .map((l) => l.slice(1).trim());
}

/** Whether `git gc` runs in this repository now (it holds gc.pid in the common directory while it runs). */
export function gcRunning(commonDir: string): boolean {
  return fs.existsSync(path.join(commonDir, 'gc.pid'));
}

/** The name of the checked-out branch, or null when HEAD is detached. */
export function currentBranch(cwd: string): string | null {
  const res = runGit(['symbolic-ref', '-q', '--short', 'HEAD'], { cwd, allowFailure: true });
  return res.status === 0 ? res.stdout.toString('utf8').trim() || null : null;
}

/**
 * The checked-out branch of `repo`'s worktree, or null when HEAD is detached: read from its HEAD file when
 * that is a plain file naming a branch or a commit, and from git otherwise.
 */
export function checkedOutBranch(repo: Pick<Repo, 'gitDir' | 'cwd'>): string | null {
  try {
    const file = path.join(repo.gitDir, 'HEAD');
    if (fs.lstatSync(file).isFile()) {
      // git trims the file's trailing white space, and white space after "ref:".
      const head = fs.readFileSync(file, 'utf8').trimEnd();
      const branch = /^ref:\s*refs\/heads\/(\S+)$/.exec(head)?.[1];
      // A reftable repository keeps HEAD in its tables; the file names the stub refs/heads/.invalid.
      if (branch && branch !== '.invalid') return branch;
      if (/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(head)) return null;
    }
  } catch {
    // Left to git.
  }
  return currentBranch(repo.cwd);
}

/** The commits of `tip`'s first-parent line. */
export function firstParentLine(cwd: string, tip: string): string[] {
  return runGit(['rev-list', '--first-parent', tip], { cwd }).stdout.toString('utf8').split('\n').filter(Boolean);
}

/** The commits in from..to, oldest first. */
export function commitsInRange(cwd: string, from: string, to: string): string[] {
  return runGit(['rev-list', '--reverse', `${from}..${to}`], { cwd })
    .stdout.toString('utf8')
    .split('\n')
    .filter(Boolean);
}

/**
 * The newest `limit` commits of `tip` that `base` does not reach, newest first; none when `base` is not a
 * commit id or not here.
 */
export function commitsSince(cwd: string, tip: string, base: string, limit: number): string[] {
  if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(base)) return [];
  return runGit(['rev-list', `--max-count=${limit}`, tip, `^${base}`, '--'], { cwd, allowFailure: true })
    .stdout.toString('utf8')
    .split('\n')
    .filter(Boolean);
}

/** Which of `commits` are not reachable from `tip` (commits missing here are left out). */
export function notReachableFrom(cwd: string, commits: string[], tip: string): Set<string> {
  return amongListed(commits, runGit(REACH_ARGS, { cwd, input: reachInput(commits, tip), allowFailure: true }).stdout);
}

/** notReachableFrom, in the background (for a caller that is waiting for another git meanwhile). */
export async function notReachableFromAsync(cwd: string, commits: string[], tip: string): Promise<Set<string>> {
  const res = await startGit(REACH_ARGS, { cwd, allowFailure: true }).finish(reachInput(commits, tip));
  return amongListed(commits, res.stdout);
}

const REACH_ARGS = ['rev-list', '--ignore-missing', '--stdin'];
const reachInput = (commits: string[], tip: string) => `${commits.join('\n')}\n^${tip}\n`;

function amongListed(commits: string[], listing: Buffer): Set<string> {
  const reach = new Set(listing.toString('utf8').split('\n').filter(Boolean));
  return new Set(commits.filter((c) => reach.has(c)));
}

/** The commits among `commits` that no other of them contains (git merge-base --independent). */
export function independentCommits(cwd: string, commits: string[]): string[] {
  return runGit(['merge-base', '--independent', ...commits], { cwd })
    .stdout.toString('utf8')
    .split('\n')
    .filter(Boolean);
}

/** Paths that differ between two commits. */
export function filesChangedBetween(cwd: string, from: string, to: string): string[] {
  return runGit(['diff', '--name-only', '-z', from, to], { cwd }).stdout.toString('utf8').split('\0').filter(Boolean);
}

/** `head`'s first-parent line, newest first, back to (not including) the common ancestor of `commits`. */
export function firstParentSince(cwd: string, head: string, commits: string[]): string[] {
  const ids = commits.filter((c) => /^[0-9a-f]{40,64}$/.test(c));
  const base = ids.length
    ? runGit(['merge-base', '--octopus', ...ids], { cwd, allowFailure: true })
        .stdout.toString('utf8')
        .trim()
    : '';
  const args = ['rev-list', '--first-parent', head, ...(/^[0-9a-f]{40,64}$/.test(base) ? [`^${base}`] : [])];
  return runGit(args, { cwd, allowFailure: true }).stdout.toString('utf8').split('\n').filter(Boolean);
}

/** Files renamed between two commits (git's rename detection), old path to new. */
export function renamesBetween(cwd: string, from: string, to: string): Map<string, string> {
  const res = runGit(['diff', '-M', '--name-status', '-z', '--diff-filter=R', from, to], { cwd, allowFailure: true });
  const out = new Map<string, string>();
  if (res.status !== 0) return out;
  // "R<score>\0<old>\0<new>\0" per rename.
  const f = res.stdout.toString('utf8').split('\0');
  for (let i = 0; i + 2 < f.length; i += 3) if (f[i]!.startsWith('R')) out.set(f[i + 1]!, f[i + 2]!);
  return out;
}

/** Paths a commit changed (against its first parent with `firstParent`; a merge otherwise shows none). */
export function filesOfCommit(cwd: string, commit: string, opts: { firstParent?: boolean } = {}): string[] {
  const args = ['diff-tree', '-r', '-z', '--name-only', '--no-commit-id', '--root'];
  if (opts.firstParent) args.push('--first-parent');
  return runGit([...args, commit], { cwd, allowFailure: true })
    .stdout.toString('utf8')
    .split('\0')
    .filter(Boolean);
}

export interface FileChange {
  file: string;
  added: number;
  removed: number;
  /** The file's name before, where git's rename detection finds it renamed. */
  from?: string;
}

/** Lines added and removed per file of each commit, against its first parent, renames found (one git call for all). */
export function commitNumstats(cwd: string, commits: string[]): Map<string, FileChange[]> {
  const out = new Map<string, FileChange[]>();
  if (commits.length === 0) return out;
  const text = runGit(
    ['log', '--no-walk=unsorted', '--numstat', '--first-parent', '-M', '-z', '--format=%x01%H', ...commits, '--'],
    { cwd },
  ).stdout.toString('utf8');
  // Each commit: \x01<hash>\0, then "\n<added>\t<removed>\t<path>\0" per file.
  for (const chunk of text.split('\x01').filter(Boolean)) {
    const [head, ...records] = chunk.split('\0');
    const stats: FileChange[] = [];
    // A rename: "\n<added>\t<removed>\t\0<old>\0<new>\0".
    for (let i = 0; i < records.length; i++) {
      const m = /^\n?(\d+|-)\t(\d+|-)\t(.*)$/s.exec(records[i]!);
      if (!m) continue;
      const counts = { added: m[1] === '-' ? 0 : Number(m[1]), removed: m[2] === '-' ? 0 : Number(m[2]) };
      if (m[3]) stats.push({ file: m[3], ...counts });
      else if (records[i + 2] !== undefined) {
        stats.push({ file: records[i + 2]!, from: records[i + 1]!, ...counts });
        i += 2;
      }
    }
    out.set(head!.trim(), stats);
  }
  return out;
}

/** The patch of each commit against its first parent (one git call for all). */
export function commitPatches(cwd: string, commits: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (commits.length === 0) return out;
  const text = runGit(
    [
      '-c',
      'core.quotePath=false',
      'log',
      '--no-walk=unsorted',
      '-p',
      '-M',
      '--first-parent',
      '--no-color',
      '--format=%x00%H',
      ...commits,
      '--',
    ],
    { cwd },
  ).stdout.toString('utf8');
  for (const chunk of text.split('\0').filter(Boolean)) {
    const nl = chunk.indexOf('\n');
    out.set(chunk.slice(0, nl), chunk.slice(nl + 1).replace(/^\n/, ''));
  }
  return out;
}

export interface LogRow {
  commit: string;
  date: string;
  author: string;
  subject: string;
}

/**
 * Commits newest first, as `git log` lists them. `rev` and `since` must not start with '-' (the caller
 * checks); an empty repository gives none. Throws with git's reason when git refuses.
 */
export function logCommits(
  cwd: string,
  input: { limit: number; since?: string; rev?: string; path?: string },
): LogRow[] | { error: string } {
  const args = ['log', '-z', '--format=%H%x01%aI%x01%an%x01%s', `--max-count=${input.limit}`];
  if (input.since) args.push(`--since=${input.since}`);
  if (input.rev) args.push(input.rev);
  args.push('--');
  if (input.path) args.push(input.path);
  const res = runGit(args, { cwd, allowFailure: true });
  if (res.status !== 0) {
    if (/does not have any commits/.test(res.stderr)) return [];
    return { error: res.stderr.trim() };
  }
  return res.stdout
    .toString('utf8')
    .split('\0')
    .filter((r) => r.trim())
    .map((r) => {
      const [commit, date, author, subject] = r.replace(/^\n/, '').split('\x01');
      return { commit: commit!, date: date!, author: author!, subject: subject ?? '' };
    });
}

/** Objects replaced with `git replace`: replaced object -> replacement. */
export function replacedObjects(cwd: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = runGit(['for-each-ref', '--format=%(refname:strip=2) %(objectname)', 'refs/replace/'], {
    cwd,
  }).stdout.toString('utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    const [from, to] = line.split(' ');
    out.set(from!, to!);
  }
  return out;
}

/** Paths the next commit changes (staged), as git lists them. */
export function stagedFiles(cwd: string): string[] {
  return runGit(['diff', '--cached', '--name-only', '-z', '--no-renames'], { cwd, allowFailure: true })
    .stdout.toString('utf8')
    .split('\0')
    .filter(Boolean);
}

/**
 * Which of `commits` no branch, tag, remote-tracking branch or worktree's HEAD (a detached one too) holds any
 * more (a commit thrown away by `reset --hard`, an amended commit's old self): two git processes.
 */
export function unreachableFromRefs(cwd: string, commits: string[]): Set<string> {
  const ids = [...new Set(commits.filter((c) => /^[0-9a-f]{40,64}$/.test(c)))];
  if (!ids.length) return new Set();
  const heads = runGit(['worktree', 'list', '--porcelain'], { cwd, allowFailure: true })
    .stdout.toString('utf8')
    .split('\n')
    .filter((l) => /^HEAD [0-9a-f]{40,64}$/.test(l))
    .map((l) => `^${l.slice(5)}`);
  // Commits, then what holds them, each excluded (`^<id>` on stdin, as on the command line).
  const r = runGit(['rev-list', '--stdin', '--not', '--branches', '--tags', '--remotes', 'HEAD'], {
    cwd,
    input: `${[...ids, ...heads].join('\n')}\n`,
    allowFailure: true,
  });
  if (r.status !== 0) return new Set();
  const listed = new Set(r.stdout.toString('utf8').split('\n').filter(Boolean));
  return new Set(ids.filter((c) => listed.has(c)));
}
