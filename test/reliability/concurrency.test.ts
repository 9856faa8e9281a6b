import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, cleanEnv, cli, commonDir, makeRepo, ok } from '../helpers/repo';
import { stores, writer } from '../helpers/writers';

describe('concurrent writers', () => {
  it('16 processes x 50 sends: 800 in SQLite and 800 in git, none twice', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const runs = await Promise.all(
      Array.from({ length: 16 }, (_, w) => writer(repo, [`w${w}`, 'sink', '50', `w${w}`])),
    );
    const acked = runs.flatMap((r) => r.acked);
    expect(acked).toHaveLength(800);
    const { sqlite, git } = stores(repo, 'sink');
    expect(sqlite).toHaveLength(800);
    expect(new Set(sqlite).size).toBe(800);
    expect(git).toHaveLength(800);
    expect(new Set(git).size).toBe(800);
    expect(new Set(sqlite)).toEqual(new Set(acked));
    expect(new Set(git)).toEqual(new Set(acked));
    // One chain, linear: every event commit's first parent is the previous one (no lost update).
    expect(cli(repo, ['whoami', '--json'], { agent: 'sink' }).json.unread).toBe(800);
  });

  it('16 CLI processes sending at once all land exactly once', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const sends = Array.from(
      { length: 16 },
      (_, i) =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, [BIN, 'send', 'sink', `cli ${i}`], {
            cwd: repo,
            env: cleanEnv({ HANDOFF_AGENT: `c${i}` }),
          });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('close', (code) =>
            code === 0 ? resolve(out.trim()) : reject(new Error(`send ${i} exited ${code}`)),
          );
        }),
    );
    const ids = await Promise.all(sends);
    const { sqlite, git } = stores(repo, 'sink');
    expect(new Set(sqlite)).toEqual(new Set(ids));
    expect(new Set(git)).toEqual(new Set(ids));
    expect(sqlite).toHaveLength(16);
    expect(git).toHaveLength(16);
  });
});

describe('readers during concurrent writes', () => {
  it('never mistake a chain that moved while they read it for a rewritten one', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    // Every CLI send first indexes what others wrote: 4 loops of sends are readers and writers at once.
    const loop = (w: number) =>
      (async () => {
        const warnings: string[] = [];
        for (let i = 0; i < 40; i++) {
          const err = await new Promise<string>((resolve) => {
            const child = spawn(process.execPath, [BIN, 'send', 'sink', `w${w} ${i}`], {
              cwd: repo,
              env: cleanEnv({ HANDOFF_AGENT: `w${w}` }),
            });
            let e = '';
            child.stderr.on('data', (d) => (e += d));
            child.on('close', () => resolve(e));
          });
          if (err.trim()) warnings.push(err.trim());
        }
        return warnings;
      })();
    const warnings = (await Promise.all([0, 1, 2, 3].map(loop))).flat();
    expect(warnings).toEqual([]);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    expect(ok(repo, ['inbox', '--json'], { agent: 'sink' }).json.unread).toBe(160);
  });
});

describe('git maintenance running during writes', () => {
  it('pack-refs, repack and prune-packed in a loop: 150 sends, no failure, no false rewrite, verify clean', async () => {
    const { openContext, closeContext } = await import('../../src/ops/context');
    const { send } = await import('../../src/ops/send');
    const { join } = await import('../../src/ops/agents');
    const repo = makeRepo();
    const warnings: string[] = [];
    const ctx = openContext({ cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'a' }), warn: (m) => warnings.push(m) });
    join(ctx, {});
    const loop = spawn('sh', ['-c', 'while :; do git pack-refs --all; git repack -d -q; git prune-packed; done'], {
      cwd: repo,
      env: cleanEnv(),
      stdio: 'ignore',
    });
    const failures: string[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        try {
          await send(ctx, { to: 'a', body: `m${i}` });
        } catch (err) {
          failures.push((err as Error).message);
        }
        if (i % 10 === 0) {
          // Another process reading the ledger meanwhile must never see a rewind.
          const r = cli(repo, ['inbox', '--json'], { agent: 'a' });
          if (/rewritten/.test(r.stderr)) failures.push(r.stderr);
        }
      }
    } finally {
      loop.kill('SIGKILL');
      closeContext(ctx);
    }
    expect(failures).toEqual([]);
    expect(warnings.filter((w) => /rewritten/.test(w))).toEqual([]);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    expect(ok(repo, ['inbox', '--json', '-n', '1000'], { agent: 'a' }).json.unread).toBe(150);
  }, 120_000);
});

describe("one agent's readers at once", () => {
  it('each unread message goes to one of them: 3 waits x 4 rounds, 3 read --all; a message held by a reader that is gone goes to the next', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'b' });
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: repo, env: cleanEnv({ HANDOFF_AGENT: 'b' }) });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.on('close', (status) => resolve({ status, stdout }));
      });
    const receipts = () =>
      require('node:child_process')
        .execFileSync('git', ['log', '--format=%s', '--glob=refs/handoff/chains/*'], { cwd: repo, encoding: 'utf8' })
        .split('\n')
        .filter((l: string) => l.startsWith('receipt read by b')).length;
    for (let round = 0; round < 4; round++) {
      // The two that get nothing end at their timeout (exit 5).
      const waits = [0, 1, 2].map(() => run(['wait', '--timeout', '4', '--json']));
      await new Promise((r) => setTimeout(r, 1500));
      const id = ok(repo, ['send', 'b', `hello ${round}`, '--json'], { agent: 'a' }).json.message.id as string;
      const got = (await Promise.all(waits)).filter((w) => w.status === 0);
      expect(got.map((g) => JSON.parse(g.stdout).messages.map((m: any) => m.body))).toEqual([[`hello ${round}`]]);
      expect(JSON.parse(got[0]!.stdout).messages.map((m: any) => m.id)).toEqual([id]);
    }
    expect(receipts()).toBe(4);
    const sent = [1, 2, 3].map((i) => ok(repo, ['send', 'b', `m${i}`, '--json'], { agent: 'a' }).json.message.id);
    const reads = await Promise.all([0, 1, 2].map(() => run(['read', '--all', '--json'])));
    const delivered = reads.flatMap((r) => JSON.parse(r.stdout).messages.map((m: any) => m.id));
    expect(delivered.sort()).toEqual([...sent].sort());
    // A reader that died while it held a message (its file names a pid that is gone): the next reader
    // gets it. One held by a live reader is left to that reader.
    const orphan = ok(repo, ['send', 'b', 'for whoever is left', '--json'], { agent: 'a' }).json.message.id;
    const held = ok(repo, ['send', 'b', 'held by a live reader', '--json'], { agent: 'a' }).json.message.id;
    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const dir = path.join(commonDir(repo), 'handoff', 'delivering', 'b');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, orphan), `${dead.pid} \n`);
      fs.writeFileSync(path.join(dir, held), `${live.pid} \n`);
      const next = await run(['read', '--all', '--json']);
      expect(JSON.parse(next.stdout).messages.map((m: any) => m.id)).toEqual([orphan]);
      expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.messages.map((m: any) => m.id)).toEqual([held]);
    } finally {
      live.kill();
    }
    // Its reader gone, the held one goes to the next reader too.
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.parse((await run(['read', '--all', '--json'])).stdout).messages.map((m: any) => m.id)).toEqual([held]);
    expect(ok(repo, ['inbox', '--json'], { agent: 'b' }).json.messages).toEqual([]);
  });
});
