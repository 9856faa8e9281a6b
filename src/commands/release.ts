import { inert, inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { checkReleasable, release } from '../ops/claims';
import { releaseReservations } from '../ops/reservations';
import { UsageError } from '../core/errors';
import { withContext } from './_shared';

export default defineCommand({
  id: 'release',
  summary: 'Release a claim you hold (or, with --paths, your file reservations).',
  description: `Releases the claim on a task name or message id so another agent can take it. With --remote,
the remote's claim ref is released too (by compare-and-swap). With --paths, releases your reservations of
those paths (all of them with no path given). Paths are taken from the current directory, as git takes
them; in a subdirectory, a path as 'handoff reservations' prints it (from the top) is taken from the top when
you have not reserved it from there.`,
  examples: [
    '<%= config.bin %> release parser-rewrite',
    '<%= config.bin %> release deploy --remote origin',
    "<%= config.bin %> release --paths 'src/parser/**'",
    '<%= config.bin %> release --paths',
  ],
  args: [{ name: 'key', description: 'A task name or a message id (or, with --paths, a path or glob).' }],
  variadic: true,
  flags: {
    paths: { type: 'boolean', description: 'Release file reservations instead of a claim.' },
    remote: { type: 'string', description: "Also release the remote's claim ref.", helpValue: 'name' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    const given = [parsed.args.key, ...parsed.rest].filter((x): x is string => x !== undefined);
    return withContext(io, async (ctx) => {
      if (f.paths) return releaseReservations(ctx, { patterns: given, as: f.as });
      if (given.length === 0)
        throw new UsageError('missing_id', 'Say which claim to release: handoff release <key>...');
      // Several keys: each must be held before any is released (with --remote, the remote decides each).
      const keys = given.length > 1 && !f.remote ? checkReleasable(ctx, { keys: given, as: f.as }) : given;
      const released = [];
      for (const key of keys) released.push(await release(ctx, { key, as: f.as, remote: f.remote }));
      return released.length === 1 ? released[0]! : { agent: released[0]!.agent, claims: released };
    });
  },
  print(r, io) {
    if ('claims' in r) for (const c of r.claims) io.log(`${c.agent} released ${inert(c.key)}`);
    else if ('key' in r)
      io.log(r.released ? `${r.agent} released ${inert(r.key)}` : `${r.agent} did not hold ${inert(r.key)}`);
    else
      io.log(
        r.released.length
          ? `${r.agent} released ${r.released.map(inertLine).join(' ')}`
          : `${r.agent} held no such reservation`,
      );
  },
});
