import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, chainEvents, cleanEnv, cli, cliAsync, git, makeRepo, ok } from '../helpers/repo';

/** Runs the CLI with arguments given as bytes, as a shell passes them (node's spawn would encode them as UTF-8). */
function cliBytes(cwd: string, args: (string | Buffer)[], agent: string) {
  const words = args.map((a, i) => {
    if (!Buffer.isBuffer(a)) return `"$${i + 1}"`;
    return `"$(printf '${[...a].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}')"`;
  });
  const plain = args.map((a) => (Buffer.isBuffer(a) ? '' : a));
  return spawnSync('sh', ['-c', `exec "${process.execPath}" "${BIN}" ${words.join(' ')}`, 'sh', ...plain], {
    cwd,
    env: cleanEnv({ HANDOFF_AGENT: agent }),
    encoding: 'utf8',
  });
}

describe('edge values a user can give', () => {
  it('a --timeout too long for a timer still waits (and delivers), with no warning from node', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const waiting = cliAsync(repo, ['wait', '--timeout', '2147484', '--json'], { agent: 'b' });
    await new Promise((r) => setTimeout(r, 1500));
    const sent = ok(repo, ['send', 'b', 'after a while', '--json'], { agent: 'a' }).json.message.id;
    const r = await waiting.done;
    expect(r.status).toBe(0);
    expect(JSON.stringify(r.json)).toContain(sent);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
  });

  it('log --since reads the dates replay and search read, and refuses what it cannot read', () => {
    const repo = makeRepo();
    for (const text of ['not a date', 'xyz'])
      expect(cli(repo, ['log', '--since', text, '--json']).json.error.code).toBe('bad_since');
    // A date without its year is not read as 2001 (JavaScript's guess) by replay either.
    expect(cli(repo, ['replay', '--since', 'Dec 1', '--json']).json.error.code).toBe('bad_date');
    for (const since of [
      'yesterday',
      '3d',
      '2 days ago',
      '3 months ago',
      '2000-01-01',
      '2000-01-01 10:00',
      'last monday',
      '1 week 2 days ago',
      '2.weeks.ago',
    ])
      expect(ok(repo, ['log', '--since', since, '--json']).json.commits.map((c: any) => c.subject)).toEqual([
        'initial',
      ]);
    expect(ok(repo, ['log', '--since', '2999-01-01', '--json']).json.commits).toEqual([]);
    // Ids fed back where a date goes: a commit (short and full) and a message (full, short, lower case).
    ok(repo, ['join'], { agent: 'codex' });
    const id = ok(repo, ['send', 'codex', 'hi', '--json'], { agent: 'claude' }).json.message.id;
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    for (const given of [head.slice(0, 8), head, id, id.slice(-7), id.slice(-7).toLowerCase()])
      expect(cli(repo, ['log', '--since', given, '--json']).json?.error?.code, given).toBe('bad_since');
  });

  it('blame says which line or path is wrong, with the documented codes', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\nb\nc\n' } });
    const why = cli(repo, ['blame', 'f.txt', '--why', '99', '--json']);
    expect([why.status, why.json.error.code]).toEqual([3, 'line_not_found']);
    expect(why.json.error.message).toContain('has only 3 line');
    const range = cli(repo, ['blame', 'f.txt', '-L', '100,200', '--json']);
    expect([range.status, range.json.error.code]).toEqual([3, 'line_not_found']);
    const outside = cli(repo, ['blame', '../elsewhere/g.txt', '--json']);
    expect([outside.status, outside.json.error.code]).toEqual([2, 'bad_path']);
  });

  it('replay --html to a place that cannot be written is a plain error, not a bug', () => {
    const repo = makeRepo();
    ok(repo, ['send', 'b', 'x', '--create'], { agent: 'a' });
    const r = cli(repo, ['replay', '--html', path.join(repo, 'no', 'such', 'dir', 'x.html'), '--json']);
    expect([r.status, r.json.error.code]).toEqual([1, 'cannot_write_file']);
    expect(r.json.error.message).toContain('ENOENT');
  });

  it('log given a commit, a branch or a message id where its path goes says so; a file, ./name and a deleted path are paths', () => {
    const repo = makeRepo({ files: { 'kept.txt': '1\n', 'gone.txt': '1\n' } });
    git(repo, 'rm', '-q', 'gone.txt');
    git(repo, 'commit', '-qm', 'remove gone.txt');
    ok(repo, ['join'], { agent: 'codex' });
    const printed = ok(repo, ['send', 'codex', 'hi'], { agent: 'claude' }).stdout.trim();
    const short = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages[0].shortId;
    expect(printed.endsWith(short)).toBe(true);
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    git(repo, 'branch', 'topic');
    for (const given of [head.slice(0, 7), 'topic', short, short.toLowerCase(), printed]) {
      const r = cli(repo, ['log', given, '--json']);
      expect([r.status, r.json?.error?.code], given).toEqual([2, 'not_a_path']);
    }
    expect(cli(repo, ['log', head.slice(0, 7)]).stderr).toMatch(/is not a file here but a revision/);
    expect(ok(repo, ['log', 'kept.txt', '--json']).json.commits).toHaveLength(1);
    expect(ok(repo, ['log', 'gone.txt', '--json']).json.commits).toHaveLength(2);
    expect(ok(repo, ['log', './topic', '--json']).json.commits).toEqual([]);
  });

  it('a commit id given where a message id goes is named as a commit', () => {
    const repo = makeRepo();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    for (const given of [head.slice(0, 10), head]) {
      const r = cli(repo, ['show', given, '--json']);
      expect([r.status, r.json.error.code]).toEqual([3, 'message_not_found']);
      expect(r.json.error.message).toContain(`${given} is a commit, not a message`);
      expect(r.json.error.details.commit).toBe(head);
    }
    // Hex that is no commit here is still just a missing message.
    expect(cli(repo, ['show', 'abcdef1234', '--json']).json.error.message).toMatch(/^No message ABCDEF1234/);
  });

  it('the ids claim, reserve and done print, a chain id, and a task name, given where a message id goes, are named as what they are', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const request = ok(repo, ['send', 'b', 'fix the parser', '--json'], { agent: 'a' }).json.message.id;
    const claim = ok(repo, ['claim', 'parser-fix', '--json'], { agent: 'b' }).json.event;
    const outcomeId = ok(repo, ['done', request, '-m', 'fixed', '--json'], { agent: 'b' }).json.event;
    const chain = fs.readFileSync(path.join(repo, '.git', 'handoff', 'clone-id'), 'utf8').trim();

    const asClaim = cli(repo, ['show', claim, '--json']);
    expect([asClaim.status, asClaim.json.error.code]).toEqual([3, 'message_not_found']);
    expect(asClaim.json.error.message).toContain(`${claim} is a claim event by b`);
    expect(asClaim.json.error.details).toMatchObject({ event: claim, type: 'claim' });
    // done's event is the message that tells the sender: shown as one.
    expect(ok(repo, ['show', outcomeId, '--json']).json.message.body).toBe('fixed');
    const reservation = ok(repo, ['reserve', 'src/x.ts', '--json'], { agent: 'b' }).json.event;
    expect(cli(repo, ['show', reservation, '--json']).json.error.message).toContain(
      `${reservation} is a reservation event by b`,
    );
    const asChain = cli(repo, ['show', chain, '--json']);
    expect(asChain.json.error.message).toContain(`${chain} is a chain`);
    expect(asChain.json.error.details.chain).toBe(chain);
    // The task name claim took, given to done (and lowercase-hex-free names that look like ids, and digits).
    ok(repo, ['claim', '20261205'], { agent: 'b' });
    for (const args of [
      ['done', 'parser-fix', '-m', 'x'],
      ['block', 'parser-fix', '-m', 'x'],
      ['show', '20261205'],
    ]) {
      const key = args[1]!;
      const r = cli(repo, [...args, '--json'], { agent: 'b' });
      expect([r.status, r.json.error.code], args.join(' ')).toEqual([3, 'message_not_found']);
      expect(r.json.error.message).toContain(`"${key}" is a task name`);
      expect(r.json.error.message).toContain(`'handoff release ${key}'`);
      expect(r.json.error.details.task).toBe(key);
    }
    // Nothing was recorded by the refusals: the claim still stands.
    expect(ok(repo, ['claims', '--json'], { agent: 'b' }).stdout).toContain('parser-fix');
    // An id that is nothing here is still just a missing message.
    expect(cli(repo, ['show', '01ARZ3NDEKTSV4RRFFQ69G5FAV', '--json']).json.error.message).toMatch(/^No message /);
  });

  it('a body argument that is not UTF-8 is refused as from a file or stdin, and writes nothing', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const before = chainEvents(repo).length;
    const bad = Buffer.from([0x68, 0x69, 0x20, 0xc3, 0x28]);
    for (const args of [
      ['send', 'b', bad],
      ['send', 'b', 'two', bad],
      ['send', 'b', '-m', bad],
      ['send', 'b', Buffer.concat([Buffer.from('--message='), bad])],
      ['send', 'b', Buffer.concat([Buffer.from('-m'), bad])],
    ]) {
      const r = cliBytes(repo, args, 'a');
      expect([r.status, r.stderr]).toEqual([2, expect.stringContaining('not valid UTF-8')]);
    }
    const viaFile = path.join(repo, '..', `body-${process.pid}.txt`);
    fs.writeFileSync(viaFile, bad);
    expect(cli(repo, ['send', 'b', '--file', viaFile, '--json'], { agent: 'a' }).json.error.code).toBe('invalid_utf8');
    expect(chainEvents(repo).length).toBe(before);
    // A real U+FFFD, given as UTF-8, is text like any other.
    const id = ok(repo, ['send', 'b', 'a replacement character: \uFFFD', '--json'], { agent: 'a' }).json.message.id;
    expect(ok(repo, ['show', id, '--json']).json.message.body).toBe('a replacement character: \uFFFD');
  });

  it('send --attach-diff of a clean working tree says the diff is empty', () => {
    const repo = makeRepo({ files: { 'a.txt': 'a\n' } });
    ok(repo, ['join'], { agent: 'b' });
    const clean = ok(repo, ['send', 'b', 'nothing changed', '--attach-diff', '--json'], { agent: 'a' }).json;
    expect(clean.message.diff.files).toBe(0);
    expect(clean.notices.join(' ')).toContain('the working tree matches HEAD');
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b\n');
    const changed = ok(repo, ['send', 'b', 'one change', '--attach-diff', '--json'], { agent: 'a' }).json;
    expect(changed.message.diff.files).toBe(1);
    expect(changed.notices ?? []).toEqual([]);
  });

  it('a very long key, id or name is quoted cut short in its error', () => {
    const repo = makeRepo();
    const long = `x${'Y'.repeat(5000)}`;
    for (const args of [
      ['claim', long],
      ['show', long],
      ['sync', long],
      ['join', '--as', long.toLowerCase()],
    ]) {
      const r = cli(repo, [...args, '--json'], { agent: 'a' });
      expect(r.status).toBe(args[0] === 'sync' ? 3 : 2);
      expect(r.json.error.message.length).toBeLessThan(400);
      expect(r.json.error.message).toContain('...');
    }
  });

  it('hooks run takes --json', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const r = ok(repo, ['hooks', 'run', 'post-commit', '--json'], { agent: 'codex' });
    expect(r.json).toEqual({ hook: 'post-commit', exitCode: 0 });
  });
});
