/** Reading commits for attribution: metadata and trailers, added line ranges, patch ids. */
import type { LineRanges } from '../core/events';
import { runGit } from './exec';

export interface CommitInfo {
  commit: string;
  tree: string;
  parents: string[];
  author: string;
  authorTime: string;
  /** Committer date (ISO 8601). */
  commitTime: string;
  message: string;
  trailers: Record<string, string[]>;
}

const TRAILER = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;

/** Parses the trailer block (the last paragraph of "Key: value" lines) of a commit message. */
function parseTrailers(message: string): Record<string, string[]> {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  const last = paragraphs.length > 1 ? paragraphs[paragraphs.length - 1]! : '';
  const out: Record<string, string[]> = {};
  const lines = last.split('\n');
  if (!lines.every((l) => TRAILER.test(l))) return out;
  for (const l of lines) {
    const m = TRAILER.exec(l)!;
    (out[m[1]!.toLowerCase()] ??= []).push(m[2]!.trim());
  }
  return out;
}

const COMMIT_FORMAT = '%H%x01%T%x01%P%x01%an%x01%aI%x01%cI%x01%B';

function parseCommit(rec: string): CommitInfo {
  const [commit, tree, parents, author, authorTime, commitTime, ...rest] = rec.split('\x01');
  const message = rest.join('\x01');
  return {
    commit: commit!.trim(),
    tree: tree!,
    parents: parents ? parents.split(' ').filter(Boolean) : [],
    author: author ?? '',
    authorTime: authorTime ?? '',
    commitTime: commitTime ?? '',
    message,
    trailers: parseTrailers(message),
  };
}

/** Metadata of commits (one git process for all of them). */
export function readCommits(cwd: string, revs: string[]): CommitInfo[] {
  if (revs.length === 0) return [];
  const out = runGit(['log', '--no-walk=unsorted', '-z', `--format=${COMMIT_FORMAT}`, ...revs, '--'], {
    cwd,
  }).stdout.toString('utf8');
  return out
    .split('\0')
    .filter((r) => r.trim())
    .map(parseCommit);
}

/** One commit's metadata and its patch against its first parent, from a single git process. */
export function readCommitWithPatch(cwd: string, rev: string): { info: CommitInfo; patch: string } | null {
  const res = runGit([...DIFF_ARGS, `--format=${COMMIT_FORMAT}%x00`, rev], { cwd, allowFailure: true });
  if (res.status !== 0) return null;
  const out = res.stdout.toString('utf8');
  const nul = out.indexOf('\0');
  if (nul < 0) return null;
  return { info: parseCommit(out.slice(0, nul)), patch: out.slice(nul + 1).replace(/^\n+/, '') };
}

const DIFF_ARGS = ['diff-tree', '-p', '-M', '--root', '--no-color', '--no-ext-diff', '--no-textconv', '--first-parent'];

/** The patch of a commit against its first parent (or the empty tree for a root commit). */
export function commitPatch(cwd: string, commit: string): string {
  return runGit([...DIFF_ARGS, '--no-commit-id', commit], { cwd }).stdout.toString('utf8');
}

/** Lines each file gained in a patch, as [first, count] ranges in the new version of the file. */
export function addedRanges(patch: string): LineRanges {
  const files: LineRanges = {};
  let file: string | null = null;
  let line = 0;
  let start = 0;
  let count = 0;
  const flush = () => {
    if (file && count > 0) (files[file] ??= []).push([start, count]);
    count = 0;
  };
  for (const l of patch.split('\n')) {
    if (l.startsWith('+++ ')) {
      flush();
      const name = l.slice(4);
      file = name === '/dev/null' ? null : unquote(name).replace(/^b\//, '');
      continue;
    }
    if (l.startsWith('@@')) {
      flush();
      const m = /\+(\d+)(?:,\d+)?/.exec(l.slice(2));
      line = m ? Number(m[1]) : 0;
      continue;
    }
    if (!file || l.startsWith('diff --git') || l.startsWith('--- ') || l.startsWith('\\')) continue;
    if (l.startsWith('+')) {
      if (count === 0) start = line;
      count++;
      line++;
    } else {
      flush();
      if (l.startsWith(' ')) line++;
    }
  }
  flush();
  return files;
}

/** The content of the lines a patch added, per file, keyed by line number. */
export function addedLines(patch: string): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  let file: string | null = null;
  let line = 0;
  for (const l of patch.split('\n')) {
    if (l.startsWith('+++ ')) {
      const name = l.slice(4);
      file = name === '/dev/null' ? null : unquote(name).replace(/^b\//, '');
    } else if (l.startsWith('@@')) {
      const m = /\+(\d+)(?:,\d+)?/.exec(l.slice(2));
      line = m ? Number(m[1]) : 0;
    } else if (file && l.startsWith('+')) {
      if (!out.has(file)) out.set(file, new Map());
      out.get(file)!.set(line++, l.slice(1));
    } else if (file && l.startsWith(' ')) line++;
  }
  return out;
}

function unquote(name: string): string {
  if (!name.startsWith('"')) return name;
  try {
    return JSON.parse(
      name.replace(/\\([0-7]{3})/g, (_m, o: string) => `\\u00${parseInt(o, 8).toString(16).padStart(2, '0')}`),
    ) as string;
  } catch {
    return name.slice(1, -1);
  }
}

/** `git patch-id --stable` of the given patches (commit id -> patch id). */
export function patchIds(cwd: string, patchText: string): Map<string, string> {
  const out = runGit(['patch-id', '--stable'], { cwd, input: patchText }).stdout.toString('utf8');
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [pid, commit] = line.split(' ');
    if (pid && commit) map.set(commit, pid);
  }
  return map;
}

/** Patch ids of several commits (two git processes for all of them). */
export function patchIdsOf(cwd: string, commits: string[]): Map<string, string> {
  if (commits.length === 0) return new Map();
  const text = runGit(
    ['log', '--no-walk=unsorted', '-p', '--first-parent', '--no-color', '--format=commit %H', ...commits, '--'],
    { cwd },
  ).stdout.toString('utf8');
  return patchIds(cwd, text);
}
