import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { closeContext, openContext } from '../../src/ops/context';
import { send } from '../../src/ops/send';
import { join } from '../../src/ops/agents';
import { COMMAND_DEFS } from '../../src/commands/index';
import { BIN, cleanEnv, cli, cliAsync, git, makeRepo, ok } from '../helpers/repo';

/** A repository with `n` threads between lead and codex, written in-process (fast). */
async function busyRepo(n: number): Promise<string> {
  const repo = makeRepo();
  const lead = openContext({ cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'lead' }), warn: () => {} });
  join(openContext({ cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }), warn: () => {} }), {});
  for (let i = 0; i < n; i++)
    await send(lead, { to: 'codex', body: `task ${i}: ${'x'.repeat(60)}\nsecond line of task ${i}` });
  closeContext(lead);
  return repo;
}

/** Runs `handoff <args> | head -n 1` through a shell and returns what the shell saw. */
function piped(repo: string, args: string, agent = 'codex') {
  return spawnSync(
    'sh',
    ['-c', `"${process.execPath}" "${BIN}" ${args} | head -n 1; echo "status=\${PIPESTATUS:-x}"`],
    {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: agent }),
      encoding: 'utf8',
    },
  );
}

describe('output into a closed pipe', () => {
  it('threads, inbox --all, thread, show, replay and log end quietly when head stops reading', async () => {
    const repo = await busyRepo(1500);
    const first = ok(repo, ['threads', '--json']).json.threads[0].thread;
    const big = ok(repo, ['send', 'codex', '--file', '-', '--json'], {
      agent: 'lead',
      input: Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n'),
    }).json.message.id;
    for (const args of [
      'threads',
      'inbox --all',
      `thread ${first}`,
      `show ${big}`,
      'replay --no-pager',
      'replay --html /dev/stdout',
      'log',
      'agents',
    ]) {
      const r = piped(repo, args);
      expect(r.stderr, args).toBe('');
      expect(r.stdout.split('\n')[0]!.length, args).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('replay --html to standard output', () => {
  it('writes the page through stdout as it is: into a file, appended to one, or with -', () => {
    const repo = makeRepo();
    ok(repo, ['send', 'codex', 'hello', '--create'], { agent: 'lead' });
    const sh = (cmd: string) =>
      spawnSync('sh', ['-c', cmd], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }), encoding: 'utf8' });
    const run = `"${process.execPath}" "${BIN}" replay`;
    expect(sh(`${run} --html /dev/stdout > page.html`).status).toBe(0);
    const page = fs.readFileSync(path.join(repo, 'page.html'), 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toContain('wrote ');
    fs.writeFileSync(path.join(repo, 'app.log'), 'IMPORTANT\n');
    expect(sh(`${run} --html - >> app.log`).status).toBe(0);
    const log = fs.readFileSync(path.join(repo, 'app.log'), 'utf8');
    expect(log.startsWith('IMPORTANT\n<!doctype html>')).toBe(true);
    expect(cli(repo, ['replay', '--html', '-', '--json']).json.error.code).toBe('conflicting_flags');
  });
});

describe('--limit 0 lists everything, as inbox does', () => {
  it('threads -n 0 and log -n 0 list all; -n 2 lists two', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    for (let i = 0; i < 3; i++) ok(repo, ['send', 'codex', `task ${i}`], { agent: 'lead' });
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(path.join(repo, 'f.txt'), `v${i}\n`);
      const c = spawnSync('git', ['commit', '-qam', `c${i}`], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'codex' }) });
      expect(c.status).toBe(0);
    }
    expect(ok(repo, ['threads', '-n', '0', '--json']).json.threads).toHaveLength(3);
    expect(ok(repo, ['threads', '-n', '2', '--json']).json.threads).toHaveLength(2);
    const commits = Number(spawnSync('git', ['rev-list', '--count', 'HEAD'], { cwd: repo, encoding: 'utf8' }).stdout);
    expect(ok(repo, ['log', '-n', '0', '--json']).json.commits).toHaveLength(commits);
    expect(ok(repo, ['log', '-n', '2', '--json']).json.commits).toHaveLength(2);
  });
});

