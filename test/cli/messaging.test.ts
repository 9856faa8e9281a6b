import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addWorktree, BIN, chainEvents, cleanEnv, cli, cliAsync, commonDir, git, makeRepo, ok } from '../helpers/repo';

describe('two agents in two worktrees of one repository', () => {
  it('two ids chosen to share a long ending do not lengthen every short id; their own short forms name both', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const plain = ok(repo, ['send', 'bob', 'one', '--json'], { agent: 'alice' }).json.message.id;
    for (const id of ['01M95ZZZZZZZZZZZZZZZZZZZZZ', '01M96ZZZZZZZZZZZZZZZZZZZZZ'])
      ok(repo, ['send', 'bob', `clash ${id}`, '--id', id], { agent: 'alice' });
    const shorts = ok(repo, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.shortId);
    expect(shorts.map((x: string) => x.length)).toEqual([10, 10, 10]);
    expect(shorts).toContain(plain.slice(-10));
    expect(ok(repo, ['show', plain.slice(-10), '--json']).json.message.id).toBe(plain);
    const both = cli(repo, ['show', 'ZZZZZZZZZZ', '--json']);
    expect([both.status, both.json.error.code]).toEqual([2, 'ambiguous_id']);
    expect(both.json.error.details.matches.sort()).toEqual([
      '01M95ZZZZZZZZZZZZZZZZZZZZZ',
      '01M96ZZZZZZZZZZZZZZZZZZZZZ',
    ]);
  });

  it('one message named twice (full and short id) is read, shown and acknowledged once', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const m = ok(repo, ['send', 'codex', 'once', '--json'], { agent: 'claude' }).json.message;
    const read = ok(repo, ['read', m.id, m.shortId, '--json'], { agent: 'codex' }).json;
    expect(read.messages.map((x: any) => x.id)).toEqual([m.id]);
    expect(read.marked).toEqual([m.id]);
    const acked = ok(repo, ['ack', m.shortId, m.id.toLowerCase(), m.id, '--json'], { agent: 'codex' }).json;
    expect(acked.acked).toEqual([m.id]);
    const receipts = chainEvents(repo)
      .map((c) => c.event)
      .filter((e: any) => e.type === 'receipt')
      .reverse();
    expect(receipts.map((e: any) => [e.status, e.messages])).toEqual([
      ['read', [m.id]],
      ['acked', [m.id]],
    ]);
  });

  it('hold a conversation: send, inbox, read receipts, reply in the thread, ack', () => {
    const repo = makeRepo();
    const wt = addWorktree(repo, 'codex-work');
    ok(repo, ['join', '--team', 'core'], { agent: 'claude' });
    ok(wt, ['join', '--team', 'core', '--role', 'reviewer'], { agent: 'codex' });

    const sent = ok(repo, ['send', 'codex', 'please review the parser', '--kind', 'review_request', '--json'], {
      agent: 'claude',
    }).json;
    const id = sent.message.id as string;
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(sent.message).toMatchObject({
      from: 'claude',
      to: ['codex'],
      kind: 'review_request',
      priority: 'normal',
      thread: id,
      replyTo: null,
    });

    // The worktree sees the message: both share <git common dir>/handoff/ledger.db and the chain.
    const inbox = ok(wt, ['inbox', '--json'], { agent: 'codex' }).json;
    expect(inbox.unread).toBe(1);
    expect(inbox.messages.map((m: any) => [m.id, m.body, m.status])).toEqual([
      [id, 'please review the parser', 'stored'],
    ]);
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.unread).toBe(0);

    // Sender sees "stored" until the recipient reads.
    expect(ok(repo, ['show', id, '--json']).json.recipients).toEqual([
      { agent: 'codex', status: 'stored', readAt: null, ackedAt: null },
    ]);
    const read = ok(wt, ['read', id.slice(0, 12), '--json'], { agent: 'codex' }).json;
    expect(read.marked).toEqual([id]);
    expect(ok(repo, ['show', id, '--json']).json.recipients[0].status).toBe('read');
    // Reading again writes no second receipt.
    expect(ok(wt, ['read', id, '--json'], { agent: 'codex' }).json.marked).toEqual([]);
    expect(ok(wt, ['inbox', '--json'], { agent: 'codex' }).json.unread).toBe(0);

    const replied = ok(wt, ['reply', id, 'looks good, one nit', '--json'], { agent: 'codex' }).json.message;
    expect(replied).toMatchObject({ from: 'codex', to: ['claude'], thread: id, replyTo: id, kind: 'review_response' });

    ok(wt, ['ack', id], { agent: 'codex' });
    const shown = ok(repo, ['show', id, '--json']).json;
    expect(shown.recipients[0].status).toBe('acked');
    expect(shown.replies.map((m: any) => m.id)).toEqual([replied.id]);

    const thread = ok(repo, ['thread', replied.id, '--json']).json;
    expect(thread.messages.map((m: any) => m.body)).toEqual(['please review the parser', 'looks good, one nit']);
    const threads = ok(repo, ['threads', '--json']).json.threads;
    expect(threads).toHaveLength(1);
    expect(threads[0]).toMatchObject({
      thread: id,
      messages: 2,
      subject: 'please review the parser',
      startedBy: 'claude',
    });

    // Every event is a commit on this clone's chain, readable with plain git.
    const events = chainEvents(repo);
    expect(events.map((e) => e.event.type).sort()).toEqual([
      'agent',
      'agent',
      'message',
      'message',
      'receipt',
      'receipt',
    ]);
    const refs = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/').split('\n');
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatch(/^refs\/handoff\/chains\/[0-9A-Z]{26}$/);
    expect(git(repo, 'show', `${sent.message.commit}:body`)).toBe('please review the parser');
    const msg = git(repo, 'log', '-1', '--format=%B', sent.message.commit);
    expect(msg).toContain('message claude -> codex: please review the parser');
    expect(msg).toContain(`Handoff-Id: ${id}`);
    expect(msg).toContain('Handoff-Event: message');
  });

  it('addresses @team, @role and all, never the sender itself', () => {
    const repo = makeRepo();
    ok(repo, ['join', '--team', 'core'], { agent: 'a' });
    ok(repo, ['join', '--team', 'core', '--role', 'reviewer'], { agent: 'b' });
    ok(repo, ['join', '--team', 'docs', '--role', 'reviewer'], { agent: 'c' });
    expect(ok(repo, ['send', '@core', 'hi team', '--json'], { agent: 'a' }).json.message.to).toEqual(['b']);
    expect(ok(repo, ['send', '@reviewer', 'hi reviewers', '--json'], { agent: 'a' }).json.message.to).toEqual([
      'b',
      'c',
    ]);
    expect(ok(repo, ['send', 'all', 'hi all', '--json'], { agent: 'c' }).json.message.to).toEqual(['a', 'b']);
    ok(repo, ['leave'], { agent: 'b' });
    expect(ok(repo, ['send', '@core', 'again', '--json'], { agent: 'c' }).json.message.to).toEqual(['a']);
    // A message by name still reaches an agent that left; it waits in the inbox.
    ok(repo, ['send', 'b', 'you left', '--json'], { agent: 'c' });
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.messages.map((m: any) => m.body)).toEqual([
      'hi team',
      'hi reviewers',
      'hi all',
      'you left',
    ]);
  });

  it('takes the body from -m, --file and stdin, and joins unquoted words', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const file = path.join(repo, 'note.txt');
    fs.writeFileSync(file, 'from a file\nsecond line\n');
    const bodies = [
      ok(repo, ['send', 'b', '-m', 'from -m', '--json'], { agent: 'a' }),
      ok(repo, ['send', 'b', '--file', file, '--json'], { agent: 'a' }),
      ok(repo, ['send', 'b', '--json'], { agent: 'a', input: 'from stdin\n' }),
      ok(repo, ['send', 'b', 'several', 'words', 'here', '--json'], { agent: 'a' }),
    ].map((r) => r.json.message.body);
    expect(bodies).toEqual(['from -m', 'from a file\nsecond line\n', 'from stdin\n', 'several words here']);
    const twice = cli(repo, ['send', 'b', 'arg', '-m', 'flag'], { agent: 'a' });
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/one way only/);
  });

  it('keeps a message for an agent that has not started yet when sent with --create', () => {
    const repo = makeRepo();
    const refused = cli(repo, ['send', 'gemini', 'hello', '--json'], { agent: 'claude' });
    expect(refused.status).toBe(3);
    expect(refused.json.error.code).toBe('unknown_recipient');
    expect(refused.json.error.message).toMatch(/--create/);
    ok(repo, ['send', 'gemini', 'start on the docs', '--create'], { agent: 'claude' });
    const agents = ok(repo, ['agents', '--json']).json.agents;
    expect(agents.find((a: any) => a.name === 'gemini')).toMatchObject({
      status: 'registered',
      unread: 1,
      live: false,
    });
    // Later, gemini starts and finds it.
    const inbox = ok(repo, ['inbox', '--json'], { agent: 'gemini' }).json;
    expect(inbox.messages.map((m: any) => m.body)).toEqual(['start on the docs']);
    expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'gemini').status).toBe('registered');
    ok(repo, ['join'], { agent: 'gemini' });
    expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'gemini').status).toBe('active');
  });

  it('lists urgent messages first and filters the inbox', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'mia' });
    ok(repo, ['send', 'mia', 'first', '--kind', 'status'], { agent: 'x' });
    ok(repo, ['send', 'mia', 'second', '--kind', 'question'], { agent: 'y' });
    ok(repo, ['send', 'mia', 'fire', '--priority', 'urgent'], { agent: 'y' });
    const bodies = (args: string[]) =>
      ok(repo, ['inbox', '--json', ...args], { agent: 'mia' }).json.messages.map((m: any) => m.body);
    expect(bodies([])).toEqual(['fire', 'first', 'second']);
    expect(bodies(['--from', 'y'])).toEqual(['fire', 'second']);
    expect(bodies(['--kind', 'question'])).toEqual(['second']);
    expect(bodies(['--priority', 'urgent'])).toEqual(['fire']);
    ok(repo, ['read', '--all'], { agent: 'mia' });
    expect(bodies([])).toEqual([]);
    expect(bodies(['--all'])).toHaveLength(3);
  });

  it('wait returns a message that arrives while it waits, and marks it read', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const waiting = cliAsync(repo, ['wait', '--timeout', '30', '--json'], { agent: 'codex' });
    // While waiting, codex is live.
    await until(() => ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex')?.live === true);
    const id = ok(repo, ['send', 'codex', 'wake up', '--json'], { agent: 'claude' }).json.message.id;
    const r = await waiting.done;
    expect(r.status).toBe(0);
    expect(r.json.messages.map((m: any) => [m.id, m.body])).toEqual([[id, 'wake up']]);
    expect(ok(repo, ['show', id, '--json']).json.recipients[0].status).toBe('read');
    expect(ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'codex').live).toBe(false);
  });

  it('wait, read and read --all under --json say read for what they mark; wait --peek and inbox leave it unread', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const send = (body: string) => ok(repo, ['send', 'codex', body, '--json'], { agent: 'claude' }).json.message.id;
    const statusOf = (id: string) => ok(repo, ['show', id, '--json']).json.recipients[0].status;
    const a = send('first');
    const peeked = ok(repo, ['wait', '--peek', '--timeout', '5', '--json'], { agent: 'codex' }).json.messages;
    expect(peeked.map((m: any) => [m.id, m.status])).toEqual([[a, 'stored']]);
    expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages[0].status).toBe('stored');
    const waited = ok(repo, ['wait', '--timeout', '5', '--json'], { agent: 'codex' }).json.messages;
    expect(waited.map((m: any) => [m.id, m.status])).toEqual([[a, 'read']]);
    expect(statusOf(a)).toBe('read');
    const b = send('second');
    const c = send('third');
    const all = ok(repo, ['read', '--all', '--json'], { agent: 'codex' }).json.messages;
    expect(all.map((m: any) => [m.id, m.status])).toEqual([
      [b, 'read'],
      [c, 'read'],
    ]);
    expect([statusOf(b), statusOf(c)]).toEqual(['read', 'read']);
    const d = send('fourth');
    expect(ok(repo, ['read', d, '--json'], { agent: 'codex' }).json.messages[0].status).toBe('read');
    ok(repo, ['ack', d], { agent: 'codex' });
    // Read again once acknowledged: it stays acked.
    expect(ok(repo, ['read', d, '--json'], { agent: 'codex' }).json.messages[0].status).toBe('acked');
  });

  it("a reply marks the message it answers read (before a --wait-for ends); a reply to one's own message marks nothing", () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['join'], { agent: 'claude' });
    const statusOf = (id: string, agent: string) =>
      ok(repo, ['show', id, '--json']).json.recipients.find((r: any) => r.agent === agent).status;
    const a = ok(repo, ['send', 'codex', 'fix the parser', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['reply', a, 'on it'], { agent: 'codex' });
    expect(statusOf(a, 'codex')).toBe('read');
    expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages).toEqual([]);
    const b = ok(repo, ['send', 'codex', 'and the lexer', '--json'], { agent: 'claude' }).json.message.id;
    const waited = cli(repo, ['reply', b, 'which one?', '--wait-for', 'reply', '--timeout', '1'], { agent: 'codex' });
    expect(waited.status).toBe(5);
    expect(statusOf(b, 'codex')).toBe('read');
    // claude answers its own message: the recipient's status is untouched.
    const c = ok(repo, ['send', 'codex', 'one more', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['reply', c, 'never mind'], { agent: 'claude' });
    expect(statusOf(c, 'codex')).toBe('stored');
  });

  it('wait and read mark read only what reached the reader: a closed pipe leaves the messages unread', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const id = ok(repo, ['send', 'codex', 'for a reader that left', '--json'], { agent: 'claude' }).json.message.id;
    const status = () => ok(repo, ['show', id, '--json']).json.recipients[0].status;
    // The reader closes its end at once and stays: the write fails (EPIPE), the command ends quietly.
    const gone = (args: string) =>
      spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" ${args} | (exec 0<&-; sleep 1)`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
    for (const args of ['wait --timeout 5', 'wait --timeout 5 --json', 'read --all', `read ${id}`]) {
      const r = gone(args);
      expect(r.stderr, args).toBe('');
      expect(status(), args).toBe('stored');
    }
    expect(ok(repo, ['inbox', '--json'], { agent: 'claude' }).json.messages).toEqual([]); // no receipt
    // A reader that takes it: read, and the sender has the receipt.
    const got = ok(repo, ['wait', '--timeout', '5', '--json'], { agent: 'codex' }).json;
    expect(got.messages.map((m: any) => m.id)).toEqual([id]);
    expect(status()).toBe('read');
    const read = ok(repo, ['read', id, '--json'], { agent: 'codex' }).json;
    expect(read.marked).toEqual([]);
  });

  it('a failure under --json keeps its exit code when the reader has closed the pipe', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['claim', 'deploy'], { agent: 'claude' });
    // The error object is written into a pipe whose reader is gone (EPIPE): the status is still the error's.
    const gone = (args: string) =>
      spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" ${args} | (exec 0<&-; sleep 0.2)`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
    for (const [args, code] of [
      ['show ZZZZZZZ --json', 3],
      ['claim deploy --json', 4],
      ['wait --timeout 1 --json', 5],
      ['no-such-command --json', 2],
      ['inbox --no-such-flag --json', 2],
      ['show ZZZZZZZ', 3],
    ] as const) {
      const r = gone(args);
      expect(r.status, args).toBe(code);
      expect(r.stderr, args).not.toMatch(/EPIPE|at .*\.js/);
    }
  });

  it('wait and send --wait-for exit 5 when time runs out', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const w = cli(repo, ['wait', '--timeout', '1', '--json'], { agent: 'codex' });
    expect(w.status).toBe(5);
    expect(w.json.error.code).toBe('timeout');
    const s = cli(repo, ['send', 'codex', 'read me', '--wait-for', 'read', '--timeout', '1', '--json'], {
      agent: 'claude',
    });
    expect(s.status).toBe(5);
    expect(s.json.error.message).toMatch(/was sent, but was not read/);
    // The message itself was sent and is in the inbox.
    expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.map((m: any) => m.body)).toEqual([
      'read me',
    ]);
  });

  it('send --wait-for reply returns the reply', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const asking = cliAsync(
      repo,
      ['send', 'codex', 'which port?', '--kind', 'question', '--wait-for', 'reply', '--timeout', '30', '--json'],
      { agent: 'claude' },
    );
    let id: string | undefined;
    await until(() => (id = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages[0]?.id) !== undefined);
    ok(repo, ['reply', id!, '8080'], { agent: 'codex' });
    const r = await asking.done;
    expect(r.status).toBe(0);
    expect(r.json.waited.reply).toMatchObject({ body: '8080', from: 'codex', replyTo: id, kind: 'answer' });
  });

  it('send and reply --wait-for say the id as soon as it is sent: a wait stopped early leaves the id to retry with', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    for (const args of [
      ['send', 'codex', 'are the tests green?', '--wait-for', 'reply', '--timeout', '600', '--json'],
      ['send', 'codex', 'and the docs?', '--wait-for', 'read', '--timeout', '600'],
    ]) {
      const before = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.length;
      const asking = cliAsync(repo, args, { agent: 'claude' });
      await until(() => ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.length > before);
      // Stopped, as an agent's shell tool stops a command it finds too slow.
      asking.kill('SIGTERM');
      const r = await asking.done;
      expect(r.status).not.toBe(0);
      const sent = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.at(-1).id as string;
      expect(r.stderr).toContain(`handoff: sent ${sent}; waiting (stopping the wait leaves it sent)`);
      // Retried with that id: not sent twice.
      const again = ok(repo, ['send', 'codex', args[2]!, '--id', sent, '--json'], { agent: 'claude' }).json;
      expect(again.alreadySent).toBe(true);
    }
    // A reply that waits says its id the same way.
    const q = ok(repo, ['send', 'claude', 'which port?', '--json'], { agent: 'codex' }).json.message.id as string;
    const replying = cliAsync(repo, ['reply', q, '8080', '--wait-for', 'read', '--timeout', '600'], {
      agent: 'claude',
    });
    await until(() =>
      ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.some((m: any) => m.replyTo === q),
    );
    replying.kill('SIGTERM');
    expect((await replying.done).stderr).toMatch(/handoff: sent [0-9A-Z]{26}; waiting/);
  });

  it('inbox with a filter says what it left out; status -m with the note it has writes nothing', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'newbie' });
    ok(repo, ['send', 'newbie', 'do this', '--json'], { agent: 'lead' });
    ok(repo, ['send', 'newbie', 'fyi', '--kind', 'status'], { agent: 'lead' });
    expect(ok(repo, ['inbox', '--kind', 'note'], { agent: 'newbie' }).stdout.trim()).toBe(
      'No unread messages of kind note for newbie. 2 unread in all.',
    );
    const some = ok(repo, ['inbox', '--kind', 'request'], { agent: 'newbie' }).stdout;
    expect(some).toContain('do this');
    expect(some.trim().split('\n').at(-1)).toBe('2 unread in all. Read one with: handoff read <id>');
    expect(ok(repo, ['inbox', '--kind', 'note', '--json'], { agent: 'newbie' }).json).toMatchObject({
      unread: 2,
      messages: [],
    });
    const events = () => chainEvents(repo).length;
    expect(ok(repo, ['status', '-m', 'on the parser', '--json'], { agent: 'newbie' }).json.changed).toBe(true);
    const after = events();
    expect(ok(repo, ['status', '-m', 'on the parser', '--json'], { agent: 'newbie' }).json.changed).toBe(false);
    ok(repo, ['status', '--clear'], { agent: 'newbie' });
    ok(repo, ['status', '--clear'], { agent: 'newbie' });
    expect(events()).toBe(after + 1);
  });

  it('whoami says how the identity was found', () => {
    const repo = makeRepo();
    expect(ok(repo, ['whoami', '--json'], { agent: 'codex' }).json).toMatchObject({ name: 'codex', via: 'env' });
    expect(ok(repo, ['whoami', '--as', 'gemini', '--json']).json).toMatchObject({ name: 'gemini', via: 'flag' });
    expect(ok(repo, ['whoami', '--json'], { env: { CLAUDECODE: '1' } }).json).toMatchObject({
      name: 'claude',
      runtime: 'claude',
      via: 'runtime',
    });
    expect(ok(repo, ['whoami', '--json']).json).toMatchObject({ name: 'test-human', via: 'git-user' });
    const conflict = cli(repo, ['whoami', '--as', 'other', '--json'], { agent: 'codex' });
    expect(conflict.status).toBe(2);
    expect(conflict.json.error.code).toBe('identity_conflict');
    // Events record the name and how it was found.
    ok(repo, ['join'], { agent: 'codex', env: { GEMINI_CLI: '1' } });
    const ev = chainEvents(repo)[0]!.event;
    expect(ev.author).toEqual({ name: 'codex', runtime: 'gemini', via: 'env' });
  });

  it('keeps the SQLite ledger in the git common dir with mode 0600', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'a' });
    const db = path.join(commonDir(repo), 'handoff', 'ledger.db');
    expect(fs.statSync(db).mode & 0o777).toBe(0o600);
    // Never tracked: git status stays clean.
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});

/** Polls `cond` (a test-side helper, not product code) until it holds or 20 s pass. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
