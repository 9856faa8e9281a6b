import { UsageError } from '../core/errors';
import { defineCommand, jsonFlag } from './define';
import { checkout, cleanCheckouts } from '../ops/checkout';
import { withContext } from './_shared';

export default defineCommand({
  id: 'checkout',
  summary: "Put a handoff's snapshot in a new worktree (your current one is untouched).",
  description: `Materialises the working-tree snapshot attached to a message (send --attach-diff) in a new
git worktree with a detached HEAD, in a new temporary directory or the one given, and prints its path.
--clean removes every worktree made this way.`,
  examples: [
    '<%= config.bin %> checkout 01JD3K8Z5Q',
    '<%= config.bin %> checkout 01JD3K8Z5Q ../review-snapshot',
    '<%= config.bin %> checkout --clean',
  ],
  args: [
    { name: 'id', description: 'Message id (the short id printed in tables works).' },
    { name: 'dir', description: 'Directory for the worktree (new or empty).' },
  ],
  flags: {
    clean: { type: 'boolean', description: 'Remove the worktrees made by checkout.' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => {
      if (parsed.flags.clean) return cleanCheckouts(ctx);
      if (!parsed.args.id)
        throw new UsageError(
          'missing_id',
          "Say which message to check out: 'handoff checkout <id>', or 'handoff checkout --clean'.",
        );
      return checkout(ctx, { id: parsed.args.id, dir: parsed.args.dir });
    });
  },
  print(r, io) {
    if ('removed' in r) io.log(r.removed.length ? `removed ${r.removed.join(', ')}` : 'no worktrees to remove');
    else io.log(r.path);
  },
});