describe('output into a non-blocking pipe', () => {
  it('arrives whole and in order when the pipe fills (write(2) refused with EAGAIN)', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const body = Array.from({ length: 30000 }, (_, i) => `line ${i}`).join('\n');
    const id = ok(repo, ['send', 'codex', '--file', '-', '--json'], { agent: 'lead', input: body }).json.message.id;
    const direct = ok(repo, ['show', id, '--json']).stdout;
    expect(direct.length).toBeGreaterThan(200_000);
    // Making process.stdout for a pipe sets O_NONBLOCK on it, as another process sharing the pipe may have
    // done: preloaded, this happens before handoff's own code runs.
    const preload = path.join(repo, '.git', 'nonblocking.js');
    fs.writeFileSync(preload, 'process.stdout;\n');
    const child = spawn(process.execPath, ['-r', preload, BIN, 'show', id, '--json'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Nothing is read for a while: the pipe (64 KiB) fills long before the 200 KB are written.
    child.stdout.pause();
    await new Promise((r) => setTimeout(r, 700));
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(Buffer.concat(out).toString('utf8')).toBe(direct);
  }, 60_000);
});

describe('ids a command prints are accepted by every other command', () => {
  it('short ids from inbox, threads, log and blame go back into show, read, reply, review and work-on', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    // Ids made within the same millisecond share all but their last characters.
    const ids = [0, 1, 2].map(
      (i) => ok(repo, ['send', 'codex', `task ${i}`, '--json'], { agent: 'lead' }).json.message,
    );
    for (const m of ids) {
      expect(m.shortId).toHaveLength(7);
      expect(m.id.endsWith(m.shortId)).toBe(true);
    }
    const inboxLine = ok(repo, ['inbox'], { agent: 'codex' })
      .stdout.split('\n')
      .find((l) => l.includes('task 1'))!;
    const shown = /\b([0-9A-HJKMNP-TV-Z]{7,})\b/.exec(inboxLine)![1]!;
    expect(shown).toBe(ids[1].shortId);
    expect(ok(repo, ['show', shown, '--json']).json.message.id).toBe(ids[1].id);
    expect(ok(repo, ['show', shown.toLowerCase(), '--json']).json.message.id).toBe(ids[1].id);
    ok(repo, ['read', shown], { agent: 'codex' });
    const threadsLine = ok(repo, ['threads'])
      .stdout.split('\n')
      .find((l) => l.includes('task 2'))!;
    const fromThreads = /\b([0-9A-HJKMNP-TV-Z]{7,})\b/.exec(threadsLine)![1]!;
    expect(ok(repo, ['thread', fromThreads, '--json']).json.messages[0].id).toBe(ids[2].id);
    fs.writeFileSync(path.join(repo, 'f.txt'), 'b\n');
    ok(repo, ['reply', shown, 'done', '--attach-diff'], { agent: 'codex' });
    const c = spawnSync('git', ['commit', '-qam', 'b'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(c.status).toBe(0);
    const blameLine = ok(repo, ['blame', 'f.txt']).stdout;
    const fromBlame = /\b([0-9A-HJKMNP-TV-Z]{7,})\b/.exec(blameLine.slice(9))![1]!;
    expect(ok(repo, ['show', fromBlame, '--json']).json.message.id).toBe(ids[1].id);
    const fromLog = /<- ([0-9A-HJKMNP-TV-Z]{7,})/.exec(ok(repo, ['log']).stdout)![1]!;
    expect(fromLog).toBe(fromBlame);
    ok(repo, ['work-on', fromLog], { agent: 'codex' });
    // The prefix the old advice mentioned still works when unique; an ambiguous one lists what it matches.
    const common = (a: string, b: string) =>
      a.slice(
        0,
        [...a].findIndex((ch, i) => ch !== b[i]),
      );
    const prefix = common(ids[0].id, ids[1].id);
    expect(prefix.length).toBeGreaterThanOrEqual(6); // made within the same few seconds
    const amb = cli(repo, ['show', prefix, '--json']);
    expect(amb.status).toBe(2);
    expect(amb.json.error.code).toBe('ambiguous_id');
    expect(amb.json.error.message).toContain('task 0');
    expect(amb.json.error.message).toContain('task 1');
  });

  it('where two ids share their last seven characters, every listing prints them longer, and show takes what it prints', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const a = ok(
      repo,
      ['send', 'codex', 'first task', '--kind', 'request', '--id', '01M92C0000000000000ABCDEFG', '--json'],
      {
        agent: 'lead',
      },
    ).json.message.id;
    const b = ok(
      repo,
      ['send', 'codex', 'second task', '--kind', 'request', '--id', '01M92C1111111111111ABCDEFG', '--json'],
      {
        agent: 'lead',
      },
    ).json.message.id;
    ok(repo, ['claim', b], { agent: 'codex' });
    const idIn = (out: string, subject: string) => {
      const line = out.split('\n').find((l) => l.includes(subject))!;
      return /\b([0-9A-HJKMNP-TV-Z]{7,})\b/.exec(line)![1]!;
    };
    const listings: [string, string[], string, string][] = [
      ['inbox', ['inbox'], 'first task', a],
      ['tasks', ['tasks'], 'first task', a],
      ['tasks', ['tasks'], 'second task', b],
      ['search', ['search', 'first'], 'first task', a],
      ['search', ['search', 'second'], 'second task', b],
      ['claims', ['claims'], 'second task', b],
    ];
    for (const [, args, subject, id] of listings) {
      const shown = idIn(ok(repo, args, { agent: 'codex' }).stdout, subject);
      expect(shown.length).toBeGreaterThan(7);
      expect(id.endsWith(shown)).toBe(true);
      expect(ok(repo, ['show', shown, '--json']).json.message.id).toBe(id);
    }
  });
});

describe('send --wait-for', () => {
  it('ends cleanly, with nothing on stderr but the id it sent, when the reply arrives (8 runs)', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    for (let i = 0; i < 8; i++) {
      const waiting = cliAsync(repo, ['send', 'codex', `q${i}`, '--wait-for', 'read', '--timeout', '30', '--json'], {
        agent: 'lead',
      });
      let id: string | undefined;
      for (let k = 0; k < 200 && !id; k++) {
        id = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages[0]?.id;
        if (!id) await new Promise((r) => setTimeout(r, 50));
      }
      ok(repo, ['read', id!], { agent: 'codex' });
      const r = await waiting.done;
      expect(r.status).toBe(0);
      expect(r.stderr).toBe(`handoff: sent ${id}; waiting (stopping the wait leaves it sent)\n`);
      expect(r.json.waited.for).toBe('read');
    }
  }, 120_000);
});

