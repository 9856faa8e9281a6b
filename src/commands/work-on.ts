import { UsageError } from '../core/errors';
import { asFlag, defineCommand, jsonFlag } from './define';
import { resolveIdentity } from '../ops/identity';
import { findMessage } from '../ops/lookup';
import { guessWorkingOn, setWorkingOn, workingOn } from '../ops/working';
import { withContext } from './_shared';

export default defineCommand({
  id: 'work-on',
  summary: 'Say which handoff your next commits answer (their Handoff-Message trailer).',
  description: `A commit answers the handoff you pinned with 'work-on <id>', else the request you last replied
to with --attach-diff (both go into the commit as a Handoff-Message trailer), else the newest request you
read or claimed, which is recorded as a guess and marked "?" by blame. '--none' says your commits answer none,
'--auto' forgets the pin. With no argument, prints the current one. The choice is kept per worktree (one
agent name in two worktrees works on two things); in a worktree where you chose nothing, your last choice
anywhere counts. HANDOFF_MESSAGE in the environment overrides all of this.`,
  examples: ['<%= config.bin %> work-on 01JD3K8Z5Q', '<%= config.bin %> work-on --none', '<%= config.bin %> work-on'],
  args: [{ name: 'id', description: 'Message id (the short id printed in tables works).' }],
  flags: {
    none: { type: 'boolean', description: 'Commits answer no handoff.' },
    auto: {
      type: 'boolean',
      description:
        'Forget the pin: commits answer the next request replied to with a diff, or (a guess) the newest request read.',
    },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => {
      const me = resolveIdentity(ctx, { as: parsed.flags.as });
      const picked = [parsed.args.id !== undefined, !!parsed.flags.none, !!parsed.flags.auto].filter(Boolean).length;
      if (picked > 1) throw new UsageError('conflicting_flags', 'Give a message id, --none or --auto, not several.');
      if (parsed.args.id !== undefined)
        setWorkingOn(ctx, me.name, { message: findMessage(ctx, parsed.args.id).id, mode: 'explicit' });
      else if (parsed.flags.none) setWorkingOn(ctx, me.name, { message: null, mode: 'none' });
      else if (parsed.flags.auto) guessWorkingOn(ctx, me.name);
      return { agent: me.name, ...workingOn(ctx, me.name) };
    });
  },
  print(r, io) {
    if (r.mode === 'none') io.log(`${r.agent}'s commits answer no handoff`);
    else if (r.message)
      io.log(
        `${r.agent}'s commits answer ${r.message}${r.mode === 'auto' ? ' (a guess: the newest request read)' : r.mode === 'reply' ? ' (replied to with a diff)' : ' (pinned)'}`,
      );
    else io.log(`${r.agent} has not read a request yet; commits answer no handoff`);
  },
});
