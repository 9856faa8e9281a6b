import { shortId } from '../core/ids';
import { MESSAGE_KINDS } from '../core/events';
import { defineCommand, jsonFlag } from './define';
import { search } from '../ops/search';
import { paint, progressBar } from '../render/io';
import { ago, table } from '../render/text';
import { inert, inertLine } from '../core/text';
import { withContext } from './_shared';

export default defineCommand({
  id: 'search',
  summary: 'Search messages, thread subjects, attached file names and attributed commits.',
  description: `Full-text search (SQLite FTS5), best matches first: all words must match; "a phrase" in
quotes; prefix* matches words starting so; OR and NOT combine. Filters narrow it down.`,
  examples: [
    '<%= config.bin %> search tokenizer',
    '<%= config.bin %> search \'"off by one"\' --from codex',
    '<%= config.bin %> search pars* --kind request --since 7d --json',
  ],
  args: [{ name: 'query', description: 'Words, "a phrase", prefix*.', required: true, emptyOk: true }],
  variadic: true,
  flags: {
    from: { type: 'string', description: 'Only what this agent wrote.', helpValue: 'agent' },
    to: { type: 'string', description: 'Only messages to this agent.', helpValue: 'agent' },
    kind: {
      type: 'string',
      description: 'Only this kind (a message kind, or commit).',
      options: [...MESSAGE_KINDS, 'commit'],
    },
    since: { type: 'string', description: 'Only since this date or age (2026-12-01, 3d, 12h).', helpValue: 'when' },
    thread: { type: 'string', description: 'Only in the thread of this message.', helpValue: 'id' },
    limit: {
      type: 'integer',
      char: 'n',
      description: 'At most this many hits (default 20; 0 for all).',
      helpValue: 'count',
      min: 0,
    },
    json: jsonFlag,
  },
  run(parsed, io) {
    const f = parsed.flags;
    const query = [parsed.args.query!, ...parsed.rest].join(' ');
    // The first search after many events arrived indexes them first (with progress on a terminal).
    const bar = progressBar('indexing for search', { clear: true });
    return withContext(io, (ctx) => {
      const r = search(
        ctx,
        { query, from: f.from, to: f.to, kind: f.kind, since: f.since, thread: f.thread, limit: f.limit },
        bar.update,
      );
      bar.end();
      return r;
    });
  },
  print(r, io) {
    if (r.hits.length === 0) {
      io.log(`Nothing matches ${r.query.includes('"') ? inertLine(r.query) : JSON.stringify(r.query)}.`);
      return;
    }
    const rows = r.hits.map((h) => {
      // Matches are marked **like this**: each piece is made inert, then the matches are styled.
      const text = inert(h.snippet.replace(/\n/g, ' '))
        .split('**')
        .map((part, i) => (i % 2 === 1 ? paint(io, 'bold', part) : part))
        .join('');
      const id = h.kind === 'commit' ? h.id.slice(0, 10) : shortId(h.id);
      const fate = h.rewrittenAs
        ? ` (now ${h.rewrittenAs.map((c) => c.slice(0, 10)).join(', ')})`
        : h.discarded
          ? ' (discarded)'
          : '';
      return [paint(io, 'yellow', id), `${h.kind}${paint(io, 'dim', fate)}`, inertLine(h.author), ago(h.ts), text];
    });
    for (const line of table(io, ['id', 'kind', 'from', 'when', 'match'], rows)) io.log(line);
  },
});
