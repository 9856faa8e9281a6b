import { UsageError } from '../core/errors';
import { inert } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { claim, DEFAULT_TTL_S } from '../ops/claims';
import { withContext } from './_shared';

export default defineCommand({
  id: 'claim',
  summary: 'Claim a task or a request so that no other agent takes it; exit 4 names the holder.',
  description: `The key is a task name (lowercase: parser-rewrite) or a message id (a request: its short id
works). Of any number of agents claiming one key at once in this clone, exactly one wins; the others exit 4
with who holds it, since when and until when. A claim is held by the agent's long-lived process (the agent
runtime among this command's parents, or --pid) and a lease (--ttl, default ${DEFAULT_TTL_S / 60} minutes)
that the holder's activity renews. When the holder's process is gone, or its lease ran out, the next claim
takes it over and records the reclaim; the old holder is told. Claiming your own key again renews it.

Claims sync like messages; two clones that claimed one key offline agree after sync on the earliest claim,
and the other is told. With --remote, the remote decides at once: a compare-and-swap push of
refs/handoff/claims/<key>, so of several clones claiming together exactly one succeeds. The remote's lease is
renewed only by claiming again, not by activity: claim again before --ttl runs out to keep it.`,
  examples: [
    '<%= config.bin %> claim parser-rewrite',
    '<%= config.bin %> claim 5Q2XW7M --ttl 600',
    '<%= config.bin %> claim release-notes --wait --timeout 300',
    '<%= config.bin %> claim deploy --remote origin',
  ],
  args: [{ name: 'key', description: 'A task name or a message id.', required: true }],
  flags: {
    ttl: { type: 'integer', description: 'Lease in seconds, renewed by your activity.', helpValue: 'seconds', min: 1 },
    pid: {
      type: 'integer',
      description: 'The long-lived process that holds the claim (default: your agent).',
      helpValue: 'pid',
    },
    wait: { type: 'boolean', description: 'Wait until the key can be taken (exit 5 after --timeout).' },
    timeout: { type: 'integer', description: 'With --wait: seconds to wait (default 300).', helpValue: 'seconds' },
    remote: {
      type: 'string',
      description: 'Let this remote decide, with a compare-and-swap of its claim ref.',
      helpValue: 'name',
    },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    if (f.timeout !== undefined && !f.wait)
      throw new UsageError('usage', '--timeout is how long --wait waits: give --wait with it (or leave it out).');
    return withContext(io, (ctx) =>
      claim(ctx, {
        key: parsed.args.key!,
        as: f.as,
        ttlSeconds: f.ttl,
        pid: f.pid,
        waitSeconds: f.wait ? (f.timeout ?? 300) : undefined,
        remote: f.remote,
      }),
    );
  },
  print(r, io) {
    const until = r.holder.expires ? ` until ${r.holder.expires}` : '';
    if (r.action === 'reclaimed')
      io.log(
        `${r.agent} took over ${inert(r.key)} from ${r.reclaimed!.from} (${r.reclaimed!.reason === 'gone' ? 'its process was gone' : 'its lease ran out'})${until}`,
      );
    else
      io.log(
        `${r.agent} ${r.action} ${inert(r.key)}${until}${r.holder.remote ? ` (decided by ${r.holder.remote})` : ''}`,
      );
    // No agent runtime among the command's parents (a script, a terminal): only the lease ends the claim.
    if (r.holder.pid === null)
      io.warn(
        "handoff: no agent process found to tie the claim to, so it holds until its lease runs out or 'handoff release'; --pid <pid> ties it to a process.",
      );
  },
});
