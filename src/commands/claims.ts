import { isEventId } from '../core/events';
import { shortId } from '../core/ids';
import { inert, inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { claims } from '../ops/claims';
import { ago, table } from '../render/text';
import { withContext } from './_shared';

export default defineCommand({
  id: 'claims',
  summary: 'List claimed keys with their holders, live or not.',
  description: `Shows each held key, who holds it, since when, until when, and whether the holder is live
(its process runs), gone (its process ended: the next claim takes it over), expired (its lease ran out) or
unknown (lease current, no process to check: the holder is on another machine, or claimed from a script
or terminal, not from an agent). The lease is renewed by the holder's activity. Gone and expired claims,
and claims on requests recorded done, show with --all.`,
  examples: ['<%= config.bin %> claims', '<%= config.bin %> claims --mine', '<%= config.bin %> claims --all --json'],
  flags: {
    mine: { type: 'boolean', description: 'Only your claims.' },
    all: { type: 'boolean', description: 'Also claims whose holder is gone or expired, or whose request is done.' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) =>
      claims(ctx, { as: parsed.flags.as, mine: parsed.flags.mine, all: parsed.flags.all }),
    );
  },
  print(r, io) {
    if (r.claims.length === 0) {
      io.log('No claims.');
      return;
    }
    const rows = r.claims.map((c) => [
      inert(isEventId(c.key) ? shortId(c.key) : c.key),
      c.holder.agent,
      c.holder.liveness,
      ago(c.holder.since),
      c.holder.expires ?? '-',
      inertLine(c.message?.subject ?? ''),
    ]);
    for (const line of table(io, ['KEY', 'HOLDER', 'STATE', 'SINCE', 'EXPIRES', 'REQUEST'], rows)) io.log(line);
  },
});
