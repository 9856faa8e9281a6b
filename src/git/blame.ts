/** `git blame --porcelain`, parsed: for each line, the commit and the line number in that commit. */
import { runGitStreaming, takeEarlyGit, type GitResult } from './exec';
import { unquotePath } from '../core/text';

export interface BlameLine {
  /** Line number in the file as asked. */
  line: number;
  commit: string;
  /** Line number in the commit's version of the file. */
  origLine: number;
  /** Path of the file in that commit (it may have been renamed since). */
  origPath: string;
  content: string;
}

export interface BlameCommit {
  author: string;
  authorMail: string;
  authorTime: number;
  summary: string;
  boundary: boolean;
}

export interface BlameResult {
  lines: BlameLine[];
  commits: Map<string, BlameCommit>;
}

function blameArgs(file: string, opts: { rev?: string; range?: [number, number] }): string[] {
  const args = ['blame', '--porcelain'];
  // An end past every line (Infinity) is the end of the file, which git writes as none.
  if (opts.range) args.push('-L', `${opts.range[0]},${Number.isFinite(opts.range[1]) ? opts.range[1] : ''}`);
  if (opts.rev) args.push(opts.rev);
  args.push('--', file);
  return args;
}

/** Starts `git blame` in the background, so that the caller can do other work while git runs. */
export function startBlame(
  cwd: string,
  file: string,
  opts: { rev?: string; range?: [number, number] } = {},
): Promise<GitResult> {
  const args = blameArgs(file, opts);
  // Started by bin/run.js before the bundle loaded, when it is this blame.
  const early = takeEarlyGit('handoff.earlyBlame', args, cwd);
  if (!early) return runGitStreaming(args, { cwd, allowFailure: true });
  early.ref();
  return early.result.then((r) => r ?? runGitStreaming(args, { cwd, allowFailure: true }));
}

/** Parses `git blame --porcelain` output. */
export function parseBlame(out: string, file: string): BlameResult {
  const lines: BlameLine[] = [];
  const commits = new Map<string, BlameCommit>();
  const rows = out.split('\n');
  let i = 0;
  const filenames = new Map<string, string>();
  while (i < rows.length) {
    const header = rows[i++];
    if (!header) continue;
    const [commit, orig, final] = header.split(' ');
    let info = commits.get(commit!);
    if (!info) {
      info = { author: '', authorMail: '', authorTime: 0, summary: '', boundary: false };
      commits.set(commit!, info);
    }
    while (i < rows.length && !rows[i]!.startsWith('\t')) {
      const r = rows[i++]!;
      const sp = r.indexOf(' ');
      const key = sp < 0 ? r : r.slice(0, sp);
      const value = sp < 0 ? '' : r.slice(sp + 1);
      if (key === 'author') info.author = value;
      else if (key === 'author-mail') info.authorMail = value;
      else if (key === 'author-time') info.authorTime = Number(value);
      else if (key === 'summary') info.summary = value;
      else if (key === 'boundary') info.boundary = true;
      else if (key === 'filename') filenames.set(commit!, unquotePath(value));
    }
    const content = (rows[i++] ?? '').slice(1);
    lines.push({
      line: Number(final),
      commit: commit!,
      origLine: Number(orig),
      origPath: filenames.get(commit!) ?? file,
      content,
    });
  }
  return { lines, commits };
}
