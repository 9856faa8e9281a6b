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

/** Removes a worktree (with its changes); false when git refuses. */
export function removeWorktree(cwd: string, dir: string): boolean {
  return runGit(['worktree', 'remove', '--force', dir], { cwd, allowFailure: true }).status === 0;
}

/** Forgets worktrees whose directories are gone. */
export function pruneWorktrees(cwd: string): void {
  runGit(['worktree', 'prune'], { cwd, allowFailure: true });
}