describe('--json everywhere, one shape', () => {
  const ids = Object.keys(COMMAND_DEFS).map((id) => id.split(':'));

  it('an unknown command gets a "did you mean" and, under --json, the error object', () => {
    const repo = makeRepo();
    const r = cli(repo, ['inbx']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/'inbx' is not a handoff command\. Did you mean 'handoff inbox'\?/);
    const j = cli(repo, ['rply', 'x', '--json']);
    expect(j.status).toBe(2);
    expect(j.json.error).toMatchObject({ code: 'unknown_command', exitCode: 2, details: { suggestions: ['reply'] } });
    expect(cli(repo, ['hooks', 'instal']).stderr).toMatch(/Did you mean 'handoff hooks install'/);
    const topic = cli(repo, ['hooks', '--json']);
    expect(topic.status).toBe(2);
    expect(topic.json.error).toMatchObject({
      code: 'missing_subcommand',
      details: { subcommands: ['install', 'run', 'status', 'uninstall'] },
    });
  });

  it('every command answers a bad flag under --json with {"error": ...} and exit 2', () => {
    const repo = makeRepo();
    for (const id of ids) {
      const r = cli(repo, [...id, '--no-such-flag', '--json']);
      expect(r.status, id.join(' ')).toBe(2);
      expect(r.json?.error?.code, `${id.join(' ')}: ${r.stdout}${r.stderr}`).toBe('usage');
      expect(r.json.error.message).toMatch(/--no-such-flag/);
    }
    // A bad option value and a missing argument too.
    expect(cli(repo, ['inbox', '--kind', 'nope', '--json']).json.error.message).toMatch(/--kind=nope/);
    expect(cli(repo, ['show', '--json']).json.error.message).toMatch(/Missing 1 required arg/);
  });

  it('list outputs are objects that name their list', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['send', 'codex', 'hi'], { agent: 'lead' });
    for (const [args, key] of [
      [['agents'], 'agents'],
      [['threads'], 'threads'],
      [['log'], 'commits'],
      [['inbox'], 'messages'],
      [['replay'], 'items'],
      [['review', '--list'], 'reviews'],
    ] as const) {
      const r = ok(repo, [...args, '--json'], { agent: 'codex' });
      expect(Array.isArray(r.json), args.join(' ')).toBe(false);
      expect(Array.isArray(r.json[key]), args.join(' ')).toBe(true);
    }
  });
});

