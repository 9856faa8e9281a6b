/** Reading commits for attribution: metadata and trailers, added line ranges, patch ids. */
import type { LineRanges } from '../core/events';
import { sha1Hex } from '../core/digest';
import { runGit } from './exec';
import { gitHeaderPath } from '../core/text';

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
  /**
   * The message holds the handoff trailers of several commits that differ (git's message for a squash in
   * `rebase -i` joins the squashed commits' messages): its own trailer block names only the last one.
   */
  combined: boolean;
}

/**
 * Whether `message` holds two or more trailer blocks (paragraphs of "Key: value" lines only) whose handoff
 * trailers differ (see `combined`). A paragraph of prose that mentions a trailer is no block.
 */
function combinesTrailers(message: string): boolean {
  const blocks = new Set<string>();
  for (const para of message.split(/\n\s*\n/)) {
    const lines = para.split('\n').filter((l) => l.trim());
    if (!lines.length || !lines.every((l) => TRAILER.test(l))) continue;
    const found = lines
      .filter((l) => /^Handoff-(Agent|Message):/i.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim().toLowerCase());
    if (found.length) blocks.add(found.join('\n'));
  }
  return blocks.size >= 2;
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
    combined: combinesTrailers(message),
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
export function readCommitWithPatch(
  cwd: string,
  rev: string,
): { info: CommitInfo; patch: string; patchBytes: Buffer } | null {
  const res = runGit([...DIFF_ARGS, `--format=${COMMIT_FORMAT}%x00`, rev], { cwd, allowFailure: true });
  if (res.status !== 0) return null;
  const nul = res.stdout.indexOf(0);
  if (nul < 0) return null;
  let start = nul + 1;
  while (res.stdout[start] === 0x0a) start++;
  // The patch as git wrote it (for its patch id), and as text.
  const patchBytes = res.stdout.subarray(start);
  return {
    info: parseCommit(res.stdout.subarray(0, nul).toString('utf8')),
    patch: patchBytes.toString('utf8'),
    patchBytes,
  };
}

// -m: a merge's diff against its first parent (without it, diff-tree prints nothing for a merge, not even
// the commit's header).
const DIFF_ARGS = [
  'diff-tree',
  '-p',
  '-M',
  '--root',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '-m',
  '--first-parent',
];

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
      file = name.replace(/\t$/, '') === '/dev/null' ? null : gitHeaderPath(name);
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
      file = name.replace(/\t$/, '') === '/dev/null' ? null : gitHeaderPath(name);
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

/**
 * `git patch-id --stable` of the given patches (each after a `commit <id>` line; commit id -> patch id).
 * A patch of text hunks is computed here (textPatchId), the rest by git, in one process for all of them.
 */
export function patchIds(cwd: string, patches: Buffer): Map<string, string> {
  const map = new Map<string, string>();
  // Found in a one-byte-per-character view, so that positions are byte offsets.
  const heads = [...patches.toString('latin1').matchAll(/^commit ([0-9a-f]{40})$/gm)];
  const lead = patches.subarray(0, heads[0]?.index ?? patches.length);
  const byGit: Buffer[] = lead.toString('latin1').trim() ? [lead] : [];
  heads.forEach((m, i) => {
    const patch = patches.subarray(m.index + m[0].length + 1, heads[i + 1]?.index ?? patches.length);
    const id = textPatchId(patch.toString('utf8'));
    if (id === undefined) byGit.push(patches.subarray(m.index, heads[i + 1]?.index ?? patches.length));
    else if (id !== null) map.set(m[1]!, id);
  });
  if (byGit.length === 0) return map;
  const out = runGit(['patch-id', '--stable'], { cwd, input: Buffer.concat(byGit) }).stdout.toString('utf8');
  for (const line of out.split('\n')) {
    const [pid, commit] = line.split(' ');
    if (pid && commit) map.set(commit, pid);
  }
  return map;
}

/** The file headers a patch of text hunks has; any other (a mode change, a rename, a binary file) goes to git. */
const TEXT_HEADERS = ['diff --git ', 'new file mode ', 'deleted file mode '];
const NO_NEWLINE = '\\ No newline at end of file';

/**
 * `git patch-id --stable` of one commit's patch, without starting git (the post-commit hook runs on every
 * commit): for each file, the SHA-1 of its lines without whitespace (git's: tab, newline, carriage return,
 * space), leaving out `index` lines, hunk headers and no-newline markers; the files' SHA-1s are added as
 * 160-bit numbers. Computed here only for a patch every git version reads the same way: files added,
 * deleted or changed in place, each with hunks that give both line counts. For anything else (binary files,
 * mode changes, renames, a one-line hunk's `@@ -5 +5 @@`, which git read differently before 2.39, or bytes
 * that are not UTF-8) it returns undefined, and git computes it. Null for a patch with no diff (git prints
 * nothing).
 */
export function textPatchId(patch: string): string | null | undefined {
  if (patch.includes('\uFFFD')) return undefined;
  const lines = patch.replace(/\n+$/, '').split('\n');
  const sum = new Uint8Array(20);
  let file: Buffer[] = [];
  let hunks = 0;
  let started = false;
  const flush = () => {
    const h = Buffer.from(sha1Hex(...file), 'hex');
    let carry = 0;
    for (let i = 0; i < 20; i++) {
      carry += sum[i]! + h[i]!;
      sum[i] = carry & 0xff;
      carry >>= 8;
    }
    file = [];
  };
  // -1: in a file's header; otherwise the lines left in the current hunk, before and after.
  let before = -1;
  let after = -1;
  for (const line of lines) {
    if (!started) {
      if (!line.startsWith('diff ')) {
        if (line !== '') return undefined;
        continue;
      }
      started = true;
    }
    if (line === NO_NEWLINE) continue;
    if (before === -1) {
      if (line.startsWith('index ')) continue;
      if (line.startsWith('--- ')) {
        before = after = 1;
        hunks = 0;
      } else if (!TEXT_HEADERS.some((h) => line.startsWith(h)) || (line.startsWith('diff ') && file.length > 0))
        // A second header before any hunk: the file before it had none (a mode change, an empty file).
        return undefined;
    } else if (before === 0 && after === 0) {
      const m = /^@@ -\d+,(\d+) \+\d+,(\d+) @@/.exec(line);
      if (m) {
        before = Number(m[1]);
        after = Number(m[2]);
        hunks++;
        continue;
      }
      if (!line.startsWith('diff ') || hunks === 0) return undefined;
      flush();
      before = after = -1;
      if (!TEXT_HEADERS.some((h) => line.startsWith(h))) return undefined;
    } else if (hunks > 0 && !/^[-+ ]/.test(line)) return undefined;
    if (line[0] === '-' || line[0] === ' ') before--;
    if (line[0] === '+' || line[0] === ' ') after--;
    if (before < -1 || after < -1 || (before === -1) !== (after === -1)) return undefined;
    file.push(Buffer.from(line.replace(/[\t\r ]/g, ''), 'utf8'));
  }
  if (!started) return null;
  if (before !== 0 || after !== 0 || hunks === 0) return undefined;
  flush();
  return Buffer.from(sum).toString('hex');
}

/**
 * Patch ids of several commits (two git processes for all of them). In a partial clone a patch may need
 * blobs this clone does not have: they are not fetched (GIT_NO_LAZY_FETCH, git 2.44 on), and where git
 * cannot make the patches without them (offline, an older git), no commit gets a patch id here.
 */
export function patchIdsOf(cwd: string, commits: string[]): Map<string, string> {
  if (commits.length === 0) return new Map();
  const res = runGit(
    ['log', '--no-walk=unsorted', '-p', '--first-parent', '--no-color', '--format=commit %H', ...commits, '--'],
    { cwd, allowFailure: true, env: { GIT_NO_LAZY_FETCH: '1' } },
  );
  if (res.status !== 0) {
    if (/promisor|could not fetch|lazy fetch/i.test(res.stderr)) return new Map();
    throw new Error(`git log failed: ${res.stderr.trim()}`);
  }
  return patchIds(cwd, res.stdout);
}
