import { inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { reserve } from '../ops/reservations';
import { withContext } from './_shared';

export default defineCommand({
  id: 'reserve',
  summary: 'Reserve paths or globs you are about to change, so other agents are warned off them.',
  description: `With --exclusive, a commit by another agent touching these paths is warned about by the
pre-commit hook (refused with 'git config handoff.reservations block'), and so is a send --attach-diff whose
diff touches them. A reservation lasts until you release it ('handoff release --paths ...') or its lease
(--ttl, default 2 hours, renewed by your activity) runs out, or your process is gone.
Paths are taken from where you are, as git takes them; :/path or an absolute path names one from the
top. git's other pathspec magic (:(glob), :!, ...) is refused: give a glob such as 'src/**' instead.`,
  examples: [
    "<%= config.bin %> reserve 'src/parser/**' --exclusive -m 'rewriting the tokenizer'",
    '<%= config.bin %> reserve docs/api.md --ttl 1800',
  ],
  args: [{ name: 'path', description: 'A path or glob (more may follow).', required: true }],
  variadic: true,
  flags: {
    exclusive: { type: 'boolean', char: 'x', description: 'Others should not change these paths.' },
    ttl: { type: 'integer', description: 'Lease in seconds, renewed by your activity.', helpValue: 'seconds', min: 1 },
    message: { type: 'string', char: 'm', description: 'Why (shown to others).', helpValue: 'reason', emptyOk: true },
    pid: {
      type: 'integer',
      description: 'The long-lived process that holds it (default: your agent).',
      helpValue: 'pid',
    },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    return withContext(io, (ctx) =>
      reserve(ctx, {
        patterns: [parsed.args.path!, ...parsed.rest],
        exclusive: f.exclusive,
        ttlSeconds: f.ttl,
        reason: f.message,
        pid: f.pid,
        as: f.as,
      }),
    );
  },
  print(r, io) {
    io.log(
      `${r.agent} reserved ${r.patterns.map(inertLine).join(' ')}${r.exclusive ? ' (exclusive)' : ''} until ${r.expires}`,
    );
    for (const c of r.conflicts)
      io.warn(
        `handoff: ${c.agent} holds an exclusive reservation of ${inertLine(c.pattern)}${c.reason ? ` (${inertLine(c.reason)})` : ''}`,
      );
  },
});
