/** Paths a user gives on the command line, taken as git takes them. */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../core/errors';
import type { Context } from './context';

/**
 * A path (or glob) from the top of the working tree. One given in a subdirectory is taken from there, as git
 * takes paths (`../x` included, while it stays inside); `:/x` is from the top. The top itself is ".".
 * Anything that leads outside the repository is refused (bad_path).
 */
export function topRelative(ctx: Context, p: string): string {
  const given = p.trim();
  const bad = () => new UsageError('bad_path', `${JSON.stringify(p)} is not a path or glob inside the repository.`);
  if (!given || given.length > 4096 || given.includes('\0') || given.startsWith('/')) throw bad();
  let here = '';
  if (!given.startsWith(':/')) {
    here = fromTopOf(ctx, '.') ?? '';
    if (here === '.') here = '';
  }
  const joined = path.posix.normalize(`${here ? `${here}/` : ''}${given.replace(/^:\//, '')}`);
  const clean = joined.replace(/^\.\//, '');
  if (clean.startsWith('/') || clean.split('/').includes('..')) throw bad();
  return clean;
}

/**
 * Where `file` (relative to the current directory, or absolute) is from the top of the worktree, with `/`
 * between names; "." for the top; null when it is outside, or there is no worktree.
 */
function fromTopOf(ctx: Context, file: string): string | null {
  const top = ctx.repo.worktree;
  if (!top) return null;
  try {
    const rel = path.relative(fs.realpathSync(top), path.resolve(fs.realpathSync(ctx.repo.cwd), file));
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    return rel ? rel.split(path.sep).join('/') : '.';
  } catch {
    return null;
  }
}

/** A file's path as output shows it: from the top of the worktree when it lies inside it, as given otherwise. */
export function shownFromTop(ctx: Context, file: string): string {
  return fromTopOf(ctx, file) ?? file;
}
