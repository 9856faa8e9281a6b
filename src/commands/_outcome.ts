/** done, fail and block: one definition, three outcomes. */
import { UsageError } from '../core/errors';
import type { TaskState } from '../core/events';
import { recordOutcome } from '../ops/tasks';
import { findMessage } from '../ops/lookup';
import type { Context } from '../ops/context';
import { asFlag, defineCommand, jsonFlag } from './define';
import { bodyFlags, readBody, withContext } from './_shared';

/** The command that records `state` on a request; `done` takes its evidence optionally, the others need a reason. */
export function outcomeCommand(id: string, state: TaskState, summary: string, example: string) {
  return defineCommand({
    id,
    summary,
    description: `The sender finds it in their inbox, in the request's thread; 'handoff tasks' shows the request
as ${state}. The request's recipients, its sender and whoever holds its claim may record it; the holder
of the claim is told when someone else does, and the recipients when the sender does (a request
withdrawn or closed).`,
    examples: [`<%= config.bin %> ${id} 5Q2XW7M -m "${example}"`],
    args: [
      { name: 'id', description: 'The request (its short id works).', required: true },
      { name: 'body', description: 'Evidence or reason (or -m, --file, stdin).', emptyOk: true },
    ],
    variadic: true,
    flags: { ...bodyFlags, as: asFlag, json: jsonFlag },
    async run(parsed, io) {
      // A second id is a slip (one request at a time), not the evidence: an id as tables print it (7
      // characters, or 8 and more once two messages share their last 7, as the whole ledger then prints),
      // or one in any case that names a message.
      const second = parsed.args.body;
      const idLike = second !== undefined && /^[0-9A-HJKMNP-TV-Z]{7,26}$/i.test(second);
      const slip = () =>
        new UsageError(
          'usage',
          `${second} looks like a message id: ${id} takes one request (run it once for each). To give ${second} as the ${state === 'done' ? 'evidence' : 'reason'}, pass it with -m.`,
        );
      if (idLike && (second!.length === 7 || second!.length === 26) && second === second!.toUpperCase()) throw slip();
      const given =
        parsed.args.body !== undefined || parsed.flags.message !== undefined || parsed.flags.file !== undefined;
      // Evidence is optional for done: none given and no stdin (a terminal) is none; stdin piped or redirected
      // is read, as for fail, block and send.
      const body =
        given || state !== 'done' ? (await readBody(parsed, io)).toString() : ((await io.readStdin()) ?? '').toString();
      return withContext(io, (ctx) => {
        if (idLike && namesMessage(ctx, second!)) throw slip();
        return recordOutcome(ctx, { id: parsed.args.id!, state, body, as: parsed.flags.as });
      });
    },
    print(r, io) {
      io.log(`${r.message} ${state}; told ${r.to.join(', ')}${r.released ? ' (claim released)' : ''}`);
    },
  });
}

/** Whether `word` names a message (an ambiguous short id counts). */
function namesMessage(ctx: Context, word: string): boolean {
  try {
    findMessage(ctx, word);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'ambiguous_id';
  }
}
