/**
 * Coordination through the built CLI, with real git and SQLite: claims that exactly one agent wins (in one
 * clone, across clones after sync, and at once through a remote), reclaims of dead holders, task outcomes,
 * file reservations checked by the pre-commit hook, status notes, and full-text search.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import {
  BIN,
  addWorktree,
  chainEvents,
  cleanEnv,
  cli,
  cliAsync,
  commonDir,
  git,
  makeRepo,
  ok,
  tmpDir,
} from '../helpers/repo';
import { team } from '../helpers/clones';

/** A long-lived stand-in for an agent's process. */
function agentProcess(): { pid: number; kill: () => void } {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

describe('claims in one clone', () => {
  it('a claim made from a script (no agent among its parents) holds by its lease, not by the shell that ran it', () => {
    const repo = makeRepo();
    const viaShell = (agent: string) =>
      spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" claim build; true`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: agent }),
        encoding: 'utf8',
      });
    const first = viaShell('a');
    expect(first.stdout).toMatch(/^a claimed build until /);
    expect(first.stderr).toContain('no agent process found to tie the claim to');
    // The shell is gone: the claim still holds, for its lease.
    const second = cli(repo, ['claim', 'build', '--json'], { agent: 'b' });
    expect(second.status).toBe(4);
    expect(second.json.error.details.holder).toMatchObject({ agent: 'a', pid: null, liveness: 'unknown' });
    expect(ok(repo, ['claims', '--json']).json.claims.map((c: any) => [c.key, c.holder.agent])).toEqual([
      ['build', 'a'],
    ]);
    ok(repo, ['release', 'build'], { agent: 'a' });
    expect(ok(repo, ['claim', 'build', '--json'], { agent: 'b' }).json.action).toBe('claimed');
  });

  it('16 processes claim one key at once: exactly one wins, 15 exit 4 naming the holder; 10 rounds', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'a0' });
    const holder = agentProcess();
    try {
      for (let round = 0; round < 10; round++) {
        const key = `task-${round}`;
        const runs = Array.from({ length: 16 }, (_, i) =>
          cliAsync(repo, ['claim', key, '--pid', String(holder.pid), '--json'], { agent: `a${i}` }),
        );
        const results = await Promise.all(runs.map((r) => r.done));
        const winners = results.filter((r) => r.status === 0);
        const losers = results.filter((r) => r.status === 4);
        expect([round, winners.length, losers.length]).toEqual([round, 1, 15]);
        const winner = winners[0]!.json.agent as string;
        for (const l of losers) {
          expect(l.json.error.code).toBe('claim_held');
          expect(l.json.error.details.holder.agent).toBe(winner);
        }
        // Every clone-local view agrees on the one holder.
        const listed = ok(repo, ['claims', '--json']).json.claims.find((c: { key: string }) => c.key === key);
        expect(listed.holder.agent).toBe(winner);
      }
    } finally {
      holder.kill();
    }
  });

  it('a runtime that runs as node (Gemini CLI, npm installs) holds the claims its shell commands make', async () => {
    const repo = makeRepo();
    // A runtime like Gemini CLI: `node <bin>/gemini`, running each command through a shell that then exits.
    const bin = path.join(tmpDir('handoff-rt-'), 'gemini');
    fs.writeFileSync(
      bin,
      `const { spawnSync } = require('child_process');
const r = spawnSync('bash', ['-c', '{ "$0" "$1" claim "$2"; }; code=$?; exit $code', process.execPath, ${JSON.stringify(BIN)}, 'gemini-task'], { stdio: 'inherit' });
process.stdout.write('exit=' + r.status + '\\n');
setTimeout(() => {}, 600000);`,
    );
    const runtime = spawn(process.execPath, [bin], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'gemini' }) });
    try {
      let out = '';
      runtime.stdout.on('data', (d) => (out += d));
      const deadline = Date.now() + 20_000;
      while (!out.includes('exit=') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('exit=0');
      const claim = ok(repo, ['claims', '--json']).json.claims.find((c: any) => c.key === 'gemini-task');
      expect(claim.holder).toMatchObject({ agent: 'gemini', liveness: 'live', pid: runtime.pid });
      expect(cli(repo, ['claim', 'gemini-task', '--json'], { agent: 'codex' }).status).toBe(4);
    } finally {
      runtime.kill('SIGKILL');
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(ok(repo, ['claim', 'gemini-task', '--json'], { agent: 'codex' }).json.action).toBe('reclaimed');
  });

  it('an agent that holds a key again is not told of its earlier loss', async () => {
    const repo = makeRepo();
    const a1 = agentProcess();
    ok(repo, ['claim', 'deploy', '--pid', String(a1.pid)], { agent: 'alice' });
    a1.kill();
    const b1 = agentProcess();
    await new Promise((r) => setTimeout(r, 200));
    expect(ok(repo, ['claim', 'deploy', '--pid', String(b1.pid), '--json'], { agent: 'bob' }).json.action).toBe(
      'reclaimed',
    );
    b1.kill();
    await new Promise((r) => setTimeout(r, 200));
    const a2 = agentProcess();
    try {
      expect(ok(repo, ['claim', 'deploy', '--pid', String(a2.pid), '--json'], { agent: 'alice' }).json.action).toBe(
        'reclaimed',
      );
      expect(ok(repo, ['inbox', '--json'], { agent: 'alice' }).json.notices).toEqual([]);
      // bob lost it and does not hold it: told once.
      const told = ok(repo, ['inbox', '--json'], { agent: 'bob' }).json.notices;
      expect(told).toEqual([expect.stringMatching(/your claim of deploy was taken over by alice/)]);
    } finally {
      a2.kill();
    }
  });

  it('a holder killed with kill -9 is taken over and told; a reused pid does not keep a claim alive', async () => {
    const repo = makeRepo();
    const first = agentProcess();
    ok(repo, ['claim', 'deploy', '--pid', String(first.pid)], { agent: 'alice' });
    const held = cli(repo, ['claim', 'deploy', '--json'], { agent: 'bob' });
    expect(held.status).toBe(4);
    expect(held.json.error.details.holder).toMatchObject({ agent: 'alice', liveness: 'live', pid: first.pid });
    first.kill();
    await new Promise((r) => setTimeout(r, 200));
    const taken = ok(repo, ['claim', 'deploy', '--json'], { agent: 'bob' }).json;
    expect(taken).toMatchObject({ action: 'reclaimed', agent: 'bob', reclaimed: { from: 'alice', reason: 'gone' } });
    // The reclaim is an event on the chain (it syncs and replays), and alice hears of it once.
    const events = git(
      repo,
      'log',
      '--format=%s',
      'refs/handoff/chains/' + fs.readFileSync(path.join(commonDir(repo), 'handoff', 'clone-id'), 'utf8').trim(),
    );
    expect(events).toContain('claim reclaim deploy by bob from alice');
    const notices = ok(repo, ['inbox', '--json'], { agent: 'alice' }).json.notices as string[];
    expect(notices.filter((n) => n.includes('deploy') && n.includes('taken over by bob'))).toHaveLength(1);
    expect(ok(repo, ['inbox', '--json'], { agent: 'alice' }).json.notices).toEqual([]);
    // Once is once: a rebuild keeps what each agent was told.
    ok(repo, ['rebuild']);
    expect(ok(repo, ['inbox', '--json'], { agent: 'alice' }).json.notices).toEqual([]);

    // PID reuse: the holder's pid runs, but it is another process (its start time differs).
    const live = agentProcess();
    try {
      ok(repo, ['claim', 'review', '--pid', String(live.pid)], { agent: 'carol' });
      expect(cli(repo, ['claim', 'review'], { agent: 'dave' }).status).toBe(4);
      const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
      db.prepare("UPDATE claim_events SET proc_start = 'another-process' WHERE key = 'review'").run();
      db.close();
      expect(
        ok(repo, ['claims', '--all', '--json']).json.claims.find((c: { key: string }) => c.key === 'review').holder
          .liveness,
      ).toBe('gone');
      const r = ok(repo, ['claim', 'review', '--json'], { agent: 'dave' }).json;
      expect(r).toMatchObject({ action: 'reclaimed', reclaimed: { from: 'carol', reason: 'gone' } });
    } finally {
      live.kill();
    }
  });

  it('an expired lease is taken over; the holder renews by claiming again; release frees the key', () => {
    const repo = makeRepo();
    const p = agentProcess();
    try {
      ok(repo, ['claim', 'docs', '--ttl', '1', '--pid', String(p.pid)], { agent: 'alice' });
      expect(
        ok(repo, ['claim', 'docs', '--ttl', '60', '--pid', String(p.pid), '--json'], { agent: 'alice' }).json.action,
      ).toBe('renewed');
      // A clock 2 minutes ahead sees the 60 s lease run out.
      const later = ok(repo, ['claim', 'docs', '--json'], {
        agent: 'bob',
        env: { HANDOFF_CLOCK_OFFSET_MS: '120000' },
      }).json;
      expect(later).toMatchObject({ action: 'reclaimed', reclaimed: { from: 'alice', reason: 'expired' } });
      expect(cli(repo, ['release', 'docs', '--json'], { agent: 'alice' }).json.error.code).toBe('claim_held');
      expect(ok(repo, ['release', 'docs', '--json'], { agent: 'bob' }).json.released).toBe(true);
      expect(ok(repo, ['claims', '--json']).json.claims).toEqual([]);
      expect(cli(repo, ['release', 'docs', '--json'], { agent: 'bob' }).json.error.code).toBe('not_claimed');
    } finally {
      p.kill();
    }
  });

  it('done and three claims of one request at once: no claim stands once it is done, 10 rounds', async () => {
    const repo = makeRepo();
    for (const a of ['xa', 'x1', 'x2', 'x3']) ok(repo, ['join'], { agent: a });
    const ids: string[] = [];
    const codes: number[] = [];
    for (let round = 0; round < 10; round++) {
      const id = ok(repo, ['send', 'xa,x1,x2,x3', `task ${round}`, '--json'], { agent: 'boss' }).json.message.id;
      ids.push(id);
      const done = cliAsync(repo, ['done', id, '-m', 'finished'], { agent: 'xa' });
      const claims = await Promise.all(
        ['x1', 'x2', 'x3'].map(
          (a, i) =>
            new Promise<Awaited<ReturnType<typeof cliAsync>['done']>>((resolve) =>
              setTimeout(() => resolve(cliAsync(repo, ['claim', id, '--json'], { agent: a }).done), 30 * (i + 1)),
            ),
        ),
      );
      expect((await done.done).status).toBe(0);
      for (const c of claims) {
        codes.push(c.status);
        if (c.status !== 0) expect(['task_done', 'claim_held']).toContain(c.json.error.code);
      }
    }
    // A claim either came before the done (and is over with it) or was refused: none stands.
    const standing = ok(repo, ['claims', '--json']).json.claims.map((c: any) => c.key);
    expect(standing.filter((k: string) => ids.includes(k))).toEqual([]);
    const tasks = ok(repo, ['tasks', '--json'], { agent: 'boss' }).json.tasks;
    expect(ids.map((id) => tasks.find((t: any) => t.id === id)?.state)).toEqual(ids.map(() => 'done'));
    expect(codes.every((c) => c === 0 || c === 4)).toBe(true);
  });

  it('claim --wait takes the key once the holder releases it', async () => {
    const repo = makeRepo();
    const p = agentProcess();
    try {
      ok(repo, ['claim', 'merge', '--pid', String(p.pid)], { agent: 'alice' });
      const waiting = cliAsync(
        repo,
        ['claim', 'merge', '--wait', '--timeout', '20', '--pid', String(p.pid), '--json'],
        { agent: 'bob' },
      );
      await new Promise((r) => setTimeout(r, 1200));
      ok(repo, ['release', 'merge'], { agent: 'alice' });
      const r = await waiting.done;
      expect([r.status, r.json?.agent, r.json?.action]).toEqual([0, 'bob', 'claimed']);
      const timedOut = cli(repo, ['claim', 'merge', '--wait', '--timeout', '1', '--json'], { agent: 'carol' });
      expect([timedOut.status, timedOut.json.error.code]).toEqual([5, 'timeout']);
    } finally {
      p.kill();
    }
  });

  it('claim --wait on a request that is done meanwhile ends at once with task_done; done reads evidence piped to it', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const id = ok(repo, ['send', 'codex', 'parse dates', '--json'], { agent: 'claude' }).json.message.shortId as string;
    const p = agentProcess();
    try {
      ok(repo, ['claim', id, '--pid', String(p.pid)], { agent: 'codex' });
      const started = Date.now();
      const waiting = cliAsync(repo, ['claim', id, '--wait', '--timeout', '60', '--json'], { agent: 'claude' });
      await new Promise((r) => setTimeout(r, 1200));
      // The evidence comes on stdin, as from `npm test | handoff done <id>`.
      ok(repo, ['done', id], { agent: 'codex', input: '12 passed\n' });
      const r = await waiting.done;
      expect([r.status, r.json?.error?.code]).toEqual([4, 'task_done']);
      expect(Date.now() - started).toBeLessThan(30_000);
      const outcome = ok(repo, ['thread', id, '--json']).json.messages.at(-1);
      expect([outcome.kind, outcome.body]).toEqual(['status', '12 passed\n']);
      // Done again: recorded, and said.
      expect(ok(repo, ['done', id, '-m', 'and the docs'], { agent: 'codex' }).stderr).toMatch(
        /was already recorded done by codex at .*; this outcome is recorded too, and told again\./,
      );
    } finally {
      p.kill();
    }
  });
});

