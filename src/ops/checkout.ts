/**
 * Checkout: materialises the snapshot attached to a message in a new worktree of its own, leaving the
 * current worktree, index, HEAD and branches alone. The worktrees made are remembered for `--clean`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HandoffError, NotFoundError, UsageError } from '../core/errors';
import { inert } from '../core/text';
import { addDetachedWorktree, commitsOnlyThere, ignoredFiles, removeWorktree, worktreePaths } from '../git/worktree';
import { ObjectWriter } from '../git/objects';
import { objectsExist } from '../git/history';
import { requireWritable, type Context } from './context';
import { writeTx } from '../ledger/db';
import { writeFileAtomic } from '../core/files';
import { findMessage } from './lookup';
import type { CheckoutJson, CleanJson } from '../json/checkout';

const listFile = (ctx: Context) => path.join(ctx.dataDir, 'checkouts.json');

/** A worktree checkout made: its directory, the message, and the snapshot commit its HEAD started at. */
interface Made {
  path: string;
  message: string;
  commit?: string;
}

function readList(ctx: Context): Made[] {
  try {
    return JSON.parse(fs.readFileSync(listFile(ctx), 'utf8')) as Made[];
  } catch {
    return [];
  }
}

/**
 * Changes the list under SQLite's write lock, which serialises this clone's processes (and is dropped by the
 * kernel when one dies): checkouts made at once each keep their entry.
 */
function updateList(ctx: Context, change: (list: Made[]) => Made[]): void {
  writeTx(ctx.db, () => writeFileAtomic(listFile(ctx), JSON.stringify(change(readList(ctx)), null, 2)));
}

/** Puts the snapshot of message `id` in a new worktree (a new temporary directory unless `dir` is given). */
export function checkout(ctx: Context, input: { id: string; dir?: string }): CheckoutJson {
  requireWritable(ctx, 'make a checkout');
  const m = findMessage(ctx, input.id);
  if (!m.diff_tree || !m.diff_base)
    throw new UsageError(
      'no_snapshot',
      `Message ${m.id} was sent without --attach-diff, so it has no snapshot to check out.`,
    );
  // A message from another clone may name objects that never arrived (or a forger's): nothing is written then,
  // not even a commit that names them.
  const [tree, base] = objectsExist(ctx.repo.cwd, [`${m.diff_tree}^{tree}`, `${m.diff_base}^{commit}`]);
  if (!tree || !base)
    throw new NotFoundError(
      'snapshot_missing',
      `Message ${m.id} names a ${tree ? `base commit ${m.diff_base}` : `snapshot ${m.diff_tree}`} that is not in this repository, so there is nothing to check out. 'handoff verify' names what is missing.`,
    );
  let dir: string;
  if (input.dir !== undefined) {
    dir = path.resolve(ctx.repo.cwd, input.dir);
    // Inside a working tree of the repository (this one or another linked one), the checkout would be picked
    // up by git add (and snapshots) as a submodule.
    const tops = [...new Set([ctx.repo.worktree, ...worktreePaths(ctx.repo.cwd)].filter((t): t is string => !!t))];
    for (const top of tops) {
      const real = (p: string) => {
        const rest: string[] = [];
        let cur = p;
        while (!fs.existsSync(cur) && path.dirname(cur) !== cur) {
          rest.unshift(path.basename(cur));
          cur = path.dirname(cur);
        }
        return path.join(fs.realpathSync(cur), ...rest);
      };
      if (!fs.existsSync(top)) continue;
      const rel = path.relative(real(top), real(dir));
      if (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) {
        throw new UsageError(
          'dir_inside_worktree',
          `${dir} is inside ${top}, a working tree of this repository, where git would record it as a submodule. Give a directory outside it, or none (a temporary one is made).`,
        );
      }
    }
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
      throw new UsageError('dir_not_empty', `${dir} exists and is not empty. Give a new or empty directory.`);
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `handoff-${m.id.slice(-8).toLowerCase()}-`));
  }
  // A commit for the snapshot (parent: its base) gives the worktree a detached HEAD that keeps it alive.
  const when = Date.parse(m.ts) / 1000;
  const ident = { name: m.sender, email: `${m.sender}@handoff.invalid`, when };
  const commit = new ObjectWriter(ctx.repo.objectsDir, ctx.repo.shared ?? null).commit({
    tree: m.diff_tree,
    parents: [m.diff_base],
    author: ident,
    committer: ident,
    message: `handoff snapshot of message ${m.id}\n\nHandoff-Id: ${m.id}\n`,
  });
  // Listed before it is made: a checkout killed while git makes it is still found by --clean.
  updateList(ctx, (list) => [...list, { path: dir, message: m.id, commit }]);
  const added = addDetachedWorktree(ctx.repo.cwd, dir, commit);
  if (!added.ok) {
    updateList(ctx, (list) => list.filter((e) => e.path !== dir));
    throw new HandoffError('checkout_failed', `Could not create a worktree at ${dir}: ${added.reason}`);
  }
  return { message: m.id, path: dir, commit, base: m.diff_base };
}

