import { UsageError } from '../core/errors';
import { firstLine, inert } from '../core/text';
import { shortId } from '../core/ids';
import { defineCommand, jsonFlag, noPagerFlag } from './define';
import { page } from '../render/pager';
import { paint } from '../render/io';
import { messageBlock } from '../render/text';
import { beginBlame, blame, why } from '../ops/blame';
import { withContext } from './_shared';
import type { BlameJson, WhyJson } from '../json/blame';

/**
 * A line range as git blame takes one, but for its regular expressions: 10,20; 10 or 10, (to the end);
 * ,20 (from the start); 10,+5 (five lines from 10); 10,-5 (five lines up to 10).
 */
function parseRange(v: string): [number, number] {
  const m = /^(\d*)(?:,([+-]?)(\d*))?$/.exec(v.trim());
  const bad = () =>
    new UsageError(
      'bad_range',
      `-L ${JSON.stringify(v)} is not a line range; use -L 10,20 (or 10, for 10 to the end, ,20, 10,+5, 10,-5).`,
    );
  if (!m || (m[1] === '' && (m[3] === '' || m[2]))) throw bad();
  const start = m[1] === '' ? 1 : Number(m[1]);
  const n = m[3] === '' || m[3] === undefined ? null : Number(m[3]);
  if (start < 1 || (m[2] && (n === null || n < 1))) throw bad();
  if (m[2] === '+') return [start, start + n! - 1];
  if (m[2] === '-') return [Math.max(1, start - n! + 1), start];
  if (n === null) return [start, Infinity];
  if (n < start) throw bad();
  return [start, n];
}

export default defineCommand({
  id: 'blame',
  summary: 'Show, for every line of a file, the commit, the agent and the handoff behind it.',
  description: `Runs git blame --porcelain once and resolves each commit to the agent that made it and the
message it answered: from the attribution the hooks recorded, through amend/rebase/squash rewrites, and,
where no hook ran, through the commit's trailers or its patch id. --why <line> prints the whole story of
one line: the message and its thread.`,
  examples: [
    '<%= config.bin %> blame src/parser.ts',
    '<%= config.bin %> blame src/parser.ts -L 10,20 --json',
    '<%= config.bin %> blame src/parser.ts --why 12',
  ],
  args: [{ name: 'file', description: 'A tracked file.', required: true }],
  flags: {
    lines: {
      type: 'string',
      char: 'L',
      description: 'Only these lines: 10,20; 10, (to the end); ,20; 10,+5; 10,-5.',
      helpValue: 'a,b',
    },
    rev: { type: 'string', description: 'Blame the file as of this revision.', helpValue: 'rev' },
    why: { type: 'integer', description: 'Print the message and thread behind one line.', helpValue: 'line' },
    'no-pager': noPagerFlag,
    json: jsonFlag,
  },
  run(parsed, io): Promise<BlameJson | WhyJson> {
    const f = parsed.flags;
    const line = f.why;
    if (line !== undefined) return withContext(io, (ctx) => why(ctx, { file: parsed.args.file!, line, rev: f.rev }));
    // git blame starts first and runs while the ledger opens.
    const started = beginBlame(process.cwd(), {
      file: parsed.args.file!,
      rev: f.rev,
      range: f.lines ? parseRange(String(f.lines)) : undefined,
    });
    return withContext(io, (ctx) => blame(ctx, started)).finally(() => started.running.catch(() => undefined));
  },
  print(r, io, parsed) {
    if ('thread' in r) {
      const l = r.line;
      io.log(`${paint(io, 'bold', `line ${l.line}`)}: ${inert(l.content)}`);
      if (/^0+$/.test(l.commit)) {
        // git's placeholder for a line of the working tree: nobody has committed it yet.
        io.log('Not committed yet: no commit, agent or handoff to name. Commit it and ask again.');
        return;
      }
      io.log(
        `commit ${l.commit} by ${l.agent ? `${l.agent.human ? 'human: ' : ''}${l.agent.name}` : 'unknown'} (${inert(l.summary)})`,
      );
      if (r.missing.length)
        io.log(
          `This commit answers ${r.missing.join(', ')}, which is not in this clone: not synced yet ('handoff sync' brings it), or its chain was dropped here.`,
        );
      const linked = r.messages[0]?.id ?? r.missing[0];
      if (!linked) io.log('No handoff is linked to this commit.');
      else if (l.link === 'guess')
        io.log(
          `The link to ${shortId(linked)} is a guess: it is the newest request ${l.agent?.name ?? 'the agent'} had read when committing (no work-on, no reply with a diff).`,
        );
      for (const m of r.thread) io.log(`\n${messageBlock(io, m).join('\n')}`);
      return;
    }
    const width = String(r.lines.at(-1)?.line ?? 1).length;
    const out: string[] = [];
    const prefixes = new Map<string, string>();
    for (const l of r.lines) {
      const key = `${l.commit}\0${l.agent?.name ?? ''}\0${l.messages[0]?.id ?? ''}`;
      let prefix = prefixes.get(key);
      if (prefix === undefined) {
        const who = l.agent
          ? `${l.agent.human ? 'human: ' : ''}${l.agent.name}`
          : /^0+$/.test(l.commit)
            ? 'not committed'
            : 'unknown';
        // A guessed link is marked with "?" so that it never reads like a pinned one.
        const msg = l.messages[0]
          ? `${shortId(l.messages[0].id)}${l.link === 'guess' ? '?' : ' '} ${l.messages[0].missing ? '(not synced here)' : firstLine(l.messages[0].subject, 24)}`
          : '';
        prefix = `${paint(io, 'dim', l.commit.slice(0, 8))} ${paint(io, 'bold', inert(who).padEnd(18).slice(0, 18))} ${paint(io, 'cyan', msg.padEnd(33).slice(0, 33))}`;
        prefixes.set(key, prefix);
      }
      out.push(`${prefix} ${String(l.line).padStart(width)}) ${inert(l.content)}`);
    }
    page(out.join('\n'), { noPager: !!parsed.flags['no-pager'] });
  },
});
