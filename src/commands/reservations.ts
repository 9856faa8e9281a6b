import { inertLine } from '../core/text';
import { defineCommand, jsonFlag } from './define';
import { reservations } from '../ops/reservations';
import { ago, table } from '../render/text';
import { withContext } from './_shared';

export default defineCommand({
  id: 'reservations',
  summary: 'List the paths agents reserved, and whether each holder is still live.',
  description: `Reservations whose holder is gone or whose lease ran out no longer count; --all shows them too.`,
  examples: ['<%= config.bin %> reservations', '<%= config.bin %> reservations --all --json'],
  flags: {
    all: { type: 'boolean', description: 'Also reservations of holders that are gone or expired.' },
    json: jsonFlag,
  },
  run(parsed, io) {
    return withContext(io, (ctx) => reservations(ctx, { all: parsed.flags.all }));
  },
  print(r, io) {
    if (r.reservations.length === 0) {
      io.log('No reservations.');
      return;
    }
    const rows = r.reservations.map((x) => [
      inertLine(x.pattern),
      x.agent,
      x.exclusive ? 'exclusive' : 'shared',
      x.liveness,
      ago(x.since),
      inertLine(x.reason ?? ''),
    ]);
    for (const line of table(io, ['PATH', 'AGENT', 'KIND', 'STATE', 'SINCE', 'WHY'], rows)) io.log(line);
  },
});
