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
  const top = ctx.repo.worktree;
  let here = '';
  if (top && !given.startsWith(':/')) {
    try {
      here = path.relative(fs.realpathSync(top), fs.realpathSync(ctx.repo.cwd)).split(path.sep).join('/');
    } catch {
      here = '';
    }
    if (here.startsWith('..') || path.isAbsolute(here)) here = '';
  }
  const joined = path.posix.normalize(`${here ? `${here}/` : ''}${given.replace(/^:\//, '')}`);
  const clean = joined.replace(/^\.\//, '');
  if (clean.startsWith('/') || clean.split('/').includes('..')) throw bad();
  return clean;
}
