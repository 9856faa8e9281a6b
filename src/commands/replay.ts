import fs from 'node:fs';
import path from 'node:path';
import { HandoffError, UsageError } from '../core/errors';
import { firstLine, inert, inertLine } from '../core/text';
import { shortId } from '../core/ids';
import { defineCommand, jsonFlag, type Io } from './define';
import { paint } from '../render/io';
import { pagerStream } from '../render/pager';
import { patchLines } from '../render/text';
import { commitMaker, replayHtml } from '../render/replay-html';
import { replay, replayChunks } from '../ops/replay';
import { withContext } from './_shared';
import type { ReplayItem, ReplayJson } from '../json/replay';

const STDOUT_PATHS = ['/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'];

/** A file of a diffstat as printed: a rename names both its paths. */
const statName = (s: { file: string; from?: string }) =>
  s.from ? `${inertLine(s.from)} -> ${inertLine(s.file)}` : inertLine(s.file);

/** The lines of one timeline item. */
function itemLines(io: Io, it: ReplayItem): string[] {
  const out: string[] = [];
  if (it.type === 'message') {
    const m = it.message;
    out.push(
      `${paint(io, 'dim', m.ts)} ${paint(io, 'bold', inert(m.from))} → ${inert(m.to.join(','))} ${paint(io, 'magenta', m.kind)} ${paint(io, 'dim', m.shortId)}${m.replyTo ? paint(io, 'dim', ` (reply to ${shortId(m.replyTo)})`) : ''}${it.signature && it.signature !== 'good' ? ` ${paint(io, 'red', SIGNATURE_MARK[it.signature])}` : ''}`,
    );
    for (const l of inert(m.body).split('\n')) out.push(`    ${l}`);
    if (it.stat?.length)
      out.push(
        paint(io, 'cyan', `    diff: ${it.stat.map((s) => `${statName(s)} +${s.added} -${s.removed}`).join(', ')}`),
      );
    if (it.patch) out.push(...patchLines(io, it.patch).map((l) => `    ${l}`));
    const receipts = it.recipients
      .map((x) => `${inert(x.agent)} ${x.status === 'stored' ? 'unread' : x.status}`)
      .join(', ');
    const verdicts = it.verdicts.map((v) => `${v.verdict.replace('_', ' ')} by ${inert(v.reviewer)}`).join(', ');
    const task = it.task ? `task ${it.task.state}${it.task.by ? ` (${inert(it.task.by)})` : ''}` : '';
    if (receipts || verdicts || task)
      out.push(paint(io, 'dim', `    ${[receipts, verdicts, task].filter(Boolean).join('; ')}`));
  } else {
    const answers = it.answers.length
      ? paint(
          io,
          'cyan',
          `  answers ${it.answers.map((a) => shortId(a)).join(', ')}${it.link === 'guess' ? ' (a guess)' : ''}`,
        )
      : '';
    out.push(
      `${paint(io, 'green', `● commit ${it.commit.slice(0, 10)}`)} by ${paint(io, 'bold', inert(commitMaker(it)))}: ${firstLine(it.subject, 60)}${answers}${it.rewrittenInto.length ? paint(io, 'dim', ` (since rewritten as ${it.rewrittenInto.map((c) => c.slice(0, 10)).join(', ')})`) : ''}${it.discarded ? paint(io, 'yellow', ' (discarded: no branch holds it)') : ''}${it.signature && it.signature !== 'good' ? ` ${paint(io, 'red', SIGNATURE_MARK[it.signature])}` : ''}`,
    );
    if (it.stat.length)
      out.push(paint(io, 'dim', `    ${it.stat.map((s) => `${statName(s)} +${s.added} -${s.removed}`).join(', ')}`));
    if (it.patch) out.push(...patchLines(io, it.patch).map((l) => `    ${l}`));
  }
  return out;
}

/** How replay marks a message whose commit is not signed by an allowed signer. */
const SIGNATURE_MARK = {
  unsigned: '[unsigned]',
  unknown_key: '[unknown signing key]',
  unverifiable: '[signature not checkable]',
  bad: '[BAD SIGNATURE]',
} as const;