describe('an outcome recorded by a recipient', () => {
  it('done, block and fail read the request: it leaves the inbox, wait and the Stop hook no longer hand it out, the sender sees it read', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const ids = ['do x', 'do y', 'do z'].map(
      (b) => ok(repo, ['send', 'codex', b, '--json'], { agent: 'claude' }).json.message.id as string,
    );
    ok(repo, ['claim', ids[0]!.slice(-7)], { agent: 'codex' });
    ok(repo, ['done', ids[0]!.slice(-7), '-m', 'x done'], { agent: 'codex' });
    ok(repo, ['block', ids[1]!, '-m', 'needs a key'], { agent: 'codex' });
    ok(repo, ['fail', ids[2]!, '-m', 'cannot'], { agent: 'codex' });
    const inbox = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json;
    expect([inbox.unread, inbox.messages]).toEqual([0, []]);
    expect(cli(repo, ['wait', '--timeout', '0', '--json'], { agent: 'codex' }).status).toBe(5);
    const stop = cli(repo, ['agent-hook', 'stop'], {
      agent: 'codex',
      env: { CLAUDECODE: '1', HANDOFF_RUNTIME: 'claude' },
      input: JSON.stringify({ hook_event_name: 'Stop', stop_hook_active: false }),
    });
    expect(stop.stdout).toBe('');
    for (const id of ids) expect(ok(repo, ['show', id, '--json']).json.recipients[0].status, id).toBe('read');
    expect(
      ok(repo, ['tasks', '--json'])
        .json.tasks.map((t: any) => t.state)
        .sort(),
    ).toEqual(['blocked', 'done', 'failed']);
    // The sender's own outcome on a request (withdrawn) reads nothing of the recipient's.
    const w = ok(repo, ['send', 'codex', 'never mind this', '--json'], { agent: 'claude' }).json.message.id;
    ok(repo, ['fail', w, '-m', 'withdrawn'], { agent: 'claude' });
    expect(ok(repo, ['show', w, '--json']).json.recipients[0].status).toBe('stored');
  });
});

describe('what a refused claim or release says', () => {
  it("a release by another agent asks the holder (release has no --wait); a remote that is not there is named with git's reason", () => {
    const repo = makeRepo();
    const p = agentProcess();
    try {
      ok(repo, ['claim', 'deploy', '--pid', String(p.pid)], { agent: 'alice' });
      const r = cli(repo, ['release', 'deploy', '--json'], { agent: 'bob' });
      expect([r.status, r.json.error.code]).toEqual([4, 'claim_held']);
      expect(r.json.error.message).toMatch(/is claimed by alice since .*\. Ask alice\.$/);
      const c = cli(repo, ['claim', 'deploy', '--json'], { agent: 'bob' });
      expect(c.json.error.message).toMatch(/Wait for it with --wait, or ask alice\.$/);
      // Waited for already: not told to wait.
      const w = cli(repo, ['claim', 'deploy', '--wait', '--timeout', '1', '--json'], { agent: 'bob' });
      expect([w.status, w.json.error.code]).toEqual([5, 'timeout']);
      expect(w.json.error.message).toMatch(
        /is claimed by alice since .*\. Waited 1s: ask alice, or wait longer \(--timeout\)\.$/,
      );
      git(repo, 'remote', 'add', 'dead', path.join(repo, '..', 'no-such-remote.git'));
      const dead = cli(repo, ['claim', 'k1', '--remote', 'dead', '--json'], { agent: 'bob' });
      expect(dead.json.error.code).toBe('remote_failed');
      expect(dead.json.error.message).toMatch(
        /^git fetch from dead failed: fatal: '.*no-such-remote\.git' does not appear to be a git repository fatal: Could not read from remote repository\.?/,
      );
    } finally {
      p.kill();
    }
  });
});

describe('a mistyped agent name', () => {
  it('claim, reserve and status under a name close to a known agent say so once, as send does; a new name far from all is quiet', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'alice' });
    ok(repo, ['join'], { agent: 'codex' });
    const near = /no agent named "([a-z]+)" is known here; did you mean "(alice|codex)"/;
    const claim = ok(repo, ['claim', 'deploy', '--json'], { agent: 'alicee' });
    expect(claim.json.holder.agent).toBe('alicee');
    expect(near.exec(claim.stderr)?.slice(1)).toEqual(['alicee', 'alice']);
    expect(near.exec(ok(repo, ['reserve', 'src/', '-m', 'x'], { agent: 'codx' }).stderr)?.slice(1)).toEqual([
      'codx',
      'codex',
    ]);
    expect(near.exec(ok(repo, ['status', '-m', 'busy'], { agent: 'alise' }).stderr)?.slice(1)).toEqual([
      'alise',
      'alice',
    ]);
    expect(near.exec(ok(repo, ['send', 'alice', 'hi'], { agent: 'cdex' }).stderr)?.slice(1)).toEqual(['cdex', 'codex']);
    // Said once: the name is an agent from its first event on.
    expect(ok(repo, ['release', 'deploy'], { agent: 'alicee' }).stderr).not.toMatch(/is known here/);
    expect(ok(repo, ['claim', 'migrate'], { agent: 'reviewer' }).stderr).not.toMatch(/is known here/);
  });
});

