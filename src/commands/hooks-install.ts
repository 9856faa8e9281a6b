import path from 'node:path';
import { HandoffError } from '../core/errors';
import { defineCommand, jsonFlag } from './define';
import { checkHookPaths, installHooks, manualWhere as where } from '../ops/hooks';
import { withContext } from './_shared';

export default defineCommand({
  id: 'hooks:install',
  summary: 'Install the git hooks that record which agent made each commit.',
  description: `Installs pre-commit (warns of, or with handoff.reservations=block refuses, a commit into paths
another agent reserved exclusively), prepare-commit-msg (adds Handoff-Agent and Handoff-Message trailers),
post-commit (records an attribution event), post-merge (records a merge git made without stopping) and
post-rewrite (follows amend and rebase). Honours core.hooksPath
(lefthook, a directory of your own); a hook already there is kept and run first, its exit code respected.
A hooks directory the team commits, and husky 9's generated .husky/_, are left alone: install prints the
line to add to each hook instead. A core.hooksPath outside the repository is refused. Idempotent.
The hooks never block a commit because of a problem of handoff's own. They serve every worktree of the clone.`,
  examples: ['<%= config.bin %> hooks install', '<%= config.bin %> hooks install --json'],
  flags: { json: jsonFlag },
  run(_parsed, io) {
    const paths = { root: path.resolve(path.dirname(io.binPath), '..'), node: process.execPath };
    checkHookPaths(paths);
    return withContext(io, (ctx) => {
      const r = installHooks(ctx, paths);
      if (r.manual) {
        throw new HandoffError(
          'hooks_manual',
          `${where(r)}, so handoff changed nothing there. Add one line to each hook (create the file if needed) and commit it with your team:\n  ${r.manual.join('\n  ')}`,
          r,
        );
      }
      return r;
    });
  },
  print(r, io) {
    if (r.manual) {
      io.log(`${where(r)}, so handoff changes nothing there.`);
      io.log('Add one line to each hook (create the file if it does not exist), then commit it with your team:');
      for (const m of r.manual) io.log(`  ${m}`);
      return;
    }
    for (const h of r.hooks)
      io.log(`${h.name.padEnd(20)} ${h.state}${h.chained ? ' (chains the hook that was there)' : ''}`);
    io.log(`in ${r.dir}`);
  },
});