/**
 * Removes every worktree that checkout made. One with changes (edited or new files) is kept and named,
 * unless `force`: what someone wrote there would otherwise be lost.
 */
export function cleanCheckouts(ctx: Context, opts: { force?: boolean } = {}): CleanJson {
  const removed: string[] = [];
  const kept: Made[] = [];
  const refused: CleanJson['kept'] = [];
  const seen = readList(ctx);
  for (const entry of seen) {
    if (!fs.existsSync(entry.path)) {
      // Its directory gone: git's record of it goes (only this one: the user's own worktrees whose
      // directories are away, on a drive not mounted, say, keep theirs, as git's own gc keeps them for months).
      removeWorktree(ctx.repo.cwd, entry.path, true);
      removed.push(entry.path);
      continue;
    }
    // Listed, but git never made it (the checkout stopped first): an empty directory goes.
    try {
      if (fs.readdirSync(entry.path).length === 0) {
        fs.rmdirSync(entry.path);
        removed.push(entry.path);
        continue;
      }
    } catch {
      /* judged below */
    }
    // Commits made there that no branch or tag holds would be lost with the worktree (and its HEAD's log).
    const unkept =
      !opts.force && entry.commit && /^[0-9a-f]{40}$/.test(entry.commit)
        ? commitsOnlyThere(ctx.repo.cwd, entry.path, entry.commit)
        : null;
    if (unkept) {
      kept.push(entry);
      refused.push({
        path: entry.path,
        message: entry.message,
        reason: `it holds commits no branch holds (${unkept.slice(0, 10)}); keep them with 'git -C ${entry.path} branch <name> ${unkept.slice(0, 10)}' first`,
      });
      continue;
    }
    // git removes ignored files (a .env, a build) without asking: they are named and kept, as changes are.
    const ignored = opts.force ? [] : ignoredFiles(entry.path);
    if (ignored.length) {
      kept.push(entry);
      const names = ignored.slice(0, 5).map((f) => inert(f));
      const shown = names.join(', ') + (ignored.length > 5 ? ` and ${ignored.length - 5} more` : '');
      refused.push({
        path: entry.path,
        message: entry.message,
        reason: `it holds files git ignores (${shown}), which removing it would delete`,
      });
      continue;
    }
    const done = removeWorktree(ctx.repo.cwd, entry.path, opts.force);
    if (done.ok) removed.push(entry.path);
    else {
      kept.push(entry);
      refused.push({ path: entry.path, message: entry.message, reason: done.reason });
    }
  }
  // Checkouts made meanwhile stay listed.
  const judged = new Set(seen.map((e) => e.path));
  updateList(ctx, (list) => [...kept, ...list.filter((e) => !judged.has(e.path))]);
  return { removed, kept: refused };
}