describe('claims refuse what would hurt later', () => {
  it('a lease past the ledger limit, a lowercase id, several releases, and outcomes on what is not a request', () => {
    const repo = makeRepo();
    const p = agentProcess();
    try {
      const refs = () => git(repo, 'for-each-ref', 'refs/handoff/');
      const before = refs();
      for (const ttl of ['40000000', '0', '99999999999999']) {
        const r = cli(repo, ['claim', 'big', '--ttl', ttl, '--json'], { agent: 'codex' });
        expect([ttl, r.status, r.json?.error?.code]).toEqual([ttl, 2, 'usage']);
      }
      expect(cli(repo, ['reserve', 'x', '--ttl', '40000000', '--json'], { agent: 'codex' }).json.error.code).toBe(
        'usage',
      );
      expect(cli(repo, ['claim', 'k', '--pid', '1', '--json'], { agent: 'codex' }).json.error.code).toBe('bad_pid');
      expect(refs()).toBe(before);
      // A message named in any case is one key.
      ok(repo, ['join'], { agent: 'codex' });
      const id = ok(repo, ['send', 'codex', 'port it', '--json'], { agent: 'lead' }).json.message.id as string;
      ok(repo, ['claim', id.slice(-7), '--pid', String(p.pid)], { agent: 'codex' });
      for (const key of [id.slice(-7).toLowerCase(), id.toLowerCase(), id]) {
        const r = cli(repo, ['claim', key, '--json'], { agent: 'claude' });
        expect([key, r.status, r.json.error.details.key]).toEqual([key, 4, id]);
      }
      // Digits alone name a task (an issue number, a date), however many there are.
      for (const key of ['12345', '123456', '20261205'])
        expect(ok(repo, ['claim', key, '--pid', String(p.pid), '--json'], { agent: 'codex' }).json.key).toBe(key);
      expect(cli(repo, ['claim', '01M8YDD18YH1WCDEHRASA0AW8C', '--json'], { agent: 'claude' }).json.error.code).toBe(
        'message_not_found',
      );
      // Several keys released at once.
      ok(repo, ['claim', 'one', '--pid', String(p.pid)], { agent: 'codex' });
      ok(repo, ['claim', 'two', '--pid', String(p.pid)], { agent: 'codex' });
      expect(
        ok(repo, ['release', 'one', 'two', '--json'], { agent: 'codex' }).json.claims.map(
          (c: { key: string }) => c.key,
        ),
      ).toEqual(['one', 'two']);
      // Outcomes: only on requests, only by those it concerns; the claimer hears when someone else records one.
      const note = ok(repo, ['send', 'codex', 'fyi', '--kind', 'note', '--json'], { agent: 'lead' }).json.message.id;
      expect(cli(repo, ['done', note, '--json'], { agent: 'codex' }).json.error.code).toBe('not_a_request');
      expect(cli(repo, ['done', id, '--json'], { agent: 'stranger' }).json.error.code).toBe('not_a_recipient');
      expect(ok(repo, ['done', id, '-m', 'ported', '--json'], { agent: 'lead' }).json.to).toEqual(['codex']);
      const told = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.messages.map((m: { body: string }) => m.body);
      expect(told).toContain('ported');
      // Done: nothing left to claim (exit 4, task_done); a later outcome replaces it, said out loud.
      const late = cli(repo, ['claim', id, '--json'], { agent: 'gemini' });
      expect([late.status, late.json.error.code]).toEqual([4, 'task_done']);
      const flipped = cli(repo, ['fail', id, '-m', 'it broke the build'], { agent: 'lead' });
      expect(flipped.status).toBe(0);
      expect(flipped.stderr).toMatch(/was recorded done by lead at .*; it is failed now/);
      // Failed is open to be taken up again: what stops gemini now is codex's claim.
      expect(cli(repo, ['claim', id, '--json'], { agent: 'gemini' }).json.error.code).toBe('claim_held');
      // The sender withdrawing a request tells its recipients; a recipient's outcome tells the sender.
      ok(repo, ['join'], { agent: 'gemini' });
      const both = ok(repo, ['send', 'codex,gemini', 'port the parser', '--json'], { agent: 'lead' }).json.message.id;
      const withdrawn = ok(repo, ['fail', both, '-m', 'cancelled, do not start', '--json'], { agent: 'lead' }).json;
      expect(withdrawn.to).toEqual(['codex', 'gemini']);
      for (const a of ['codex', 'gemini'])
        expect(ok(repo, ['inbox', '--json'], { agent: a }).json.messages.map((m: any) => m.body)).toContain(
          'cancelled, do not start',
        );
      expect(ok(repo, ['inbox', '--json'], { agent: 'lead' }).json.messages.map((m: any) => m.body)).not.toContain(
        'cancelled, do not start',
      );
      const asked = ok(repo, ['send', 'gemini', 'check it', '--json'], { agent: 'lead' }).json.message.id;
      // A second id by mistake is refused, not taken as the evidence; with -m it is evidence.
      const slip = cli(repo, ['done', asked, 'ZZZZZZZ', '--json'], { agent: 'gemini' });
      expect([slip.status, slip.json.error.message]).toEqual([
        2,
        'ZZZZZZZ looks like a message id: done takes one request (run it once for each). To give ZZZZZZZ as the evidence, pass it with -m.',
      ]);
      // In lower case too, when it names a message; a word that names none is evidence.
      const lower = cli(repo, ['done', asked, both.slice(-7).toLowerCase(), '--json'], { agent: 'gemini' });
      expect(lower.status).toBe(2);
      // Once two messages share their last 7 characters, tables print 8: such an id is a slip too.
      const one = '01M93M5000AAAAAAAAA1234567';
      ok(repo, ['send', 'gemini', 'task one', '--id', one], { agent: 'lead' });
      ok(repo, ['send', 'gemini', 'task two', '--id', '01M93M5001BBBBBBBBB1234567'], { agent: 'lead' });
      const printed = ok(repo, ['tasks', '--json'], { agent: 'gemini' }).json;
      expect(JSON.stringify(printed)).toContain(one);
      const eight = cli(repo, ['done', asked, one.slice(-8), '--json'], { agent: 'gemini' });
      expect([eight.status, eight.json.error.code]).toEqual([2, 'usage']);
      expect(cli(repo, ['done', asked, one.slice(-8).toLowerCase(), '--json'], { agent: 'gemini' }).status).toBe(2);
      const taskOne = () =>
        ok(repo, ['tasks', '--json'], { agent: 'gemini' }).json.tasks.find((t: any) => t.id === one);
      expect(taskOne().state).toBe('open');
      expect(ok(repo, ['done', asked, '--json'], { agent: 'gemini' }).json.to).toEqual(['lead']);
    } finally {
      p.kill();
    }
  });
});

describe('claims and outcomes across clones whose clocks disagree', () => {
  it('a claim after a failure reopens the request, and a done after a claim ends it, by causal order, not wall clocks', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    for (const c of [a, b]) ok(c, ['sync', '--setup']);
    const behind = { env: { HANDOFF_CLOCK_OFFSET_MS: '-600000' } };
    const ahead = { env: { HANDOFF_CLOCK_OFFSET_MS: '600000' } };
    const state = (dir: string, id: string) =>
      ok(dir, ['tasks', '--json'], { agent: 'boss' }).json.tasks.find((x: any) => x.id === id)?.state;
    // b runs 10 minutes behind: its claim, made after a's failure, still reopens the request.
    const one = ok(a, ['send', 'xa,xb', 'port the lexer', '--create', '--json'], { agent: 'boss' }).json.message.id;
    ok(a, ['fail', one, '-m', 'no time'], { agent: 'xa' });
    ok(a, ['sync']);
    ok(b, ['sync'], behind);
    ok(b, ['claim', one], { agent: 'xb', ...behind });
    ok(b, ['sync'], behind);
    ok(a, ['sync']);
    for (const c of [a, b]) expect(state(c, one)).toBe('claimed');
    // b runs 10 minutes ahead: a's done, made after b's claim, still ends that claim.
    const two = ok(a, ['send', 'xa,xb', 'port the parser', '--json'], { agent: 'boss' }).json.message.id;
    ok(a, ['sync']);
    ok(b, ['sync'], ahead);
    ok(b, ['claim', two], { agent: 'xb', ...ahead });
    ok(b, ['sync'], ahead);
    ok(a, ['sync']);
    ok(a, ['done', two, '-m', 'merged'], { agent: 'xa' });
    ok(a, ['sync']);
    ok(b, ['sync'], ahead);
    for (const c of [a, b]) {
      expect(state(c, two)).toBe('done');
      expect(ok(c, ['claims', '--json']).json.claims.map((x: any) => x.key)).not.toContain(two);
    }
  });
});

