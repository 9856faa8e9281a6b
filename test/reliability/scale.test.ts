/**
 * The ledger at scale keeps the user's repository healthy: loose objects stay bounded (handoff packs its
 * own), nothing is lost by packing or by git gc, and lists come a page at a time.
 */
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { BIN, cleanEnv, commonDir, git, makeRepo, ok } from '../helpers/repo';
import { team } from '../helpers/clones';

const LIB = JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'lib.js'));

/** A script that sends `n` messages in-process as `agent`; `maintenance: false` leaves every object loose. */
function sender(agent: string, n: number, opts: { maintenance?: boolean; tag?: string } = {}): string {
  return `
    const lib = require(${LIB});
    const ctx = lib.openContext({ env: { ...process.env, HANDOFF_AGENT: ${JSON.stringify(agent)} }, noMaintenance: ${opts.maintenance === false} });
    (async () => {
      for (let i = 0; i < ${n}; i++) await lib.send(ctx, { to: 'codex', body: ${JSON.stringify(opts.tag ?? agent)} + ' ' + i, create: true });
      lib.closeContext(ctx);
    })();`;
}

function run(repo: string, script: string): void {
  const res = spawnSync(process.execPath, ['-e', script], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
  expect(res.status, res.stderr).toBe(0);
}

/** Every indexed event (id, chain, commit, json) and every message with its body, as SQLite holds them. */
function fingerprint(repo: string): string {
  const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'), { readonly: true });
  try {
    const events = db.prepare('SELECT id, chain, commit_id, parent_commit, json FROM events ORDER BY id').all();
    const messages = db.prepare('SELECT id, body FROM messages ORDER BY id').all();
    return JSON.stringify({ events, messages });
  } finally {
    db.close();
  }
}

function countObjects(repo: string): { count: number; packs: number; 'in-pack': number } {
  return Object.fromEntries(
    git(repo, 'count-objects', '-v')
      .split('\n')
      .map((l) => l.split(': '))
      .map(([k, v]) => [k!, Number(v)]),
  ) as { count: number; packs: number; 'in-pack': number };
}

describe('scale', () => {
  it('1,500 events leave few loose objects and a logarithmic number of packs; gc --prune=now loses nothing', () => {
    const repo = makeRepo();
    const script = `
      const lib = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'lib.js'))});
      const ctx = lib.openContext({ env: { ...process.env, HANDOFF_AGENT: 'lead' } });
      (async () => {
        for (let i = 0; i < 1500; i++) await lib.send(ctx, { to: 'codex', body: 'message ' + i, create: true });
        lib.closeContext(ctx);
      })();`;
    const res = spawnSync(process.execPath, ['-e', script], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const counts = countObjects(repo);
    // Without packing: about 4 loose objects per event, 6,000 here. git's auto gc starts near 6,700.
    expect(counts.count).toBeLessThan(2000);
    expect(counts.packs).toBeGreaterThanOrEqual(1);
    expect(counts.packs).toBeLessThanOrEqual(12);
    expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: repo, env: cleanEnv() }).status).toBe(0);
    const inboxAll = () => ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json.messages.length;
    expect(inboxAll()).toBe(1500);
    git(repo, 'gc', '-q', '--prune=now');
    const v = ok(repo, ['verify', '--json']).json;
    expect([v.ok, v.events >= 1500]).toEqual([true, true]);
    ok(repo, ['rebuild']);
    expect(inboxAll()).toBe(1500);
  });

  it('a writer that goes on appending writes packs, not loose objects, and leaves no superseded copy', () => {
    const repo = makeRepo();
    const before = countObjects(repo);
    run(repo, sender('lead', 300));
    const counts = countObjects(repo);
    // Only the first appends of a process go loose (a CLI command appends once or twice).
    expect(counts.count - before.count).toBeLessThanOrEqual(16);
    // Its two packs (the large one, holding what filled the small one, and the small one), nothing else:
    // every object is in exactly one pack, so each rewritten pack's previous copy was removed.
    const packDir = path.join(commonDir(repo), 'objects', 'pack');
    const idx = fs.readdirSync(packDir).filter((n) => n.endsWith('.idx'));
    expect(idx).toHaveLength(2);
    const listed = idx.flatMap((n) =>
      spawnSync('git', ['show-index'], { input: fs.readFileSync(path.join(packDir, n)), encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .map((l) => l.split(' ')[1]),
    );
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed.length).toBe(counts['in-pack']);
    expect(spawnSync('git', ['fsck', '--strict', '--no-progress'], { cwd: repo }).status).toBe(0);
    const v = ok(repo, ['verify', '--json']).json;
    expect([v.ok, v.events]).toEqual([true, 300]);
    // Every commit the chain names is readable by git, through the packs alone.
    const tip = git(repo, 'for-each-ref', '--format=%(objectname)', 'refs/handoff/chains/');
    expect(git(repo, 'rev-list', '--count', tip)).toBe('300');
  });

  it("a pack being written is never named like one git reads (a kill mid-write must not leave a bad '*.idx')", () => {
    const repo = makeRepo();
    // Every file this writer creates in objects/pack, in order, recorded by a preloaded wrapper of fs.
    const log = path.join(commonDir(repo), 'pack-writes.log');
    const preload = path.join(commonDir(repo), 'record-pack-writes.js');
    fs.writeFileSync(
      preload,
      `const fs = require('node:fs');
const write = fs.writeFileSync;
fs.writeFileSync = function (file, ...rest) {
  if (typeof file === 'string' && file.includes('/objects/pack/')) fs.appendFileSync(${JSON.stringify(log)}, file.split('/').pop() + '\\n');
  return write.call(this, file, ...rest);
};`,
    );
    const r = spawnSync(process.execPath, ['-r', preload, '-e', sender('lead', 200)], {
      cwd: repo,
      env: cleanEnv({}),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const written = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(written.length).toBeGreaterThan(10);
    for (const name of written) expect(name, name).not.toMatch(/\.(idx|pack)$/);
    expect(spawnSync('git', ['fsck', '--strict', '--no-progress'], { cwd: repo }).status).toBe(0);
  });

  it('while git gc runs (its gc.pid), a writer leaves every pack alone and writes loose objects', () => {
    const repo = makeRepo();
    run(repo, sender('lead', 40));
    const packDir = path.join(commonDir(repo), 'objects', 'pack');
    const packs = () => fs.readdirSync(packDir).sort();
    const held = packs();
    const loose = countObjects(repo).count;
    // A gc in progress, as git writes it: "<pid> <host>", this test's own (live) process.
    const gcPid = path.join(commonDir(repo), 'gc.pid');
    fs.writeFileSync(gcPid, `${process.pid} ${os.hostname()}`);
    run(repo, sender('lead', 20, { tag: 'during' }));
    expect(packs()).toEqual(held);
    expect(countObjects(repo).count).toBeGreaterThanOrEqual(loose + 20 * 4);
    // A gc.pid whose process is gone is stale (git's rule too): packs are written again.
    fs.writeFileSync(gcPid, `999999 ${os.hostname()}`);
    const loose2 = countObjects(repo).count;
    run(repo, sender('lead', 20, { tag: 'after' }));
    expect(countObjects(repo).count - loose2).toBeLessThanOrEqual(16);
    expect(packs()).not.toEqual(held);
    expect(spawnSync('git', ['fsck', '--strict', '--no-progress'], { cwd: repo }).status).toBe(0);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
  });

  it('inbox lists 50 at a time and says how many more there are', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    // Sent in one process (the paging is what is tested here; CLI sends are tested everywhere else).
    run(repo, sender('lead', 55, { tag: 'm' }));
    const page = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json;
    expect([page.messages.length, page.more, page.unread]).toEqual([50, 5, 55]);
    expect(page.messages[0].body).toBe('m 0');
    expect(ok(repo, ['inbox'], { agent: 'codex' }).stdout).toContain(
      '... and 5 more (handoff inbox --limit 0 lists them all).',
    );
    const few = ok(repo, ['inbox', '-n', '3', '--json'], { agent: 'codex' }).json;
    expect([few.messages.map((m: { body: string }) => m.body), few.more]).toEqual([['m 0', 'm 1', 'm 2'], 52]);
    expect(ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json).toMatchObject({ more: 0 });
    expect(ok(repo, ['inbox', '--limit', '0', '--json'], { agent: 'codex' }).json.messages).toHaveLength(55);
  });

  it('a ledger of packed and loose objects mixed, from two clones, verifies, rebuilds and syncs identically', async () => {
    const t = team();
    const a = t.clone('a');
    const b = t.clone('b');
    ok(a, ['sync', '--setup']);
    ok(b, ['sync', '--setup']);
    // Clone b: 150 events, synced into a. Clone a: 200 events packed by git, then 200 loose.
    run(b, sender('tester', 150, { maintenance: false }));
    ok(b, ['sync']);
    run(a, sender('lead', 200, { maintenance: false }));
    ok(a, ['sync']);
    git(a, 'repack', '-q', '-d');
    run(a, sender('lead', 200, { maintenance: false, tag: 'later' }));
    const counts = countObjects(a);
    expect(counts.count).toBeGreaterThan(500); // loose
    expect(counts['in-pack']).toBeGreaterThan(500); // and packed
    const before = fingerprint(a);
    expect(JSON.parse(before).messages).toHaveLength(550);
    const v = ok(a, ['verify', '--json']).json;
    expect([v.ok, v.events]).toEqual([true, JSON.parse(before).events.length]);
    ok(a, ['rebuild']);
    expect(fingerprint(a)).toBe(before);
    // A fresh clone's sync streams the same events into the same rows.
    ok(a, ['sync']);
    expect(fingerprint(a)).toBe(before);
    const c = t.clone('c');
    ok(c, ['sync']);
    expect(fingerprint(c)).toBe(before);
  });

  it("the user's git gc while events are being written loses nothing; verify and rebuild agree", async () => {
    const repo = makeRepo();
    const child = spawn(process.execPath, ['-e', sender('lead', 600)], { cwd: repo, env: cleanEnv(), stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    let gcs = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const gc = spawnSync('git', ['gc', '-q'], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
      expect(gc.status, gc.stderr).toBe(0);
      gcs++;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exited, stderr).toBe(0);
    expect(gcs).toBeGreaterThanOrEqual(2);
    expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: repo, env: cleanEnv() }).status).toBe(0);
    ok(repo, ['inbox']); // indexes anything a concurrent gc kept from being indexed at once
    const before = fingerprint(repo);
    expect(JSON.parse(before).messages).toHaveLength(600);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    ok(repo, ['rebuild']);
    expect(fingerprint(repo)).toBe(before);
  });

  it('replay streams: chunk after chunk, in the same order as --json, with commits in place; | head ends it early', () => {
    const repo = makeRepo();
    ok(repo, ['hooks', 'install']);
    run(repo, sender('lead', 300));
    fs.appendFileSync(path.join(repo, 'README.md'), 'middle\n');
    const c = spawnSync('git', ['commit', '-qam', 'in the middle'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
    });
    expect(c.status).toBe(0);
    run(repo, sender('lead', 300, { tag: 'later' }));
    const json = ok(repo, ['replay', '--json']).json.items;
    expect(json).toHaveLength(601);
    const firstLines = ok(repo, ['replay'])
      .stdout.split('\n\n')
      .map((block) => block.split('\n')[0]!);
    expect(firstLines).toHaveLength(601);
    firstLines.forEach((line, i) => {
      const it = json[i];
      if (it.type === 'commit') expect(line).toContain(`commit ${it.commit.slice(0, 10)}`);
      else expect(line).toContain(it.message.shortId);
    });
    expect(firstLines[300]).toMatch(/commit .* in the middle/);
    const head = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" replay | head -2`], {
      cwd: repo,
      env: cleanEnv(),
      encoding: 'utf8',
    });
    expect([head.status, head.stdout.split('\n').length, head.stderr]).toEqual([0, 3, '']);
  });
});
