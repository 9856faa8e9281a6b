import { shortId } from '../core/ids';
import { firstLine, inert } from '../core/text';
import { defineCommand, jsonFlag, noPagerFlag } from './define';
import { page } from '../render/pager';
import { ago, table } from '../render/text';
import { paint } from '../render/io';
import { log } from '../ops/blame';
import { withContext } from './_shared';

export default defineCommand({
  id: 'log',
  summary: 'List commits, newest first, with the agent that made each and the handoff behind it.',
  description: `Like git log, with each commit resolved to its agent and message (see 'handoff blame' for how).
"via" says how the link was found: hook, rewrite (amend/rebase/squash), trailer, patch-id, or content (a squash found by its lines).`,
  examples: [
    '<%= config.bin %> log',
    '<%= config.bin %> log --agent codex --since "2 days ago"',
    '<%= config.bin %> log src/parser.ts --json',
  ],
  args: [{ name: 'path', description: 'Only commits touching this path.' }],
  flags: {
    agent: { type: 'string', description: 'Only commits by this agent.', helpValue: 'name' },
    since: {
      type: 'string',
      description: 'Only commits after this date (2026-01-31, 3d, "2 days ago").',
      helpValue: 'date',
    },
    limit: {
      type: 'integer',
      char: 'n',
      description: 'At most this many commits (default 100; 0 for all).',
      helpValue: 'count',
    },
    'no-pager': noPagerFlag,
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    return withContext(io, (ctx) => ({
      commits: log(ctx, {
        agent: f.agent,
        since: f.since,
        path: parsed.args.path,
        limit: f.limit,
      }),
    }));
  },
  print({ commits: r }, io, parsed) {
    if (r.length === 0) {
      io.log('No commits.');
      return;
    }
    const rows = r.map((c) => {
      const named = (a: { name: string; human: boolean }) => `${a.human ? 'human: ' : ''}${a.name}`;
      const who = c.agents ? c.agents.map(named).join(', ') : c.agent ? named(c.agent) : 'unknown';
      // A squash or amend someone else made of an agent's commits names them too.
      const maker = c.agent && c.agents && !c.agents.some((a) => a.name === c.agent!.name) ? c.agent : null;
      const via = c.agents
        ? paint(io, 'dim', maker ? ` (rewritten by ${named(maker)})` : ' (squash)')
        : c.via && c.via !== 'hook'
          ? paint(io, 'dim', ` (via ${c.via})`)
          : '';
      // A guessed link is marked "?" so that it never reads like a pinned one.
      const msg = c.messages
        .map((m) => `${shortId(m.id)}${c.link === 'guess' ? '?' : ''} ${firstLine(m.subject, 40)}`)
        .join(', ');
      return [
        paint(io, 'yellow', c.commit.slice(0, 10)),
        `${paint(io, 'bold', inert(who))}${via}`,
        ago(c.date),
        firstLine(c.subject, 50),
        msg ? paint(io, 'cyan', `<- ${msg}`) : '',
      ];
    });
    page(table(io, ['COMMIT', 'AGENT', 'WHEN', 'SUBJECT', 'HANDOFF'], rows).join('\n'), {
      noPager: !!parsed.flags['no-pager'],
    });
  },
});