describe('claims across clones', () => {
  it('a remote claim that takes over a lease this clone never saw: every ledger names the holder the remote names', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    for (const c of [a, b]) ok(c, ['sync', '--setup']);
    ok(b, ['sync']);
    // xa claims through the remote for 5 s and stays active here (activity renews a lease in the ledger,
    // not on the remote); b, which has not synced since, claims a minute later: the remote says xa's ran out.
    ok(a, ['claim', 'deploy', '--remote', 'origin', '--ttl', '5'], { agent: 'xa' });
    ok(a, ['status', '-m', 'still deploying'], { agent: 'xa', env: { HANDOFF_CLOCK_OFFSET_MS: '58000' } });
    ok(a, ['sync']);
    const took = ok(b, ['claim', 'deploy', '--remote', 'origin', '--ttl', '600', '--json'], {
      agent: 'xb',
      env: { HANDOFF_CLOCK_OFFSET_MS: '60000' },
    }).json;
    expect([took.action, took.reclaimed?.from]).toEqual(['reclaimed', 'xa']);
    for (const c of [b, a, b]) ok(c, ['sync']);
    for (const c of [a, b])
      expect(ok(c, ['claims', '--all', '--json']).json.claims.map((x: any) => `${x.key} ${x.holder.agent}`)).toEqual([
        'deploy xb',
      ]);
    expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).agent).toBe('xb');
    // And xb can release it, here and on the remote.
    ok(b, ['release', 'deploy'], { agent: 'xb' });
    expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).state).not.toBe('held');
  });

  it('one agent name in two clones: the remote gives the key to one of them, and only that one renews or releases it', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const p = agentProcess();
    try {
      const first = ok(a, ['claim', 'deploy', '--remote', 'origin', '--pid', String(p.pid), '--json'], {
        agent: 'claude',
      }).json;
      expect(first.action).toBe('claimed');
      const recordBefore = git(t.remote, 'rev-parse', 'refs/handoff/claims/deploy');
      const since = JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).since as string;
      // claude in the other clone is another worker: refused (exit 4), not taken as a renewal.
      const other = cli(b, ['claim', 'deploy', '--remote', 'origin', '--json'], { agent: 'claude' });
      expect(other.status).toBe(4);
      expect(other.json.error.code).toBe('claim_held');
      const cloneA = JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).clone as string;
      expect(other.json.error.message).toContain(`in clone ${cloneA}`);
      // Nor can it release the other clone's claim; the remote's record is unchanged.
      expect(cli(b, ['release', 'deploy', '--remote', 'origin'], { agent: 'claude' }).status).toBe(4);
      expect(git(t.remote, 'rev-parse', 'refs/handoff/claims/deploy')).toBe(recordBefore);
      // Nor with a plain release once it has a's claim in its ledger: a still holds it everywhere.
      ok(a, ['sync']);
      ok(b, ['sync']);
      const plain = cli(b, ['release', 'deploy', '--json'], { agent: 'claude' });
      expect([plain.status, plain.json.error.code]).toEqual([4, 'claim_held']);
      // Nor among several keys: none is released when one is the other clone's.
      ok(b, ['claim', 'mine', '--pid', String(p.pid)], { agent: 'claude' });
      expect(cli(b, ['release', 'mine', 'deploy'], { agent: 'claude' }).status).toBe(4);
      expect(ok(b, ['claims', '--json']).json.claims.map((x: any) => x.key)).toContain('mine');
      ok(b, ['release', 'mine'], { agent: 'claude' });
      ok(b, ['sync']);
      ok(a, ['sync']);
      for (const c of [a, b])
        expect(ok(c, ['claims', '--json']).json.claims.map((x: any) => `${x.key} ${x.holder.agent}`)).toEqual([
          'deploy claude',
        ]);
      // The clone that holds it renews it (its since stays) and releases it; then the other takes it.
      const renewed = ok(a, ['claim', 'deploy', '--remote', 'origin', '--pid', String(p.pid), '--json'], {
        agent: 'claude',
      }).json;
      expect(renewed.action).toBe('renewed');
      const onRemote = JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json'));
      expect([onRemote.state, onRemote.clone, onRemote.since]).toEqual(['held', cloneA, since]);
      ok(a, ['release', 'deploy', '--remote', 'origin'], { agent: 'claude' });
      ok(a, ['sync']);
      ok(b, ['sync']);
      expect(ok(b, ['claim', 'deploy', '--remote', 'origin', '--json'], { agent: 'claude' }).json.action).toBe(
        'claimed',
      );
      expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).clone).not.toBe(cloneA);
    } finally {
      p.kill();
    }
  });

  it('3 clones claiming with --remote at once: exactly one wins each of 10 rounds', async () => {
    const t = team();
    const clones = ['a', 'b', 'c'].map((n) => t.clone(n));
    const p = agentProcess();
    try {
      for (let round = 0; round < 10; round++) {
        const runs = clones.map((c, i) =>
          cliAsync(c, ['claim', `r${round}`, '--remote', 'origin', '--pid', String(p.pid), '--json'], {
            agent: `agent${i}`,
          }),
        );
        const results = await Promise.all(runs.map((r) => r.done));
        const statuses = results.map((r) => r.status).sort();
        expect([round, statuses]).toEqual([round, [0, 4, 4]]);
        const winner = results.find((r) => r.status === 0)!.json.agent;
        for (const r of results.filter((x) => x.status === 4)) expect(r.json.error.details.holder.agent).toBe(winner);
        const onRemote = JSON.parse(git(t.remote, 'show', `refs/handoff/claims/r${round}:claim.json`));
        expect(onRemote).toMatchObject({ state: 'held', agent: winner });
      }
      // Release through the remote, then another clone takes it.
      const owner = JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/r0:claim.json')).agent as string;
      const ownerClone = clones[Number(owner.slice(-1))]!;
      ok(ownerClone, ['release', 'r0', '--remote', 'origin'], { agent: owner });
      const other = clones.find((c) => c !== ownerClone)!;
      expect(
        ok(other, ['claim', 'r0', '--remote', 'origin', '--pid', String(p.pid), '--json'], { agent: 'zed' }).json.agent,
      ).toBe('zed');
    } finally {
      p.kill();
    }
  });

  it('claims made offline in two clones resolve to the same winner everywhere after sync; the loser is told', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const c = t.clone('c');
    const p = agentProcess();
    try {
      ok(a, ['claim', 'release-notes', '--pid', String(p.pid)], { agent: 'alice' });
      // bob's clock runs 10 s later: his claim is the later one by causal clock.
      ok(b, ['claim', 'release-notes', '--pid', String(p.pid)], {
        agent: 'bob',
        env: { HANDOFF_CLOCK_OFFSET_MS: '10000' },
      });
      for (let i = 0; i < 2; i++) for (const clone of [a, b, c]) ok(clone, ['sync']);
      const holders = [a, b, c].map(
        (clone) =>
          ok(clone, ['claims', '--all', '--json']).json.claims.find((x: { key: string }) => x.key === 'release-notes')
            .holder.agent,
      );
      expect(holders).toEqual(['alice', 'alice', 'alice']);
      const told = ok(b, ['inbox', '--json'], { agent: 'bob' }).json.notices as string[];
      expect(told.some((n) => n.includes('release-notes') && n.includes('lost to alice'))).toBe(true);
    } finally {
      p.kill();
    }
  });

  it('a request finished in another clone by a claimer who lost to the holder: the holder is told, once', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['join'], { agent: 'alice' });
    const r = ok(a, ['send', 'alice', 'write the parser', '--create', '--json'], { agent: 'lead' }).json.message.id;
    ok(a, ['sync']);
    ok(b, ['sync']);
    const p = agentProcess();
    try {
      // carol claims first in clone b; alice, offline in clone a, claims later, and finishes it there.
      ok(b, ['claim', r, '--pid', String(p.pid)], { agent: 'carol' });
      ok(a, ['claim', r, '--pid', String(p.pid)], { agent: 'alice', env: { HANDOFF_CLOCK_OFFSET_MS: '10000' } });
      ok(a, ['done', r, '-m', 'parser written'], { agent: 'alice', env: { HANDOFF_CLOCK_OFFSET_MS: '10000' } });
      for (let i = 0; i < 2; i++) for (const clone of [a, b]) ok(clone, ['sync']);
      const told = ok(b, ['inbox', '--json'], { agent: 'carol' }).json.notices as string[];
      expect(told.filter((n) => n.includes(`${r}, which you hold, was marked done by alice`))).toHaveLength(1);
      expect(
        (ok(b, ['inbox', '--json'], { agent: 'carol' }).json.notices as string[]).filter((n) =>
          n.includes('marked done'),
        ),
      ).toEqual([]);
    } finally {
      p.kill();
    }
  });

  it('a claim the remote decided outweighs one made without --remote: ledger and remote agree after sync', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const p = agentProcess();
    try {
      ok(a, ['claim', 'ship', '--pid', String(p.pid)], { agent: 'gemini' });
      const won = ok(b, ['claim', 'ship', '--remote', 'origin', '--pid', String(p.pid), '--json'], {
        agent: 'codex',
        env: { HANDOFF_CLOCK_OFFSET_MS: '5000' },
      }).json;
      expect(won.holder.remote).toBe('origin');
      for (const clone of [a, b, a]) ok(clone, ['sync']);
      for (const clone of [a, b])
        expect(ok(clone, ['claims', '--json']).json.claims.map((c: any) => [c.key, c.holder.agent])).toEqual([
          ['ship', 'codex'],
        ]);
      expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/ship:claim.json')).agent).toBe('codex');
      const told = ok(a, ['inbox', '--json'], { agent: 'gemini' }).json.notices as string[];
      expect(told.some((n) => n.includes('origin decided for codex'))).toBe(true);
      // gemini asking the remote now hears the same answer as the ledger gives.
      expect(
        cli(a, ['claim', 'ship', '--remote', 'origin', '--json'], { agent: 'gemini' }).json.error.details.holder.agent,
      ).toBe('codex');
    } finally {
      p.kill();
    }
  });

  it("a holder's activity renews its lease also against a claim made offline in another clone", () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const p = agentProcess();
    const at = (s: number) => ({ HANDOFF_CLOCK_OFFSET_MS: String(s * 1000) });
    try {
      // gemini holds both keys for 60 s and is active at 50 s, which renews both to 110 s.
      for (const key of ['renewed', 'lapsed'])
        ok(a, ['claim', key, '--ttl', '60', '--pid', String(p.pid)], { agent: 'gemini' });
      ok(a, ['status', '-m', 'still on it'], { agent: 'gemini', env: at(50) });
      // codex, in a clone that has not synced, claims one at 100 s (inside the renewed lease), the other at
      // 200 s (after it).
      ok(b, ['claim', 'renewed', '--pid', String(p.pid)], { agent: 'codex', env: at(100) });
      ok(b, ['claim', 'lapsed', '--pid', String(p.pid)], { agent: 'codex', env: at(200) });
      for (const clone of [a, b, a, b]) ok(clone, ['sync']);
      for (const clone of [a, b]) {
        const holders = Object.fromEntries(
          ok(clone, ['claims', '--all', '--json']).json.claims.map((c: any) => [c.key, c.holder.agent]),
        );
        expect(holders).toEqual({ lapsed: 'codex', renewed: 'gemini' });
      }
      const told = ok(b, ['inbox', '--json'], { agent: 'codex' }).json.notices as string[];
      expect(told.some((n) => n.includes('renewed') && n.includes('lost to gemini'))).toBe(true);
    } finally {
      p.kill();
    }
  });
});

describe('leases renewed by activity', () => {
  it('activity while a lease runs renews it; activity after it ran out does not bring it back', () => {
    const repo = makeRepo();
    const at = (s: number) => ({ env: { HANDOFF_CLOCK_OFFSET_MS: String(s * 1000) } });
    // carol is active 4 s into a 5 s lease: renewed to 9 s, so dave is refused at 7 s and takes it at 10 s.
    ok(repo, ['claim', 'k', '--ttl', '5'], { agent: 'carol' });
    ok(repo, ['status', '-m', 'still on it'], { agent: 'carol', ...at(4) });
    expect(cli(repo, ['claim', 'k'], { agent: 'dave', ...at(7) }).status).toBe(4);
    expect(cli(repo, ['claim', 'k'], { agent: 'dave', ...at(10) }).status).toBe(0);
    // bob's claim and exclusive reservation ran out at 5 s; his activity at 10 s is too late to renew them.
    ok(repo, ['claim', 'parser', '--ttl', '5'], { agent: 'bob' });
    ok(repo, ['reserve', 'src/**', '-x', '--ttl', '5'], { agent: 'bob' });
    ok(repo, ['status', '-m', 'back'], { agent: 'bob', ...at(10) });
    const claims = ok(repo, ['claims', '--all', '--json'], at(11)).json.claims;
    expect(claims.find((c: any) => c.key === 'parser').holder.liveness).toBe('expired');
    const held = ok(repo, ['reservations', '--all', '--json'], at(11)).json.reservations;
    expect(held.map((r: any) => [r.pattern, r.liveness])).toEqual([['src/**', 'expired']]);
    expect(cli(repo, ['claim', 'parser'], { agent: 'alice', ...at(11) }).status).toBe(0);
    expect(cli(repo, ['reserve', 'src/x.ts', '-x'], { agent: 'alice', ...at(11) }).status).toBe(0);
    // One exclusive holder, whatever bob does next.
    ok(repo, ['status', '-m', 'again'], { agent: 'bob', ...at(12) });
    const now = ok(repo, ['reservations', '--json'], at(12)).json.reservations;
    expect(now.map((r: any) => [r.agent, r.pattern])).toEqual([['alice', 'src/x.ts']]);
  });
});

