/**
 * Snapshots of the working tree at send time: staged, unstaged and untracked files (.gitignore
 * respected), built in a temporary index so that the user's index, working tree and HEAD are untouched.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError } from '../core/errors';
import { runGit } from './exec';
import { ObjectWriter, readObjects } from './objects';
import type { Repo } from './repo';

/** Files that look like secrets are left out even when untracked and not ignored. */
const DEFAULT_SECRET_PATTERNS = ['.env*', '*.pem', '*.key', 'id_rsa*', 'id_ed25519*', 'id_ecdsa*'];

export interface Snapshot {
  /** The commit the snapshot is compared with (HEAD at send time). */
  base: string;
  /** Tree id of the snapshot. */
  tree: string;
  /** Unified diff base..snapshot. */
  patch: Buffer;
  /** Paths that changed between base and snapshot. */
  files: string[];
  /** Paths left out because they look like secrets (their working-tree content was not recorded). */
  excluded: string[];
}

/** Patterns to exclude: the defaults plus the values of `git config handoff.snapshotExclude` given. */
export function secretPatterns(extra: string[]): string[] {
  return [...DEFAULT_SECRET_PATTERNS, ...extra.map((s) => s.trim()).filter(Boolean)];
}

/** Files larger than this are recorded in the snapshot but summarised in the patch (handoff.patchFileLimit). */
const DEFAULT_PATCH_FILE_LIMIT = 1024 * 1024;