export default defineCommand({
  id: 'replay',
  summary: 'Replay the conversation in time order, interleaved with diffs and attributed commits.',
  description: `Messages in causal order (a reply always after what it answers), each with its attached diff,
and each commit the hooks attributed, marked with the message it answers. Colour on a terminal (not when
piped or with NO_COLOR), through a pager for long output. --html writes one self-contained page (no
network access, every message, name and diff line escaped) with filters by agent and thread and a
permalink per message.`,
  examples: [
    '<%= config.bin %> replay',
    '<%= config.bin %> replay 01JD3K8Z5Q --diff full',
    '<%= config.bin %> replay --agent codex --since "2 days ago" --path src/',
    '<%= config.bin %> replay --html replay.html',
  ],
  args: [{ name: 'target', description: 'A thread (any message id in it) to replay; default: everything.' }],
  flags: {
    since: { type: 'string', description: 'Only after this time (ISO date or "2 days ago").', helpValue: 'date' },
    until: { type: 'string', description: 'Only before this time.', helpValue: 'date' },
    agent: { type: 'string', description: 'Only messages from or to this agent, and its commits.', helpValue: 'name' },
    path: {
      type: 'string',
      description: 'Only diffs and commits touching this path, directory or glob.',
      helpValue: 'path',
    },
    diff: {
      type: 'string',
      description: 'How much of each diff to show (default stat).',
      options: ['stat', 'full', 'none'],
    },
    html: {
      type: 'string',
      description: "Write a self-contained HTML page to this file ('-' for standard output).",
      helpValue: 'file',
    },
    'no-pager': { type: 'boolean', description: 'Do not pipe into a pager.' },
    json: jsonFlag,
  },
  run(parsed, io): Promise<ReplayJson & { html?: string; streamed?: boolean; htmlStream?: boolean }> {
    const f = parsed.flags;
    const html = f.html;
    // `--html -` (or /dev/stdout): the page on standard output.
    const toStdout = html !== undefined && (html === '-' || STDOUT_PATHS.includes(path.resolve(html)));
    if (toStdout && io.json)
      return Promise.reject(
        new UsageError(
          'conflicting_flags',
          '--html - writes the page to standard output, where --json would go too: give one.',
        ),
      );
    const input = {
      target: parsed.args.target,
      since: f.since,
      until: f.until,
      agent: f.agent,
      path: f.path,
      diff: f.diff ?? (html ? 'full' : 'stat'),
    } as const;
    if (!html && !io.json) {
      // The terminal form is written a chunk at a time, into the pager or the pipe, as it is made.
      return withContext(io, async (ctx) => {
        const out = pagerStream({ noPager: !!f['no-pager'] });
        let first = true;
        for (const chunk of replayChunks(ctx, input)) {
          const text = chunk.map((it) => itemLines(io, it).join('\n')).join('\n\n');
          await out.write(`${first ? '' : '\n'}${text}\n`);
          first = false;
          if (out.closed) break;
        }
        if (first) await out.write('Nothing to replay.\n');
        await out.end();
        return { thread: null, agents: [], threads: [], threadSubjects: {}, items: [], streamed: true };
      });
    }
    return withContext(io, (ctx) => {
      const r = replay(ctx, input);
      if (!html) return r;
      const file = path.resolve(html);
      const title = `handoff replay: ${path.basename(ctx.repo.worktree ?? ctx.repo.commonDir)}${r.thread ? ` thread ${shortId(r.thread)}` : ''}`;
      if (toStdout) {
        // Through standard output as it is (a pipe, a terminal, a file opened for appending): never reopened.
        io.log(replayHtml(r, title).replace(/\n$/, ''));
        return { ...r, htmlStream: true };
      }
      // A file that is there and is not a replay page (notes.txt, a page of one's own) is not written over.
      let there: string | null = null;
      try {
        there = fs.readFileSync(file, 'utf8').slice(0, 4096);
      } catch {
        /* not there (or not a file: writing says why) */
      }
      if (there && !/<title>handoff replay/.test(there))
        throw new HandoffError(
          'cannot_write_file',
          `${file} is there already and is not a replay page handoff wrote: nothing was written. Give --html a new file, or move that one away.`,
        );
      try {
        fs.writeFileSync(file, replayHtml(r, title));
      } catch (err) {
        throw new HandoffError(
          'cannot_write_file',
          `Could not write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Give --html a file in a directory that exists and that you can write.`,
        );
      }
      return { ...r, html: file };
    });
  },
  print(r, io) {
    // The terminal form was written while it was made (run); only --html has something left to say.
    if (r.html && !r.htmlStream) io.log(`wrote ${r.html} (${r.items.length} items)`);
  },
});
