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