describe('task outcomes', () => {
  it('an outcome releases a claim the remote decided on the remote too; release --remote says what it freed', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    const p = agentProcess();
    try {
      ok(a, ['join'], { agent: 'codex' });
      const ids = ['ship it', 'test it'].map(
        (body) => ok(a, ['send', 'codex', body, '--kind', 'request', '--json'], { agent: 'lead' }).json.message.id,
      );
      for (const id of ids) ok(a, ['claim', id, '--remote', 'origin', '--pid', String(p.pid)], { agent: 'codex' });
      const onRemote = (id: string) => JSON.parse(git(t.remote, 'show', `refs/handoff/claims/${id}:claim.json`)).state;
      expect(ids.map(onRemote)).toEqual(['held', 'held']);
      expect(ok(a, ['block', ids[0], '-m', 'waiting for the schema', '--json'], { agent: 'codex' }).json.released).toBe(
        true,
      );
      expect(onRemote(ids[0])).toBe('released');
      // Another agent, in another clone, can take it through the remote at once.
      ok(a, ['sync']);
      ok(b, ['sync']);
      expect(
        ok(b, ['claim', ids[0], '--remote', 'origin', '--pid', String(p.pid), '--json'], { agent: 'gemini' }).json
          .agent,
      ).toBe('gemini');
      // A plain release frees the ref of the remote that decided the claim too; asking again finds nothing held.
      ok(a, ['release', ids[1]], { agent: 'codex' });
      expect(onRemote(ids[1])).toBe('released');
      const r = cli(a, ['release', ids[1], '--remote', 'origin', '--json'], { agent: 'codex' });
      expect([r.status, r.json.error.code]).toEqual([3, 'not_claimed']);
    } finally {
      p.kill();
    }
  });

  it('done, fail and block reach the sender, release the claim, and tasks shows each state', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const ids = ['parse dates', 'fix the build', 'port to windows', 'write docs'].map(
      (body) => ok(repo, ['send', 'codex', body, '--json'], { agent: 'lead' }).json.message.id as string,
    );
    const p = agentProcess();
    ok(repo, ['claim', ids[0]!.slice(-7), '--pid', String(p.pid)], { agent: 'codex' });
    expect(ok(repo, ['tasks', '--json']).json.tasks.map((x: { state: string }) => x.state)).toEqual([
      'claimed',
      'open',
      'open',
      'open',
    ]);
    const done = ok(repo, ['done', ids[0]!.slice(-7), '-m', 'tests pass', '--json'], { agent: 'codex' }).json;
    expect(done).toMatchObject({ state: 'done', to: ['lead'], released: true });
    ok(repo, ['fail', ids[1]!, '-m', 'the CI image is gone'], { agent: 'codex' });
    ok(repo, ['block', ids[2]!, '-m', 'needs a windows runner'], { agent: 'codex' });
    expect(cli(repo, ['fail', ids[3]!, '--json'], { agent: 'codex' }).json.error.code).toBe('empty_body');
    // A claimer that dies leaves its request reclaimable, not done.
    const q = agentProcess();
    ok(repo, ['claim', ids[3]!, '--pid', String(q.pid)], { agent: 'codex' });
    q.kill();
    await new Promise((r) => setTimeout(r, 200));
    const states = ok(repo, ['tasks', '--json']).json.tasks.map((x: { id: string; state: string }) => [x.id, x.state]);
    expect(states).toEqual([
      [ids[0], 'done'],
      [ids[1], 'failed'],
      [ids[2], 'blocked'],
      [ids[3], 'reclaimable'],
    ]);
    expect(ok(repo, ['tasks', '--failed', '--json']).json.tasks.map((x: { id: string }) => x.id)).toEqual([ids[1]]);
    const inbox = ok(repo, ['inbox', '--json'], { agent: 'lead' }).json.messages.map(
      (m: { body: string; replyTo: string }) => [m.replyTo, m.body],
    );
    // Failures and blocks are urgent: they come first.
    expect(inbox).toEqual([
      [ids[1], 'the CI image is gone'],
      [ids[2], 'needs a windows runner'],
      [ids[0], 'tests pass'],
    ]);
    expect(ok(repo, ['claims', '--json']).json.claims).toEqual([]);
    // show and replay carry the same states (replay's terminal form and its JSON).
    expect(ok(repo, ['show', ids[1]!, '--json']).json.task).toEqual({ state: 'failed', by: 'codex' });
    expect(ok(repo, ['show', ids[1]!, '--no-pager']).stdout).toMatch(/^Task: +failed \(codex\)$/m);
    const replayed = ok(repo, ['replay', '--json'])
      .json.items.filter((i: any) => i.task)
      .map((i: any) => [i.message.id, i.task.state]);
    expect(replayed).toEqual(states);
    expect(ok(repo, ['replay', '--no-pager']).stdout).toContain('task reclaimable (codex)');
    // rebuild reproduces every state.
    ok(repo, ['rebuild']);
    expect(ok(repo, ['tasks', '--json']).json.tasks.map((x: { id: string; state: string }) => [x.id, x.state])).toEqual(
      states,
    );
    p.kill();
  });
});

