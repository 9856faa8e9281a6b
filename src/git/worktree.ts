/** Linked worktrees handoff makes for `checkout` (detached, outside the user's working tree). */
import { runGit } from './exec';

/** Adds a detached worktree of `commit` at `dir`; returns git's reason when it cannot. */
export function addDetachedWorktree(
  cwd: string,
  dir: string,
  commit: string,
): { ok: true } | { ok: false; reason: string } {
  // The whole snapshot: a sparse checkout's patterns (which git gives the new worktree) would leave files out.
  const res = runGit(
    [
      '-c',
      'core.sparseCheckout=false',
      '-c',
      'core.sparseCheckoutCone=false',
      'worktree',
      'add',
      '--detach',
      '--quiet',
      dir,
      commit,
    ],
    { cwd, allowFailure: true },
  );
  return res.status === 0 ? { ok: true } : { ok: false, reason: res.stderr.trim() };
}

/**
 * Removes a worktree; git refuses one with changes (modified or untracked files) unless `force`. Returns
 * git's reason when it refuses.
 */
export function removeWorktree(cwd: string, dir: string, force = false): { ok: true } | { ok: false; reason: string } {
  const res = runGit(['worktree', 'remove', ...(force ? ['--force'] : []), dir], { cwd, allowFailure: true });
  return res.status === 0 ? { ok: true } : { ok: false, reason: res.stderr.trim().replace(/^fatal: /, '') };
}

/**
 * Files in worktree `dir` that .gitignore keeps out of git (a directory of them counts once, as git lists
 * it): `git worktree remove` deletes them without asking.
 */
export function ignoredFiles(dir: string): string[] {
  const res = runGit(['status', '--porcelain=v1', '-z', '--ignored=traditional', '--untracked-files=normal'], {
    cwd: dir,
    allowFailure: true,
  });
  if (res.status !== 0) return [];
  return res.stdout
    .toString('utf8')
    .split('\0')
    .filter((e) => e.startsWith('!! '))
    .map((e) => e.slice(3));
}

/** The directories of every worktree of the repository (the main one too), as git lists them. */
export function worktreePaths(cwd: string): string[] {
  const res = runGit(['worktree', 'list', '--porcelain', '-z'], { cwd, allowFailure: true });
  if (res.status !== 0) return [];
  return res.stdout
    .toString('utf8')
    .split('\0')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length));
}

/**
 * A commit worktree `dir` has held (its HEAD now, or earlier: its HEAD's log goes with it) that is neither
 * `start` nor held by a branch or tag of the repository at `cwd`: removing the worktree would lose it.
 * Null when there is none.
 */
export function commitsOnlyThere(cwd: string, dir: string, start: string): string | null {
  const log = runGit(['log', '-g', '--format=%H', 'HEAD'], { cwd: dir, allowFailure: true });
  const seen = [...new Set(log.status === 0 ? log.stdout.toString('utf8').split('\n').filter(Boolean) : [])];
  if (seen.every((c) => c === start)) return null;
  const lost = runGit(['rev-list', '--max-count=1', ...seen, '--not', start, '--branches', '--tags'], {
    cwd,
    allowFailure: true,
  });
  const first = lost.status === 0 ? lost.stdout.toString('utf8').trim() : '';
  return first || null;
}
