/** Finding the repository handoff works in: its git directory, the common directory shared by worktrees. */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, HandoffError } from '../core/errors';
import { runGit } from './exec';

export interface Repo {
  /** The directory commands run in. */
  cwd: string;
  /** Top of the working tree, or null in a bare repository. */
  worktree: string | null;
  /** This worktree's git directory (holds its index and HEAD). */
  gitDir: string;
  /** The directory shared by all worktrees of the clone (objects, refs, config). */
  commonDir: string;
  objectsDir: string;
  /**
   * core.sharedRepository, asked for only when handoff creates a directory in the object database or the
   * refs (those are the files whose mode matters to the other users of a shared repository).
   */
  shared?: () => string | null;
}

/** Locates the repository containing `cwd`, or throws a NotFoundError that says how to get one. */
export function findRepo(cwd: string): Repo {
  const res = runGit(
    ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--is-bare-repository', '--show-toplevel'],
    { cwd, allowFailure: true },
  );
  const lines = res.stdout.toString('utf8').split('\n');
  if (res.status !== 0) {
    if (/not a git repository/i.test(res.stderr)) {
      throw new NotFoundError(
        'not_a_repository',
        `${cwd} is not inside a git repository. Run handoff inside the repository your agents share (or 'git init' one first).`,
      );
    }
    if (lines[2] === 'true') {
      // Bare repositories have no top level; rev-parse fails on that part only.
      return makeRepo(cwd, null, lines[0]!, lines[1]!);
    }
    throw new HandoffError('git_failed', `Could not inspect the repository: ${res.stderr.trim()}`);
  }
  return makeRepo(cwd, lines[2] === 'true' ? null : lines[3] || null, lines[0]!, lines[1]!);
}

function makeRepo(cwd: string, worktree: string | null, gitDir: string, commonDir: string): Repo {
  const objectsDir = process.env.GIT_OBJECT_DIRECTORY
    ? path.resolve(cwd, process.env.GIT_OBJECT_DIRECTORY)
    : path.join(commonDir, 'objects');
  checkObjectFormat(commonDir);
  return { cwd, worktree, gitDir, commonDir, objectsDir };
}

function checkObjectFormat(commonDir: string): void {
  let config = '';
  try {
    config = fs.readFileSync(path.join(commonDir, 'config'), 'utf8');
  } catch {
    return;
  }
  if (/^\s*objectformat\s*=\s*sha256/im.test(config)) {
    throw new HandoffError(
      'unsupported_repository',
      'This repository uses SHA-256 object ids, which handoff does not support yet.',
    );
  }
  if (/^\s*refstorage\s*=\s*reftable/im.test(config)) {
    throw new HandoffError(
      'unsupported_repository',
      'This repository stores refs as reftable, which handoff does not support yet.',
    );
  }
}