describe('file reservations', () => {
  it('a path given in a subdirectory is reserved from there, as git takes paths; :/ names one from the top', () => {
    const repo = makeRepo({ files: { 'src/tok.ts': 'a\n', 'lib/x.ts': 'b\n' } });
    const src = path.join(repo, 'src');
    const p = agentProcess();
    try {
      const held = (r: any) => r.json.patterns;
      expect(held(ok(src, ['reserve', 'tok.ts', '-x', '--pid', String(p.pid), '--json'], { agent: 'claude' }))).toEqual(
        ['src/tok.ts'],
      );
      expect(held(ok(src, ['reserve', '../lib/x.ts', '--json'], { agent: 'claude' }))).toEqual(['lib/x.ts']);
      expect(held(ok(src, ['reserve', ':/README.md', '--json'], { agent: 'claude' }))).toEqual(['README.md']);
      expect(held(ok(src, ['reserve', '.', '--json'], { agent: 'claude' }))).toEqual(['src']);
      expect(cli(src, ['reserve', '../../outside', '--json'], { agent: 'claude' }).json.error.code).toBe('bad_path');
      // An absolute path inside is taken from the top; ":(top)" is ":/"; other pathspec magic, which would
      // reserve text that holds nothing back, is refused, nothing written.
      expect(held(ok(src, ['reserve', path.join(repo, 'lib', 'new.ts'), '--json'], { agent: 'claude' }))).toEqual([
        'lib/new.ts',
      ]);
      expect(held(ok(src, ['reserve', ':(top)lib/y.ts', '--json'], { agent: 'claude' }))).toEqual(['lib/y.ts']);
      const refsBefore = git(repo, 'for-each-ref', 'refs/handoff/');
      for (const magic of [':(glob)src/**', ':(literal)src/tok.ts', ':(icase)SRC', ':!src/tok.ts', ':^x', ':/!x'])
        expect([magic, cli(src, ['reserve', '-x', magic, '--json'], { agent: 'codex' }).json.error.code]).toEqual([
          magic,
          'bad_path',
        ]);
      expect(cli(src, ['reserve', '/etc/passwd', '--json'], { agent: 'codex' }).json.error.code).toBe('bad_path');
      expect(git(repo, 'for-each-ref', 'refs/handoff/')).toBe(refsBefore);
      // The commit of another agent from the top meets the reservation made in src/.
      ok(repo, ['hooks', 'install']);
      git(repo, 'config', 'handoff.reservations', 'block');
      fs.appendFileSync(path.join(src, 'tok.ts'), 'x\n');
      const refused = spawnSync('git', ['commit', '-qam', 'edit'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('src/tok.ts is reserved exclusively by claude');
      // Released from the subdirectory by the same relative name.
      expect(ok(src, ['release', '--paths', 'tok.ts', '--json'], { agent: 'claude' }).json.released).toEqual([
        'src/tok.ts',
      ]);
      // What 'reservations' prints (paths from the top) releases from the subdirectory too, where nothing of
      // that name is reserved from there; a path reserved from there is still taken from there.
      const listed = ok(src, ['reservations'], { agent: 'claude' })
        .stdout.split('\n')
        .map((l) => l.split(/\s+/)[0])
        .filter((w) => w === 'lib/x.ts');
      expect(listed).toEqual(['lib/x.ts']);
      expect(ok(src, ['release', '--paths', ...listed, '--json'], { agent: 'claude' }).json.released).toEqual([
        'lib/x.ts',
      ]);
      ok(src, ['reserve', 'lib/y.ts', '--json'], { agent: 'claude' });
      expect(ok(src, ['release', '--paths', 'lib/y.ts', '--json'], { agent: 'claude' }).json.released).toEqual([
        'src/lib/y.ts',
      ]);
      expect(cli(src, ['release', '--paths', 'lib/nothing.ts', '--json'], { agent: 'claude' }).json.error.code).toBe(
        'not_reserved',
      );
      expect(
        ok(repo, ['reservations', '--json'], { agent: 'claude' })
          .json.reservations.map((r: any) => r.pattern)
          .sort(),
      ).toEqual(['README.md', 'lib/new.ts', 'lib/y.ts', 'src']);
    } finally {
      p.kill();
    }
  });

  it('an exclusive reservation made anew (after a shared one, or after it expired) cannot go before an earlier holder', () => {
    const repo = makeRepo({
      files: { 'src/y.ts': 'y\n', 'src/sub/x.ts': 'x\n', 'src/sub/b.md': 'b\n', 'src/sub/deep/a.md': 'a\n' },
    });
    const p = agentProcess();
    try {
      ok(repo, ['hooks', 'install']);
      git(repo, 'config', 'handoff.reservations', 'block');
      const pid = ['--pid', String(p.pid)];
      const commits = (agent: string, file: string) => {
        fs.appendFileSync(path.join(repo, file), 'x\n');
        git(repo, 'add', file);
        const r = spawnSync('git', ['commit', '-qm', `edit ${file}`], {
          cwd: repo,
          env: cleanEnv({ HANDOFF_AGENT: agent }),
          encoding: 'utf8',
        });
        if (r.status !== 0) git(repo, 'reset', '-q', '--hard');
        return r.status === 0;
      };
      const table = () =>
        ok(repo, ['reservations', '--json']).json.reservations.map(
          (r: any) => `${r.pattern} ${r.agent} ${r.exclusive}`,
        );
      // Shared, then another agent's exclusive on a file under it, then the shared one made exclusive: refused.
      ok(repo, ['reserve', 'src', ...pid], { agent: 'xb' });
      ok(repo, ['reserve', 'src/y.ts', '-x', ...pid], { agent: 'xa' });
      const upgrade = cli(repo, ['reserve', 'src', '-x', ...pid, '--json'], { agent: 'xb' });
      expect([upgrade.status, upgrade.json.error.code, upgrade.json.error.details.holder.agent]).toEqual([
        4,
        'reserved',
        'xa',
      ]);
      expect(table()).toEqual(['src xb false', 'src/y.ts xa true']);
      expect([commits('xa', 'src/y.ts'), commits('xc', 'src/sub/x.ts')]).toEqual([true, true]);
      // An exclusive one that expired, renewed after another agent reserved beneath it: refused too.
      ok(repo, ['release', '--paths'], { agent: 'xb' });
      ok(repo, ['release', '--paths'], { agent: 'xa' });
      ok(repo, ['reserve', 'src', '-x', '--ttl', '60', ...pid], { agent: 'xb' });
      const later = { env: { HANDOFF_CLOCK_OFFSET_MS: '120000' } };
      ok(repo, ['reserve', 'src/y.ts', '-x', ...pid], { agent: 'xa', ...later });
      expect(cli(repo, ['reserve', 'src', '-x', ...pid, '--json'], { agent: 'xb', ...later }).status).toBe(4);
      // Renewed while it stands, an exclusive reservation keeps its place.
      ok(repo, ['reserve', 'src/y.ts', '-x', ...pid], { agent: 'xa', ...later });
      expect(cli(repo, ['reserve', 'src/y.ts', '-x', ...pid, '--json'], { agent: 'xb', ...later }).status).toBe(4);
      ok(repo, ['release', '--paths'], { agent: 'xa' });
      ok(repo, ['release', '--paths'], { agent: 'xb' });
      // *.md given in a subdirectory covers the subdirectory at any depth, as git's pathspecs do.
      const sub = path.join(repo, 'src', 'sub');
      expect(ok(sub, ['reserve', '*.md', '-x', ...pid, '--json'], { agent: 'xa' }).json.patterns).toEqual([
        'src/sub/**/*.md',
      ]);
      expect([commits('xc', 'src/sub/b.md'), commits('xc', 'src/sub/deep/a.md'), commits('xc', 'src/y.ts')]).toEqual([
        false,
        false,
        true,
      ]);
      // A renewal of one pattern in the same call does not carry another that an earlier holder has.
      ok(repo, ['release', '--paths'], { agent: 'xa' });
      ok(repo, ['reserve', 'src/y.ts', '-x', ...pid], { agent: 'xa' });
      ok(repo, ['reserve', 'src/sub/x.ts', '-x', ...pid], { agent: 'xb' });
      const both = cli(repo, ['reserve', 'src/y.ts', 'src/sub/x.ts', '-x', ...pid, '--json'], { agent: 'xa' });
      expect([both.status, both.json.error.details.holder.agent]).toEqual([4, 'xb']);
      expect(table()).toEqual(['src/y.ts xa true', 'src/sub/x.ts xb true']);
    } finally {
      p.kill();
    }
  });

  it('docs/ and docs are one reservation; a glob with no slash matches at any depth, a plain name only itself', () => {
    const repo = makeRepo({ files: { 'README.md': 'a\n', 'docs/api.md': 'b\n', 'docs/README.md': 'c\n' } });
    const p = agentProcess();
    try {
      ok(repo, ['hooks', 'install']);
      git(repo, 'config', 'handoff.reservations', 'block');
      expect(
        ok(repo, ['reserve', 'docs/', '-x', '--pid', String(p.pid), '--json'], { agent: 'claude' }).json.patterns,
      ).toEqual(['docs']);
      expect(ok(repo, ['release', '--paths', 'docs', '--json'], { agent: 'claude' }).json.released).toEqual(['docs']);
      expect(ok(repo, ['reservations', '--json']).json.reservations).toEqual([]);
      const commits = (file: string) => {
        fs.appendFileSync(path.join(repo, file), 'x\n');
        git(repo, 'add', file);
        const r = spawnSync('git', ['commit', '-qm', `edit ${file}`], {
          cwd: repo,
          env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
          encoding: 'utf8',
        });
        if (r.status !== 0) git(repo, 'reset', '-q', '--hard');
        return r.status === 0;
      };
      ok(repo, ['reserve', '*.md', '-x', '--pid', String(p.pid)], { agent: 'claude' });
      expect([commits('README.md'), commits('docs/api.md')]).toEqual([false, false]);
      ok(repo, ['release', '--paths'], { agent: 'claude' });
      ok(repo, ['reserve', 'README.md', '-x', '--pid', String(p.pid)], { agent: 'claude' });
      expect([commits('README.md'), commits('docs/README.md')]).toEqual([false, true]);
    } finally {
      p.kill();
    }
  });

  it('an any-depth glob held exclusively leaves files it cannot match to others; an empty path is refused', () => {
    const repo = makeRepo({
      files: { 'src/parser.ts': 'p\n', 'docs/a.md': 'd\n', Makefile: 'm\n', 'src/com.example/Foo.java': 'f\n' },
    });
    const p = agentProcess();
    try {
      // A directory whose name has a dot covers what is in it, as the commit check reads it.
      ok(repo, ['reserve', 'src/com.example', '-x', '--pid', String(p.pid)], { agent: 'codex' });
      for (const inside of ['src/com.example/Foo.java', 'src/**/*.java'])
        expect(cli(repo, ['reserve', inside, '-x', '--json'], { agent: 'claude' }).json.error.code).toBe('reserved');
      ok(repo, ['release', '--paths'], { agent: 'codex' });
      ok(repo, ['reserve', '*.md', '-x', '--pid', String(p.pid)], { agent: 'codex' });
      // A file without an extension is a file.
      expect(ok(repo, ['reserve', 'Makefile', '-x', '--json'], { agent: 'claude' }).json.patterns).toEqual([
        'Makefile',
      ]);
      const parser = ok(repo, ['reserve', 'src/parser.ts', '-x', '--pid', String(p.pid), '--json'], {
        agent: 'claude',
      });
      expect(parser.json.patterns).toEqual(['src/parser.ts']);
      expect(parser.stderr).not.toContain('codex');
      // What the glob can match stays refused: a file of it, and a directory that may hold one.
      for (const taken of ['docs/a.md', 'docs'])
        expect(cli(repo, ['reserve', taken, '-x', '--json'], { agent: 'claude' }).json.error.code).toBe('reserved');
      const empty = cli(repo, ['reserve', '', '--json'], { agent: 'claude' });
      expect([empty.status, empty.json.error.code]).toEqual([2, 'usage']);
    } finally {
      p.kill();
    }
  });

  it('two agents in two worktrees reserve overlapping paths exclusively at once: the first holds, the second is refused (exit 4), 6 rounds', async () => {
    const repo = makeRepo({ files: { 'src/x.ts': 'x\n' } });
    const wt = addWorktree(repo, 'b');
    ok(repo, ['hooks', 'install']);
    git(repo, 'config', 'handoff.reservations', 'block');
    const pa = agentProcess();
    const pb = agentProcess();
    try {
      for (let round = 0; round < 6; round++) {
        const [a, b] = await Promise.all([
          cliAsync(repo, ['reserve', 'src/x.ts', '-x', '--pid', String(pa.pid), '--json'], { agent: 'a' }).done,
          cliAsync(wt, ['reserve', 'src/**', '-x', '--pid', String(pb.pid), '--json'], { agent: 'b' }).done,
        ]);
        expect([a.status, b.status].sort()).toEqual([0, 4]);
        const [won, lost] = a.status === 0 ? ['a', 'b'] : ['b', 'a'];
        const refused = (a.status === 4 ? a : b).json as any;
        expect(refused.error.code).toBe('reserved');
        expect(refused.error.details.holder.agent).toBe(won);
        const held = ok(repo, ['reservations', '--json']).json.reservations;
        expect(held.map((r: any) => [r.agent, r.exclusive])).toEqual([[won, true]]);
        // The holder commits in block mode; the other is refused.
        const commit = (agent: string, dir: string) => {
          fs.appendFileSync(path.join(dir, 'src/x.ts'), `${agent} ${round}\n`);
          git(dir, 'add', 'src/x.ts');
          return spawnSync('git', ['commit', '-qm', `${agent} ${round}`], {
            cwd: dir,
            env: cleanEnv({ HANDOFF_AGENT: agent }),
            encoding: 'utf8',
          });
        };
        const dirOf = (agent: string) => (agent === 'a' ? repo : wt);
        expect(commit(won, dirOf(won)).status).toBe(0);
        expect(commit(lost, dirOf(lost)).status).not.toBe(0);
        git(dirOf(lost), 'reset', '-q', '--hard');
        ok(dirOf(won), ['release', '--paths'], { agent: won });
      }
    } finally {
      pa.kill();
      pb.kill();
    }
  });

  it('two clones that reserved one file exclusively before they synced: the earlier reservation holds it in both', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    for (const c of [a, b]) {
      ok(c, ['hooks', 'install']);
      git(c, 'config', 'handoff.reservations', 'block');
    }
    const pa = agentProcess();
    const pb = agentProcess();
    try {
      ok(a, ['reserve', 'README.md', '-x', '--pid', String(pa.pid)], { agent: 'a' });
      ok(b, ['reserve', '*.md', '-x', '--pid', String(pb.pid)], { agent: 'b' });
      ok(a, ['sync']);
      ok(b, ['sync']);
      ok(a, ['sync']);
      for (const c of [a, b])
        expect(ok(c, ['reservations', '--json']).json.reservations.map((r: any) => r.agent)).toEqual(['a', 'b']);
      // b learns it at its next inbox, once; a, whose reservation came first, is told nothing.
      const notices = (dir: string, agent: string) =>
        ok(dir, ['inbox', '--json'], { agent }).json.notices.filter((n: string) => n.includes('reservation'));
      expect(notices(b, 'b')).toEqual([
        "your exclusive reservation of *.md overlaps a's of README.md, made first (in another clone, before the two synced): the paths both name are a's, and your commits into them are warned of or refused.",
      ]);
      expect(notices(b, 'b')).toEqual([]);
      expect(notices(a, 'a')).toEqual([]);
      const commit = (agent: string, dir: string) => {
        fs.appendFileSync(path.join(dir, 'README.md'), `${agent}\n`);
        git(dir, 'add', 'README.md');
        return spawnSync('git', ['commit', '-qm', agent], {
          cwd: dir,
          env: cleanEnv({ HANDOFF_AGENT: agent }),
          encoding: 'utf8',
        });
      };
      expect(commit('a', a).status).toBe(0);
      const refused = commit('b', b);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('README.md is reserved exclusively by a');
    } finally {
      pa.kill();
      pb.kill();
    }
  });

  it('a commit touching an exclusive reservation warns, block mode refuses, and a broken ledger never blocks', () => {
    const repo = makeRepo({ files: { 'src/parser/lex.ts': 'a\n', 'src/other.ts': 'b\n' } });
    ok(repo, ['hooks', 'install']);
    const p = agentProcess();
    try {
      const r = ok(
        repo,
        ['reserve', 'src/parser/**', '--exclusive', '-m', 'rewriting the lexer', '--pid', String(p.pid), '--json'],
        { agent: 'claude' },
      ).json;
      expect(r).toMatchObject({ patterns: ['src/parser/**'], exclusive: true, conflicts: [] });
      expect(ok(repo, ['reservations', '--json']).json.reservations).toMatchObject([
        { agent: 'claude', pattern: 'src/parser/**', liveness: 'live' },
      ]);
      const commit = (agent: string, file: string, env: Record<string, string> = {}) => {
        fs.appendFileSync(path.join(repo, file), 'x\n');
        git(repo, 'add', file);
        return spawnSync('git', ['commit', '-qm', `change ${file}`], {
          cwd: repo,
          env: cleanEnv({ HANDOFF_AGENT: agent, ...env }),
          encoding: 'utf8',
        });
      };
      // Another agent's commit: warned, made.
      const warned = commit('codex', 'src/parser/lex.ts');
      expect(warned.status).toBe(0);
      expect(warned.stderr).toContain('src/parser/lex.ts is reserved exclusively by claude (rewriting the lexer)');
      // Outside the reservation, or by the holder: nothing said.
      expect(commit('codex', 'src/other.ts').stderr).not.toContain('reserved');
      expect(commit('claude', 'src/parser/lex.ts').stderr).not.toContain('reserved');
      // Block mode refuses another agent's commit.
      git(repo, 'config', 'handoff.reservations', 'block');
      const head = git(repo, 'rev-parse', 'HEAD');
      const refused = commit('codex', 'src/parser/lex.ts');
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('commit refused');
      expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
      // A broken ledger never blocks: ledger.db replaced by a directory.
      const db = path.join(commonDir(repo), 'handoff', 'ledger.db');
      fs.renameSync(db, `${db}.bak`);
      fs.mkdirSync(db);
      const broken = commit('codex', 'src/parser/lex.ts');
      expect(broken.status).toBe(0);
      // (the hook moved the unusable entry aside and started a fresh ledger; put the real one back)
      fs.rmSync(db, { recursive: true, force: true });
      fs.renameSync(`${db}.bak`, db);
      git(repo, 'config', '--unset', 'handoff.reservations');
      // send --attach-diff warns when the diff touches the reservation.
      fs.appendFileSync(path.join(repo, 'src/parser/lex.ts'), 'y\n');
      const sent = ok(repo, ['send', 'claude', 'have a look', '--attach-diff', '--create', '--json'], {
        agent: 'codex',
      }).json;
      expect(sent.notices.join(' ')).toContain('src/parser/lex.ts (claude: rewriting the lexer)');
      // Released: no more warning, and no node start in the hook (the marker is gone).
      ok(repo, ['release', '--paths'], { agent: 'claude' });
      expect(fs.existsSync(path.join(commonDir(repo), 'handoff', 'reservations'))).toBe(false);
      expect(commit('codex', 'src/parser/lex.ts').stderr).not.toContain('reserved');
    } finally {
      p.kill();
    }
  });
});

describe('status and search', () => {
  it('status notes show in agents; search ranks, filters, takes phrases and prefixes, and survives rebuild', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['status', '-m', 'rewriting the parser'], { agent: 'codex' });
    // Without -m, status shows the note and writes nothing (no event, no new agent).
    const events = chainEvents(repo).length;
    expect(ok(repo, ['status', '--json'], { agent: 'codex' }).json).toEqual({
      agent: 'codex',
      note: 'rewriting the parser',
      changed: false,
    });
    expect(ok(repo, ['status'], { agent: 'newbie' }).stdout).toMatch(/^newbie: no status note/);
    expect(chainEvents(repo).length).toBe(events);
    expect(ok(repo, ['agents', '--json']).json.agents.map((a: { name: string }) => a.name)).not.toContain('newbie');
    expect(cli(repo, ['status', '-m', 'x', '--clear'], { agent: 'codex' }).status).toBe(2);
    const agents = ok(repo, ['agents', '--json']).json.agents;
    expect(agents.find((a: { name: string }) => a.name === 'codex')).toMatchObject({
      note: 'rewriting the parser',
      presence: 'idle',
    });
    const bodies = [
      'the tokenizer drops the last token; the tokenizer must keep it, tokenizer tests fail',
      'please look at the tokenizer when you can',
      'deploy the docs site',
      'an off by one error in the lexer',
      'the error is one off by the lexer',
    ];
    const ids = bodies.map(
      (b, i) =>
        ok(repo, ['send', 'codex', b, '--json'], { agent: i % 2 ? 'lead' : 'claude' }).json.message.id as string,
    );
    const hits = (args: string[]) => ok(repo, ['search', ...args, '--json']).json.hits.map((h: { id: string }) => h.id);
    expect(hits(['tokenizer'])).toEqual([ids[0], ids[1]]);
    expect(hits(['"off by one"'])).toEqual([ids[3]]);
    expect(hits(['off', 'one'])).toEqual(expect.arrayContaining([ids[3], ids[4]]));
    expect(hits(['tok*'])).toEqual([ids[0], ids[1]]);
    expect(hits(['tokenizer', '--from', 'lead'])).toEqual([ids[1]]);
    expect(hits(['"unbalanced'])).toEqual([]);
    const snippet = ok(repo, ['search', 'docs', '--json']).json.hits[0].snippet;
    expect(snippet).toContain('**docs**');
    // Replies carry their thread's subject for ranking; one that matches by the subject alone is not a
    // hit (its thread's first message is), and one whose body matches shows its body.
    const plain = ok(repo, ['reply', ids[2]!, 'CJ0MNJF', '--json'], { agent: 'codex' }).json.message.id;
    const real = ok(repo, ['reply', ids[2]!, 'the docs build is green', '--json'], { agent: 'codex' }).json.message.id;
    const found = ok(repo, ['search', 'docs', '--json']).json.hits;
    expect(found.map((h: { id: string }) => h.id).sort()).toEqual([ids[2], real].sort());
    expect(found.map((h: { id: string }) => h.id)).not.toContain(plain);
    expect(found.find((h: { id: string }) => h.id === real).snippet).toContain('build is green');
    ok(repo, ['rebuild']);
    expect(hits(['tokenizer'])).toEqual([ids[0], ids[1]]);
  });

  it('search indexes what arrived since it last ran: sends, a sync, a rebuild, a database of the previous schema; each once', () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['hooks', 'install']);
    ok(a, ['sync', '--setup']);
    ok(b, ['sync', '--setup']);
    ok(a, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(a, 'lexer.ts'), 'export const lexer = 1;\n');
    const req = ok(a, ['send', 'codex', 'port the lexer to rust\nwith its tests', '--attach-diff', '--json'], {
      agent: 'lead',
    }).json.message.id;
    const reply = ok(a, ['reply', req, 'started on the tokens', '--json'], { agent: 'codex' }).json.message.id;
    const done = ok(a, ['done', req, '-m', 'ported the zebra tables', '--json'], { agent: 'codex' }).json.event;
    fs.writeFileSync(path.join(a, 'lexer.ts'), 'export const lexer = 2;\n');
    git(a, 'add', 'lexer.ts');
    const commit = spawnSync('git', ['commit', '-qm', 'quagga: lexer in rust'], {
      cwd: a,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(commit.status, commit.stderr).toBe(0);
    const sha = git(a, 'rev-parse', 'HEAD');
    const hits = (dir: string, q: string) =>
      ok(dir, ['search', q, '--json']).json.hits.map((h: { kind: string; id: string }) =>
        h.kind === 'commit' ? `commit ${h.id}` : `message ${h.id}`,
      );
    // Found in the clone that wrote them: the request (not the reply and the outcome, which carry its
    // subject only), the diff and the commit by the file's name.
    expect(hits(a, 'rust').sort()).toEqual([`message ${req}`, `commit ${sha}`].sort());
    expect(hits(a, 'tokens')).toEqual([`message ${reply}`]);
    expect(hits(a, 'lexer.ts').sort()).toEqual([`message ${req}`, `commit ${sha}`].sort());
    // A review verdict reaches the handoff's author as a message: it is found like one, by its kind too.
    const verdict = ok(a, ['review', req, '--request-changes', '-m', 'the okapi case is missing', '--json'], {
      agent: 'codex',
    }).json.verdict.id;
    expect(hits(a, 'okapi')).toEqual([`message ${verdict}`]);
    expect(ok(a, ['search', 'okapi', '--kind', 'review_response', '--json']).json.hits.map((h: any) => h.id)).toEqual([
      verdict,
    ]);
    // An index made before verdicts were in it (no search_format) is made again, each document once.
    const old = new Database(path.join(commonDir(a), 'handoff', 'ledger.db'));
    old.prepare('DELETE FROM search WHERE ref = ?').run(verdict);
    old.prepare("DELETE FROM settings WHERE key = 'search_format'").run();
    old.close();
    expect(hits(a, 'okapi')).toEqual([`message ${verdict}`]);
    expect(hits(a, 'rust').sort()).toEqual([`message ${req}`, `commit ${sha}`].sort());
    expect(hits(a, 'zebra')).toEqual([`message ${done}`]);
    expect(hits(a, 'quagga')).toEqual([`commit ${sha}`]);
    // Sent after the last search: found by the next one, once.
    const later = ok(a, ['send', 'codex', 'the zebra tables again', '--json'], { agent: 'lead' }).json.message.id;
    expect(hits(a, 'zebra').sort()).toEqual([`message ${later}`, `message ${done}`].sort());
    expect(hits(a, 'zebra').sort()).toEqual([`message ${later}`, `message ${done}`].sort());
    // The other clone, after a sync and after a rebuild, finds the same.
    ok(a, ['sync']);
    ok(b, ['sync']);
    const words = ['rust', 'lexer.ts', 'zebra', 'quagga', 'okapi'];
    const all = words.map((q) => hits(a, q).sort());
    expect(words.map((q) => hits(b, q).sort())).toEqual(all);
    ok(b, ['rebuild']);
    expect(words.map((q) => hits(b, q).sort())).toEqual(all);
    // A database of schema 5 held every event in its index already: brought to schema 6, nothing is
    // indexed twice.
    const db = new Database(path.join(commonDir(b), 'handoff', 'ledger.db'));
    db.pragma('user_version = 5');
    db.prepare("DELETE FROM settings WHERE key IN ('search_indexed_seq', 'search_indexed_rowid')").run();
    db.close();
    expect(words.map((q) => hits(b, q).sort())).toEqual(all);
    const after = new Database(path.join(commonDir(b), 'handoff', 'ledger.db'), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(7);
    after.close();
  });

  it('search does not index again what a process of the previous schema, still running, indexed itself', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const first = ok(repo, ['send', 'codex', 'the walrus plan', '--json'], { agent: 'lead' }).json.message.id;
    expect(ok(repo, ['search', 'walrus', '--json']).json.hits.map((h: any) => h.id)).toEqual([first]);
    const second = ok(repo, ['send', 'codex', 'the walrus again', '--json'], { agent: 'lead' }).json.message.id;
    // What such a process does as it writes an event: its row in the index, at once.
    const file = path.join(commonDir(repo), 'handoff', 'ledger.db');
    const db = new Database(file);
    db.prepare(
      'INSERT INTO search (body, subject, files, kind, ref, thread, author, ts, clock) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run('the walrus again', 'the walrus again', '', 'request', second, second, 'lead', new Date().toISOString(), 1);
    db.close();
    const third = ok(repo, ['send', 'codex', 'a third walrus', '--json'], { agent: 'lead' }).json.message.id;
    const ids = ok(repo, ['search', 'walrus', '--json']).json.hits.map((h: any) => h.id);
    expect(ids.sort()).toEqual([first, second, third].sort());
    const check = new Database(file, { readonly: true });
    const rows = check.prepare('SELECT ref, count(*) AS n FROM search GROUP BY ref ORDER BY ref').all();
    check.close();
    expect(rows).toEqual([first, second, third].sort().map((ref) => ({ ref, n: 1 })));
  });

  it('finds a phrase among 10,000 messages, best match first', () => {
    const repo = makeRepo();
    // 10,000 messages through the library in one process (what an MCP server does), then search through the CLI.
    const script = `
      const lib = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'lib.js'))});
      const ctx = lib.openContext({ env: { ...process.env, HANDOFF_AGENT: 'lead' } });
      const words = ['parser', 'deploy', 'schema', 'review', 'cache', 'docs', 'release', 'lexer', 'build', 'tests'];
      (async () => {
        const ids = {};
        for (let i = 0; i < 10000; i++) {
          let body = 'item ' + i + ': the ' + words[i % 10] + ' needs work near step ' + (i % 97);
          if (i === 1234) body = 'race condition in the cache: the race condition shows under load, race condition again';
          if (i === 5678) body = 'a race condition in the lexer';
          if (i === 9012) body = 'the condition of the race track';
          const r = await lib.send(ctx, { to: i % 2 ? 'codex' : 'claude', body, create: true });
          if (i === 1234 || i === 5678 || i === 9012) ids[i] = r.message.id;
        }
        console.log(JSON.stringify(ids));
        lib.closeContext(ctx);
      })();`;
    const res = spawnSync(process.execPath, ['-e', script], {
      cwd: repo,
      env: cleanEnv(),
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    expect(res.status, res.stderr).toBe(0);
    const ids = JSON.parse(res.stdout);
    const hits = (args: string[]) => ok(repo, ['search', ...args, '--json']).json.hits.map((h: { id: string }) => h.id);
    // The phrase: the message that says it three times ranks above the one that says it once; the words
    // in another order do not match the phrase.
    expect(hits(['"race condition"'])).toEqual([ids[1234], ids[5678]]);
    expect(hits(['race', 'condition'])).toEqual([ids[1234], ids[5678], ids[9012]]);
    expect(hits(['"race condition"', '--to', 'claude'])).toEqual(
      [ids[1234], ids[5678]].filter((_, i) => [1234, 5678][i]! % 2 === 0),
    );
    expect(hits(['lexer', '--limit', '500'])).toHaveLength(500);
    expect(ok(repo, ['search', 'lexer', '--json']).json.hits).toHaveLength(20);
  });
});

describe('coordination as several agents use it at once', () => {
  it('claim --remote does not overrule a live claim made here; release without --remote frees the remote too', () => {
    const t = team();
    const a = t.clone('a');
    const p = agentProcess();
    try {
      ok(a, ['claim', 'lk1', '--pid', String(p.pid)], { agent: 'dave' });
      const r = cli(a, ['claim', 'lk1', '--remote', 'origin', '--json'], { agent: 'frank' });
      expect([r.status, r.json.error.code, r.json.error.details.holder.agent]).toEqual([4, 'claim_held', 'dave']);
      // Nothing was written on the remote for frank.
      expect(
        spawnSync('git', ['rev-parse', '-q', '--verify', 'refs/handoff/claims/lk1'], { cwd: t.remote }).status,
      ).not.toBe(0);
      // A claim the remote decided, released without --remote: the remote's ref is freed too.
      ok(a, ['claim', 'deploy', '--remote', 'origin', '--pid', String(p.pid)], { agent: 'dave' });
      ok(a, ['release', 'deploy'], { agent: 'dave' });
      expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/deploy:claim.json')).state).toBe('released');
      expect(ok(a, ['claim', 'deploy', '--remote', 'origin', '--json'], { agent: 'erin' }).json.agent).toBe('erin');
    } finally {
      p.kill();
    }
  });

  it('tasks: a request claimed again after it failed is claimed; one done by another agent leaves no claim listed', () => {
    const repo = makeRepo();
    const p = agentProcess();
    try {
      ok(repo, ['join'], { agent: 'bob' });
      const id = ok(repo, ['send', 'bob', 'retry me', '--json'], { agent: 'alice' }).json.message.id;
      ok(repo, ['read', id], { agent: 'bob' });
      ok(repo, ['fail', id, '-m', 'flaky'], { agent: 'bob' });
      ok(repo, ['claim', id, '--pid', String(p.pid)], { agent: 'carol' });
      const open = ok(repo, ['tasks', '--open', '--json']).json.tasks;
      expect(open.map((x: any) => [x.id, x.state, x.claim.agent])).toEqual([[id, 'claimed', 'carol']]);
      expect(ok(repo, ['show', id, '--json']).json.task).toEqual({ state: 'claimed', by: 'carol' });
      // bob gave it up and carol holds it: bob's next commits do not guess it.
      expect(ok(repo, ['work-on', '--auto', '--json'], { agent: 'bob' }).json.message).toBeNull();
      // alice closes it while carol holds it: the claim is over (claims --all still shows it).
      ok(repo, ['done', id, '-m', 'fixed upstream'], { agent: 'alice' });
      expect(ok(repo, ['claims', '--json']).json.claims).toEqual([]);
      expect(ok(repo, ['claims', '--all', '--json']).json.claims.map((c: any) => c.key)).toEqual([id]);
      expect(ok(repo, ['tasks', '--json']).json.tasks.map((x: any) => x.state)).toEqual(['done']);
      // Claims are for requests: a note or a status line is refused like an outcome on it.
      const note = ok(repo, ['send', 'bob', 'fyi', '--kind', 'note', '--json'], { agent: 'alice' }).json.message.id;
      const c = cli(repo, ['claim', note, '--json'], { agent: 'bob' });
      expect([c.status, c.json.error.code]).toEqual([2, 'not_a_request']);
    } finally {
      p.kill();
    }
  });

  it('the "until" of a held claim is the lease as renewed by activity, never a time already past', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    ok(repo, ['claim', 'k', '--ttl', '60'], { agent: 'bob', env: { HANDOFF_CLOCK_OFFSET_MS: '-50000' } });
    // 50 s later (now), bob is active: the lease runs to now + 60 s, not to the claim's first expiry.
    ok(repo, ['status', '-m', 'lunch'], { agent: 'bob' });
    const r = cli(repo, ['claim', 'k', '--json'], { agent: 'carol' });
    expect(r.status).toBe(4);
    const until = Date.parse(r.json.error.details.holder.expires);
    expect(until).toBeGreaterThan(Date.now() + 30_000);
    expect(r.json.error.message).toContain(`until ${r.json.error.details.holder.expires}`);
  });

  it('release of several keys releases none when one is not held; release --paths of a path not reserved exits 3', () => {
    const repo = makeRepo();
    ok(repo, ['claim', 'k1'], { agent: 'bob' });
    ok(repo, ['claim', 'k2'], { agent: 'bob' });
    const r = cli(repo, ['release', 'k1', 'nope', 'k2', '--json'], { agent: 'bob' });
    expect([r.status, r.json.error.code]).toEqual([3, 'not_claimed']);
    expect(ok(repo, ['claims', '--mine', '--json'], { agent: 'bob' }).json.claims.map((c: any) => c.key)).toEqual([
      'k1',
      'k2',
    ]);
    // The same key twice is one release.
    expect(
      ok(repo, ['release', 'k1', 'k1', 'k2', '--json'], { agent: 'bob' }).json.claims.map((c: any) => c.key),
    ).toEqual(['k1', 'k2']);
    ok(repo, ['reserve', 'src/a.ts'], { agent: 'alice' });
    const p = cli(repo, ['release', '--paths', 'src/a.ts', '--json'], { agent: 'bob' });
    expect([p.status, p.json.error.code]).toEqual([3, 'not_reserved']);
    expect(ok(repo, ['reservations', '--json']).json.reservations.map((x: any) => x.agent)).toEqual(['alice']);
    // With no path, releasing none is not an error.
    expect(ok(repo, ['release', '--paths', '--json'], { agent: 'bob' }).json.released).toEqual([]);
  });

  it('overlapping exclusive globs: the second is refused though neither matches the other as a path', () => {
    const repo = makeRepo();
    ok(repo, ['reserve', 'g/*.ts', '-x'], { agent: 'alice' });
    for (const glob of ['g/a.*', 'g/[ab].ts', '*.ts', 'g/{a,b}.ts']) {
      const r = cli(repo, ['reserve', glob, '-x', '--json'], { agent: 'bob' });
      expect([glob, r.status, r.json.error?.code]).toEqual([glob, 4, 'reserved']);
    }
    // Disjoint ones are granted.
    for (const glob of ['g/*.js', 'h/a.ts', 'g/sub/*.ts'])
      expect([glob, cli(repo, ['reserve', glob, '-x'], { agent: 'bob' }).status]).toEqual([glob, 0]);
  });

  it('join keeps team and role unless given (an empty one clears); @team from its only member says so', () => {
    const repo = makeRepo();
    ok(repo, ['join', '--team', 'core', '--role', 'reviewer'], { agent: 'gina' });
    for (const args of [['join'], ['leave'], ['join'], ['join', '--role', 'lead']]) ok(repo, args, { agent: 'gina' });
    const gina = () => ok(repo, ['agents', '--json']).json.agents.find((a: any) => a.name === 'gina');
    expect([gina().team, gina().role]).toEqual(['core', 'lead']);
    ok(repo, ['join', '--team', ''], { agent: 'gina' });
    expect([gina().team, gina().role]).toEqual([null, 'lead']);
    ok(repo, ['join', '--team', 'ops'], { agent: 'hank' });
    const r = cli(repo, ['send', '@ops', 'hi', '--json'], { agent: 'hank' });
    expect([r.status, r.json.error.code]).toEqual([3, 'no_recipients']);
    expect(r.json.error.message).toContain('hank is the only agent in @ops');
  });

  it('work-on --auto goes back to the newest request read; -n 0 lists all in tasks and search', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const ids = ['req A', 'req B', 'req C'].map(
      (b) => ok(repo, ['send', 'bob', b, '--json'], { agent: 'alice' }).json.message.id as string,
    );
    ok(repo, ['read', ids[0]!, ids[1]!], { agent: 'bob' });
    ok(repo, ['work-on', ids[2]!], { agent: 'bob' });
    const auto = ok(repo, ['work-on', '--auto', '--json'], { agent: 'bob' }).json;
    expect([auto.message, auto.mode]).toEqual([ids[1], 'auto']);
    expect(ok(repo, ['tasks', '-n', '0', '--json']).json.tasks).toHaveLength(3);
    expect(ok(repo, ['search', 'req', '-n', '0', '--json']).json.hits).toHaveLength(3);
    expect(ok(repo, ['search', 'req', '-n', '1', '--json']).json.hits).toHaveLength(1);
    expect(cli(repo, ['tasks', '-n', '-1', '--json']).status).toBe(2);
  });
});

describe('claims a remote decided', () => {
  it("a remote's lease, renewed only by claiming, decides for both: the one it gave the key to holds it in the ledger too", () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['claim', 't1', '--remote', 'origin', '--ttl', '60'], { agent: 'bob' });
    // bob is active at +120 s (its lease in the ledger runs on); the remote's ran out at +60 s.
    ok(a, ['status', '-m', 'still here'], { agent: 'bob', env: { HANDOFF_CLOCK_OFFSET_MS: '120000' } });
    const won = ok(a, ['claim', 't1', '--remote', 'origin', '--json'], {
      agent: 'alice',
      env: { HANDOFF_CLOCK_OFFSET_MS: '130000' },
    }).json;
    expect([won.action, won.reclaimed.from]).toEqual(['reclaimed', 'bob']);
    expect(JSON.parse(git(t.remote, 'show', 'refs/handoff/claims/t1:claim.json')).agent).toBe('alice');
    const held = ok(a, ['claims', '--json'], { env: { HANDOFF_CLOCK_OFFSET_MS: '131000' } }).json.claims;
    expect(held.map((c: any) => [c.key, c.holder.agent])).toEqual([['t1', 'alice']]);
  });
});
