import { UsageError } from '../core/errors';
import { defineCommand, jsonFlag } from './define';
import { checkout, cleanCheckouts } from '../ops/checkout';
import { withContext } from './_shared';

export default defineCommand({
  id: 'checkout',
  summary: "Put a handoff's snapshot in a new worktree (your current one is untouched).",
  description: `Materialises the working-tree snapshot attached to a message (send --attach-diff) in a new
git worktree with a detached HEAD, in a new temporary directory or the one given, and prints its path.
--clean removes every worktree made this way, except one with changes (edited, new or ignored files), which it
names and keeps; --clean --force removes those too.`,
  examples: [
    '<%= config.bin %> checkout 01JD3K8Z5Q',
    '<%= config.bin %> checkout 01JD3K8Z5Q ../review-snapshot',
    '<%= config.bin %> checkout --clean',
    '<%= config.bin %> checkout --clean --force',
  ],
  args: [
    { name: 'id', description: 'Message id (the short id printed in tables works).' },
    { name: 'dir', description: 'Directory for the worktree (new or empty).' },
  ],
  flags: {
    clean: { type: 'boolean', description: 'Remove the worktrees made by checkout (keeps any with changes).' },
    force: { type: 'boolean', description: 'With --clean: remove worktrees with changes too (the changes are lost).' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => {
      if (parsed.flags.force && !parsed.flags.clean)
        throw new UsageError('force_needs_clean', '--force goes with --clean: handoff checkout --clean --force.');
      if (parsed.flags.clean) return cleanCheckouts(ctx, { force: parsed.flags.force });
      if (!parsed.args.id)
        throw new UsageError(
          'missing_id',
          "Say which message to check out: 'handoff checkout <id>', or 'handoff checkout --clean'.",
        );
      return checkout(ctx, { id: parsed.args.id, dir: parsed.args.dir });
    });
  },
  print(r, io) {
    if ('removed' in r) {
      if (r.removed.length || !r.kept.length)
        io.log(r.removed.length ? `removed ${r.removed.join(', ')}` : 'no worktrees to remove');
      for (const k of r.kept)
        io.warn(
          `kept ${k.path} (message ${k.message}): ${k.reason}. ${/modified or untracked|files git ignores/.test(k.reason) ? "Copy what you need (or commit it on a branch), then 'handoff checkout --clean --force'." : "Then 'handoff checkout --clean'."}`,
        );
    } else io.log(r.path);
  },
});
