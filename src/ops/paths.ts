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
  let given = p.trim();
  const bad = () => new UsageError('bad_path', `${JSON.stringify(p)} is not a path or glob inside the repository.`);
  if (!given || given.length > 4096 || given.includes('\0')) throw bad();
  // An absolute path inside the working tree is taken from the top, as git takes it.
  if (given.startsWith('/')) {
    const inside = absoluteFromTop(ctx, given);
    if (inside === null) throw bad();
    given = `:/${inside === '.' ? '' : inside}`;
  }
  // git's one magic that names a place: ":(top)x" is ":/x". The others (glob, literal, icase, attr, exclude)
  // would be kept as text that matches nothing and overlaps nothing, so a reservation made with one would
  // hold nothing back: refused.
  given = given.replace(/^:\(top\)/, ':/');
  if ((given.startsWith(':') && !given.startsWith(':/')) || /^:\/[!^(:]/.test(given))
    throw new UsageError(
      'bad_path',
      `${JSON.stringify(p)} uses git pathspec magic, which handoff does not take here: give a path or a glob (src/**, *.md), or :/path for one from the top.`,
    );
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

/** Where the absolute path `abs` is from the top of the worktree (links resolved, as far as it exists); null outside. */
function absoluteFromTop(ctx: Context, abs: string): string | null {
  const top = ctx.repo.worktree;
  if (!top) return null;
  try {
    let existing = path.normalize(abs);
    const rest: string[] = [];
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
      rest.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
    const rel = path.relative(fs.realpathSync(top), path.join(fs.realpathSync(existing), ...rest));
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