/** Builds the snapshot tree and its patch against HEAD. */
export function snapshotWorktree(opts: { repo: Repo; exclude: string[]; patchFileLimit?: number }): Snapshot {
  const { repo } = opts;
  if (!repo.worktree)
    throw new HandoffError(
      'bare_repository',
      'A bare repository has no working tree to attach. Run this in a worktree.',
    );
  const head = runGit(['rev-parse', '--verify', '-q', 'HEAD^{commit}'], { cwd: repo.worktree, allowFailure: true });
  if (head.status !== 0) {
    throw new HandoffError(
      'no_commits',
      'This repository has no commits yet, so there is no base to diff against. Commit once, then send with --attach-diff (or send without it).',
    );
  }
  const base = head.stdout.toString('utf8').trim();
  const tmpIndex = path.join(os.tmpdir(), `handoff-index-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  const run = (args: string[], input?: string) => runGit(args, { cwd: repo.worktree!, env, input });
  try {
    // Start from a copy of the user's index: staged content is kept and its stat data makes `add` fast.
    try {
      const userIndex = path.join(repo.gitDir, 'index');
      fs.copyFileSync(userIndex, tmpIndex);
      // Keep the index file's own timestamps: git compares them with file mtimes to spot "racily clean"
      // entries (a file changed in the same second the index was written, with the same size). A fresh
      // mtime on the copy would make git trust stale stat data and miss that change.
      const st = fs.statSync(userIndex);
      fs.utimesSync(tmpIndex, st.atime, st.mtime);
    } catch {
      run(['read-tree', base]);
    }
    // One status pass names every path that differs from the index (modified, deleted, untracked): only
    // those are added, so the cost is that of `git status` plus the change, not of the whole tree. It runs
    // on the copy, so the user's index is never refreshed or written.
    const changed: { path: string; worktree: boolean }[] = [];
    const status = run([
      'status',
      '--porcelain=v1',
      '-z',
      '--untracked-files=all',
      '--no-renames',
      '--ignore-submodules=none',
    ])
      .stdout.toString('utf8')
      .split('\0');
    for (const entry of status) {
      if (entry.length < 4) continue;
      const x = entry[0]!;
      const y = entry[1]!;
      // Untracked (??) or changed in the working tree since the index; staged-only changes are in the copy already.
      if (x === '?' || y !== ' ') changed.push({ path: entry.slice(3), worktree: true });
    }
    // Secret-looking files that are untracked, or modified since the index: their content stays out.
    const picomatch = require('picomatch') as typeof import('picomatch');
    const secret = picomatch(
      opts.exclude.map((p) => `**/${p}`),
      { dot: true },
    );
    const isSecret = (p: string) => secret(p.replace(/\/$/, '')) || secret(path.posix.basename(p.replace(/\/$/, '')));
    const excluded = changed.filter((c) => isSecret(c.path)).map((c) => c.path);
    const toAdd = changed.filter((c) => !isSecret(c.path)).map((c) => `:(literal)${c.path}`);
    if (toAdd.length)
      run(
        ['add', '--all', '--ignore-errors', '--pathspec-from-file=-', '--pathspec-file-nul'],
        `${toAdd.join('\0')}\0`,
      );
    // A nested repository or worktree (a handoff checkout, say) would be recorded as a submodule: leave it out.
    // Status lists one as an untracked directory ("dir/"); without one there is nothing to look for.
    const nested = !changed.some((c) => c.path.endsWith('/'))
      ? []
      : run(['diff-index', '--cached', '-z', '--diff-filter=A', '--no-renames', base])
          .stdout.toString('utf8')
          .split('\0')
          .reduce<string[]>(
            (acc, cur, i, all) =>
              i % 2 === 0 && / 160000 /.test(` ${cur.split(' ')[1] ?? ''} `) && all[i + 1]
                ? [...acc, all[i + 1]!]
                : acc,
            [],
          );
    if (nested.length) run(['rm', '--cached', '-q', '-r', '--', ...nested.map((n) => `:(literal)${n}`)]);
    const tree = run(['write-tree']).stdout.toString('utf8').trim();
    // Past core.bigFileThreshold git treats a file as binary: "Binary files differ", not its content.
    const limit = opts.patchFileLimit ?? DEFAULT_PATCH_FILE_LIMIT;
    const diffArgs = [
      '-c',
      `core.bigFileThreshold=${limit}`,
      'diff-tree',
      '-r',
      '-p',
      '-M',
      '--no-color',
      '--no-ext-diff',
      '--no-textconv',
      '--full-index',
      base,
      tree,
    ];
    const patch = run(diffArgs).stdout;
    const files = run(['diff-tree', '-r', '-z', '--name-only', '--no-renames', base, tree])
      .stdout.toString('utf8')
      .split('\0')
      .filter(Boolean);
    return { base, tree, patch, files, excluded: [...new Set(excluded)].sort() };
  } finally {
    fs.rmSync(tmpIndex, { force: true });
    fs.rmSync(`${tmpIndex}.lock`, { force: true });
  }
}

/**
 * A copy of a snapshot with `rewrite` applied to the content of the given files (for redacting secrets):
 * the files are read from the snapshot tree, rewritten, and a new tree is written through a temporary
 * index. Returns the new tree id (the old one when nothing changed). The user's index is not touched.
 */
export function rewriteSnapshotFiles(
  repo: Repo,
  tree: string,
  files: string[],
  rewrite: (file: string, content: Buffer) => Buffer | null,
): string {
  const specs = files.map((f) => `${tree}:${f}`);
  const objects = readObjects(repo, specs);
  const writer = new ObjectWriter(repo.objectsDir, repo.shared ?? null);
  const updates: string[] = [];
  for (const f of files) {
    const obj = objects.get(`${tree}:${f}`);
    if (!obj || obj.type !== 'blob') continue;
    const next = rewrite(f, obj.content);
    if (!next || next.equals(obj.content)) continue;
    const mode = runGit(['ls-tree', '-z', tree, '--', f], { cwd: repo.cwd }).stdout.toString('utf8').split(' ')[0];
    updates.push(`${mode} ${writer.blob(next)}\t${f}`);
  }
  if (!updates.length) return tree;
  const tmpIndex = path.join(os.tmpdir(), `handoff-index-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  try {
    runGit(['read-tree', tree], { cwd: repo.cwd, env });
    runGit(['update-index', '-z', '--index-info'], { cwd: repo.cwd, env, input: `${updates.join('\0')}\0` });
    return runGit(['write-tree'], { cwd: repo.cwd, env }).stdout.toString('utf8').trim();
  } finally {
    fs.rmSync(tmpIndex, { force: true });
  }
}
