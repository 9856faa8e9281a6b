/** Linked worktrees handoff makes for `checkout` (detached, outside the user's working tree). */
import { runGit } from './exec';

/** Adds a detached worktree of `commit` at `dir`; returns git's reason when it cannot. */
export function addDetachedWorktree(
  cwd: string,
  dir: string,
  commit: string,
): { ok: true } | { ok: false; reason: string } {
  const res = runGit(['worktree', 'add', '--detach', '--quiet', dir, commit], { cwd, allowFailure: true });
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

/** Forgets worktrees whose directories are gone. */
export function pruneWorktrees(cwd: string): void {
  runGit(['worktree', 'prune'], { cwd, allowFailure: true });
}

/**
 * The HEAD of worktree `dir` when it moved past `start` to commits no branch or tag of the repository at
 * `cwd` holds (removing the worktree would lose them), else null.
 */
export function commitsOnlyThere(cwd: string, dir: string, start: string): string | null {
  const head = runGit(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { cwd: dir, allowFailure: true });
  const at = head.status === 0 ? head.stdout.toString('utf8').trim() : null;
  if (!at || at === start) return null;
  const holders = runGit(
    ['for-each-ref', '--count=1', '--contains', at, '--format=%(refname)', 'refs/heads/', 'refs/tags/'],
    { cwd, allowFailure: true },
  );
  return holders.status === 0 && holders.stdout.toString('utf8').trim() ? null : at;
}