describe('wait on a terminal', () => {
  it('says on stderr what it waits for when stderr is a terminal, and nothing when it is not', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const piped = cli(repo, ['wait', '--timeout', '1', '--from', 'lead'], { agent: 'codex' });
    expect(piped.status).toBe(5);
    expect(piped.stderr).not.toMatch(/waiting for/);
    if (spawnSync('script', ['--version']).status !== 0) {
      console.warn('Skipping the terminal part: script(1) from util-linux is not installed.');
      return;
    }
    const onTerminal = () =>
      spawnSync('script', ['-qc', `"${process.execPath}" "${BIN}" wait --timeout 1 --from lead`, '/dev/null'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
    const tty = onTerminal();
    expect(tty.stdout).toContain(
      'handoff: waiting for a message to codex from lead (who has not joined yet) (up to 1s); Ctrl-C stops',
    );
    ok(repo, ['join'], { agent: 'lead' });
    const known = onTerminal();
    expect(known.stdout).toContain('handoff: waiting for a message to codex from lead (up to 1s); Ctrl-C stops');
  });

  it('a pager that quits early ends the output; one that cannot start leaves it on the terminal', () => {
    if (spawnSync('script', ['--version']).status !== 0) {
      console.warn('Skipping: script(1) from util-linux is not installed.');
      return;
    }
    const repo = makeRepo();
    // Large enough that the pager quits before reading it all (a pipe holds 64 KB).
    fs.writeFileSync(
      path.join(repo, 'big.ts'),
      Array.from({ length: 2500 }, (_, i) => `export const item_${i} = ${i};\n`).join(''),
    );
    git(repo, 'add', 'big.ts');
    git(repo, 'commit', '-qm', 'big');
    const onTerminal = (pager: string) =>
      spawnSync('script', ['-qec', `"${process.execPath}" "${BIN}" blame big.ts`, '/dev/null'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex', HANDOFF_PAGER: pager, COLUMNS: '200', LINES: '40' }),
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
    const quit = onTerminal('head -3');
    expect(quit.status).toBe(0);
    expect(quit.stdout.trim().split('\n')).toHaveLength(3);
    const missing = onTerminal('no-such-pager-for-handoff');
    expect(missing.stdout).toContain('export const item_2499 = 2499;');
  });
});
