import { shortId } from '../core/ids';
import { UsageError } from '../core/errors';
import { firstLine, inert, inertLine } from '../core/text';
import { asFlag, defineCommand, jsonFlag } from './define';
import { paint } from '../render/io';
import { patchLines } from '../render/text';
import { listReviews, recordVerdict, review } from '../ops/review';
import type { VerdictEvent } from '../core/events';
import { withContext } from './_shared';
import type { ReviewJson, ReviewListJson } from '../json/review';

type Out = ReviewJson | ReviewListJson | { verdict: VerdictEvent; review: ReviewJson | null };

const WORD = { landed: 'landed as sent', changed: 'landed changed', not_landed: 'not landed' } as const;

export default defineCommand({
  id: 'review',
  summary: 'Compare a handoff with what landed, and record a verdict.',
  description: `Compares the diff attached when the handoff was sent with what landed: the commits attributed to
that message or its thread (or --range A..B). Each hunk is "landed as sent", "landed changed" (with the
difference), or "not landed"; files changed that the handoff did not mention are listed. Exit 0 either way.
--approve, --request-changes -m and --comment -m record a verdict event; the handoff's author gets it in
their inbox (the author's own verdict goes to the agents whose commits answer the handoff, else to its
recipients), and it syncs like every event. --list shows open and decided reviews.`,
  examples: [
    '<%= config.bin %> review 01JD3K8Z5Q',
    '<%= config.bin %> review 01JD3K8Z5Q --range main..feature --json',
    '<%= config.bin %> review 01JD3K8Z5Q --approve -m "ship it"',
    '<%= config.bin %> review 01JD3K8Z5Q --request-changes -m "the empty case is missing"',
    '<%= config.bin %> review --list',
  ],
  args: [{ name: 'id', description: 'The handoff (message id; the short id printed in tables works).' }],
  flags: {
    range: {
      type: 'string',
      description: 'Compare with this range of commits instead of the attributed ones.',
      helpValue: 'A..B',
    },
    approve: { type: 'boolean', description: 'Record an approval.' },
    'request-changes': { type: 'boolean', description: 'Record a request for changes (needs -m).' },
    comment: { type: 'boolean', description: 'Record a comment (needs -m).' },
    message: { type: 'string', char: 'm', description: 'The verdict text.', helpValue: 'text', emptyOk: true },
    list: { type: 'boolean', description: 'List open and decided reviews.' },
    as: asFlag,
    json: jsonFlag,
  },
  run(parsed, io): Promise<Out> {
    const f = parsed.flags;
    return withContext(io, async (ctx): Promise<Out> => {
      if (f.list) return listReviews(ctx);
      if (!parsed.args.id)
        throw new UsageError(
          'missing_id',
          "Say which handoff to review: 'handoff review <id>', or 'handoff review --list'.",
        );
      const verdicts = (['approve', 'request-changes', 'comment'] as const).filter((k) => f[k]);
      if (verdicts.length > 1)
        throw new UsageError('conflicting_flags', 'Give only one of --approve, --request-changes, --comment.');
      if (verdicts.length === 1) {
        const v = verdicts[0] === 'request-changes' ? 'request_changes' : verdicts[0]!;
        return recordVerdict(ctx, {
          id: parsed.args.id,
          verdict: v,
          body: f.message,
          as: f.as,
          range: f.range,
        });
      }
      return review(ctx, { id: parsed.args.id, range: f.range });
    });
  },
  print(r, io) {
    if ('reviews' in r) {
      if (r.reviews.length === 0) io.log('No handoffs to review.');
      for (const x of r.reviews)
        io.log(
          `${paint(io, x.state === 'open' ? 'yellow' : x.state === 'approve' ? 'green' : 'red', x.state.padEnd(15))} ${paint(io, 'dim', shortId(x.message))} ${inert(x.from)}: ${firstLine(x.subject, 60)}`,
        );
      return;
    }
    if ('verdict' in r) {
      io.log(
        `${r.verdict.verdict.replace('_', ' ')} recorded (${r.verdict.id})${r.verdict.to.length ? `; ${r.verdict.to.join(', ')} will find it in their inbox` : ''}`,
      );
      return;
    }
    const landed = r.landed.range
      ? `range ${r.landed.range}`
      : r.landed.byHead
        ? `HEAD (${r.landed.at?.slice(0, 10)}): no commit is attributed to this handoff, so what HEAD holds is what landed ('handoff work-on <id>' links commits to one)`
        : r.landed.commits.length
          ? `${r.landed.commits.length} attributed commit(s)${r.landed.relinked.length ? ` (${r.landed.relinked.length} of them no hook recorded, linked by trailer, patch id or lines)` : ''}, judged at ${r.landed.at?.slice(0, 10)} (${r.landed.onHead ? (r.landed.commits.includes(r.landed.at ?? '') ? 'the one that contains the others, or the tip on this branch' : 'the commit on this branch that brought them all in') : 'on another branch: this branch does not contain it'})${r.landed.elsewhere.length ? `; left out, on other branches: ${r.landed.elsewhere.map((c) => c.slice(0, 10)).join(', ')}` : ''}`
          : r.landed.discarded.length
            ? `no commit: the ${r.landed.discarded.length} attributed to it (${r.landed.discarded.map((c) => c.slice(0, 10)).join(', ')}) are on no branch any more (reset away?)`
            : 'no commit attributed to this handoff yet';
    io.log(`${paint(io, 'bold', `review of ${r.message}`)} from ${inert(r.from)} against ${landed}`);
    io.log(
      r.hunks.length
        ? `${r.summary.landed} landed as sent, ${r.summary.changed} landed changed, ${r.summary.not_landed} not landed${r.atHead ? `; at HEAD (${r.atHead.commit.slice(0, 10)}) since: ${r.atHead.summary.landed} as sent, ${r.atHead.summary.changed} changed, ${r.atHead.summary.not_landed} not there` : ''}\n`
        : 'The attached diff is empty (the working tree held no change when it was sent): there is nothing to compare.\n',
    );
    for (const h of r.hunks) {
      const color = h.status === 'landed' ? 'green' : h.status === 'changed' ? 'yellow' : 'red';
      io.log(
        `${paint(io, color, WORD[h.status].padEnd(15))} ${inertLine(h.file)} ${paint(io, 'dim', h.header)}${h.atHead ? paint(io, 'yellow', `  (at HEAD since: ${WORD[h.atHead]})`) : ''}`,
      );
      if (h.difference)
        io.log(
          patchLines(io, h.difference)
            .map((l) => `      ${l}`)
            .join('\n'),
        );
    }
    if (r.unmentioned.length) io.log(`\nChanged but not in the handoff: ${r.unmentioned.map(inertLine).join(', ')}`);
    for (const v of r.verdicts) io.log(`verdict: ${v.verdict.replace('_', ' ')} by ${inert(v.reviewer)}`);
  },
});
