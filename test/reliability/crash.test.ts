import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainEvents, cleanEnv, cli, cliAsync, commonDir, git, makeRepo, ok } from '../helpers/repo';
import { stores, writer } from '../helpers/writers';
import { damagePages } from '../helpers/damage';
import { appendToChain } from '../../src/git/ledger-format';
import { findRepo } from '../../src/git/repo';
import { packIfMany } from '../../src/git/maintenance';
import { removeDeadMarks } from '../../src/git/refs';

const dbFile = (repo: string) => path.join(commonDir(repo), 'handoff', 'ledger.db');

/** Checks that SQLite and git hold the same messages and that no event is half there. */
function expectConsistent(repo: string, agent: string, acked: string[]) {
  const { sqlite, git: inGit } = stores(repo, agent);
  expect(new Set(sqlite).size).toBe(sqlite.length);
  expect(new Set(inGit).size).toBe(inGit.length);
  expect(new Set(sqlite)).toEqual(new Set(inGit));
  for (const id of acked) {
    expect(sqlite).toContain(id);
    expect(inGit).toContain(id);
  }
  // No half-written event: every message indexed has its body and its recipient row.
  const db = new Database(dbFile(repo), { readonly: true });
  try {
    const orphans = db
      .prepare(
        'SELECT count(*) AS n FROM messages m WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id)',
      )
      .get() as { n: number };
    expect(orphans.n).toBe(0);
    const events = db.prepare("SELECT count(*) AS n FROM events WHERE type = 'message'").get() as { n: number };
    expect(events.n).toBe(sqlite.length);
  } finally {
    db.close();
  }
}

describe('kill -9 during sends', () => {
  it('CLI sends killed at random points (40 times): every send that exited 0 is in both stores', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const acked: string[] = [];
    let killed = 0;
    for (let round = 0; round < 10; round++) {
      const batch = Array.from({ length: 4 }, (_, i) => {
        const p = cliAsync(repo, ['send', 'sink', `kill ${round}-${i}`], { agent: `k${i}` });
        // Spread kills over the whole life of a send: start-up, SQLite open, git write, SQLite write.
        const delay = Math.floor(Math.random() * 160);
        setTimeout(() => p.kill('SIGKILL'), delay);
        return p.done;
      });
      for (const r of await Promise.all(batch)) {
        if (r.status === 0) acked.push(r.stdout.trim());
        else killed++;
      }
    }
    expect(killed).toBeGreaterThan(0);
    expectConsistent(repo, 'sink', acked);
    // The chain is intact: every commit on it parses as an event.
    for (const e of chainEvents(repo)) expect(e.event.id).toMatch(/^[0-9A-Z]{26}$/);
    // Scratch files: a killed send may leave its lock mark or its ref value, which packing sweeps; none is
    // left by a send that exited.
    const scratch = path.join(commonDir(repo), 'handoff');
    const left = () => fs.readdirSync(scratch).filter((n) => /^ref-(lock|value)-/.test(n));
    expect(left().length).toBeLessThanOrEqual(killed);
    // A chain ref lock a killed writer held (made here as a killed send leaves it: its mark, linked).
    const chains = path.join(commonDir(repo), 'refs', 'handoff', 'chains');
    const deadLock = path.join(chains, `${fs.readdirSync(chains)[0]}.lock`);
    fs.writeFileSync(deadLock, 'handoff-owner 999999 -\n');
    const foreign = path.join(chains, 'NOT-HANDOFFS.lock');
    fs.writeFileSync(foreign, 'someone else\n');
    removeDeadMarks(commonDir(repo));
    expect(left()).toEqual([]);
    expect(fs.existsSync(deadLock)).toBe(false);
    // A lock handoff did not make is git's or another tool's: left alone.
    expect(fs.existsSync(foreign)).toBe(true);
    fs.rmSync(foreign);
  });

  it("scratch files of a killed writer go also when its pid is reused or its mark was left empty; a live writer's stay", () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    ok(repo, ['send', 'sink', 'one'], { agent: 'a' });
    const scratch = path.join(commonDir(repo), 'handoff');
    // A process that runs now (this test's), named with another start: the pid was reused.
    const me = process.pid;
    const names = {
      reusedValue: `ref-value-${me}-t0.0-1_aaaaaaaa`,
      reusedEmptyMark: `ref-lock-${me}-t0.0-2_bbbbbbbb`,
      deadEmptyMark: `ref-lock-999999-3_cccccccc`,
      deadValue: `ref-value-999999-4_dddddddd`,
      // Live and started when it says: kept.
      liveEmptyMark: `ref-lock-${me}-5_eeeeeeee`,
      liveValue: `ref-value-${me}-6_ffffffff`,
    };
    for (const n of Object.values(names)) fs.writeFileSync(path.join(scratch, n), n.includes('value') ? 'abc\n' : '');
    removeDeadMarks(commonDir(repo));
    const left = fs.readdirSync(scratch).filter((n) => /^ref-(lock|value)-/.test(n));
    expect(left.sort()).toEqual([names.liveEmptyMark, names.liveValue].sort());
    // A send's own files carry its start in their names, and none outlives a send that exited.
    ok(repo, ['send', 'sink', 'two'], { agent: 'a' });
    expect(
      fs
        .readdirSync(scratch)
        .filter((n) => /^ref-(lock|value)-/.test(n))
        .sort(),
    ).toEqual(left.sort());
  });

  it('a long-lived writer killed mid-stream loses no acknowledged message (5 times)', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const runs = await Promise.all([
        writer(repo, [`a${i}`, 'sink', '100000', `a${i}`], 50 + i * 37),
        writer(repo, [`b${i}`, 'sink', '100000', `b${i}`], 80 + i * 23),
      ]);
      for (const r of runs) {
        expect(r.signal).toBe('SIGKILL');
        acked.push(...r.acked);
      }
    }
    expect(acked.length).toBeGreaterThan(10);
    expectConsistent(repo, 'sink', acked);
    // Writers pack their own objects from memory every 128 events: a kill mid-pack leaves at most a
    // temporary file and the lock, which the next packing removes and takes over; what was packed is whole.
    expect(spawnSync('git', ['fsck', '--strict'], { cwd: repo }).status).toBe(0);
    const packDir = path.join(commonDir(repo), 'objects', 'pack');
    fs.writeFileSync(path.join(packDir, 'tmp_handoff_999999_x.pack'), 'half');
    const looseTmp = path.join(commonDir(repo), 'objects', 'ab', 'tmp_obj_handoff_999999_x');
    fs.mkdirSync(path.dirname(looseTmp), { recursive: true });
    fs.writeFileSync(looseTmp, 'half');
    // The pack lock of a packer killed with it held is taken over at once (not after 10 minutes).
    fs.writeFileSync(path.join(commonDir(repo), 'handoff', 'pack.lock'), '999999');
    expect(packIfMany(findRepo(repo), path.join(commonDir(repo), 'handoff'), true)).toBe(true);
    expect(fs.readdirSync(packDir).filter((n) => n.startsWith('tmp_'))).toEqual([]);
    expect(fs.existsSync(looseTmp)).toBe(false);
    expect(spawnSync('git', ['fsck', '--strict'], { cwd: repo }).status).toBe(0);
    expectConsistent(repo, 'sink', acked);
  });

  it('an event in git but not in SQLite (a crash between the two writes) is indexed by the next command', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const cloneId = fs.readFileSync(path.join(commonDir(repo), 'handoff', 'clone-id'), 'utf8').trim();
    // Do only the git half of a send, as a process killed right after it would have.
    const event = {
      v: 1,
      id: '01KZZZZZZZZZZZZZZZZZZZZZZZ',
      type: 'message',
      ts: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
      clock: Math.floor(Date.now() / 1000) * 1000,
      clone: cloneId,
      author: { name: 'ghost', runtime: null, via: 'env' },
      address: 'sink',
      to: ['sink'],
      kind: 'request',
      priority: 'normal',
      thread: '01KZZZZZZZZZZZZZZZZZZZZZZZ',
      reply_to: null,
      body_bytes: 10,
      diff: null,
    } as const;
    appendToChain(findRepo(repo), cloneId, () => ({ event: event as any, payload: { body: 'git only!!' } }));
    const inbox = ok(repo, ['inbox', '--json'], { agent: 'sink' }).json;
    expect(inbox.messages.map((m: any) => [m.id, m.body, m.from])).toEqual([[event.id, 'git only!!', 'ghost']]);
  });
});

describe("a command leaves SQLite's write-ahead log for the next process", () => {
  it('35 CLI sends: each is read by the next process, the log stays near 400 frames, and the database is whole', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const wal = `${dbFile(repo)}-wal`;
    const frames = () => (fs.existsSync(wal) ? Math.max(0, (fs.statSync(wal).size - 32) / (4096 + 24)) : 0);
    const ids: string[] = [];
    let most = 0;
    for (let i = 0; i < 35; i++) {
      ids.push(ok(repo, ['send', 'codex', `note ${i}`, '--json'], { agent: 'lead' }).json.message.id);
      // The next process sees what the last one committed, though it never copied it into the database.
      expect(ok(repo, ['inbox', '--json'], { agent: 'codex' }).json.unread).toBe(i + 1);
      most = Math.max(most, frames());
    }
    // Left in the log, not copied in at exit (which would sync the database and remove the log)...
    expect(frames()).toBeGreaterThan(0);
    // ...and copied in, the log emptied, once it passes 400 frames (35 sends write well past that).
    expect(most).toBeGreaterThan(100);
    expect(most).toBeLessThan(400 + 120);
    const db = new Database(dbFile(repo), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = db.prepare('SELECT id FROM messages ORDER BY id').all() as { id: string }[];
      expect(stored.map((r) => r.id)).toEqual([...ids].sort());
    } finally {
      db.close();
    }
  }, 120_000);
});

describe('a ref lock left by a killed writer', () => {
  it("is removed only when its owner is provably gone; git's own lock is never touched", async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'sink' });
    const ref = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/');
    const lock = path.join(commonDir(repo), `${ref}.lock`);
    // A handoff writer killed mid-write: its lock carries its (dead) pid.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(lock, `handoff-owner ${dead} -\n`);
    const id = ok(repo, ['send', 'sink', 'after a dead writer', '--json'], { agent: 'x' }).json.message.id;
    expect(fs.existsSync(lock)).toBe(false);
    expect(chainEvents(repo).map((e) => e.event.id)).toContain(id);
    // A lock without the mark is git's (a transaction in progress): the send waits for it, however old it is.
    fs.writeFileSync(lock, '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const waiting = cliAsync(repo, ['send', 'sink', 'after git let go', '--json'], { agent: 'x' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.existsSync(lock)).toBe(true);
    fs.rmSync(lock);
    const r = await waiting.done;
    expect(r.status).toBe(0);
    expect(chainEvents(repo).map((e) => e.event.id)).toContain(r.json.message.id);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
  });
});

describe('the SQLite ledger is rebuildable from git', () => {
  function conversation() {
    const repo = makeRepo();
    ok(repo, ['join', '--team', 't'], { agent: 'a' });
    ok(repo, ['join', '--role', 'r'], { agent: 'b' });
    const m1 = ok(repo, ['send', 'b', 'one', '--json'], { agent: 'a' }).json.message.id;
    ok(repo, ['send', 'b', 'two'], { agent: 'a' });
    ok(repo, ['read', m1], { agent: 'b' });
    ok(repo, ['ack', m1], { agent: 'b' });
    ok(repo, ['reply', m1, 'answer'], { agent: 'b' });
    return { repo, m1 };
  }
  const state = (repo: string, m1: string) => ({
    inboxB: ok(repo, ['inbox', '--all', '--limit', '0', '--json'], { agent: 'b' }).json,
    inboxA: ok(repo, ['inbox', '--all', '--limit', '0', '--json'], { agent: 'a' }).json,
    show: ok(repo, ['show', m1, '--json']).json,
    agents: ok(repo, ['agents', '--json']).json.agents,
    threads: ok(repo, ['threads', '--json']).json.threads,
  });

  it('a deleted ledger.db is rebuilt on next use, receipts and all', () => {
    const { repo, m1 } = conversation();
    const before = state(repo, m1);
    expect(before.show.recipients[0].status).toBe('acked');
    for (const s of ['', '-wal', '-shm']) fs.rmSync(dbFile(repo) + s, { force: true });
    expect(state(repo, m1)).toEqual(before);
  });

  it('a corrupt ledger.db (garbage bytes) is detected, set aside with a notice, and rebuilt', () => {
    const { repo, m1 } = conversation();
    const before = state(repo, m1);
    for (const s of ['-wal', '-shm']) fs.rmSync(dbFile(repo) + s, { force: true });
    fs.writeFileSync(dbFile(repo), Buffer.alloc(8192, 0x5a));
    const r = cli(repo, ['inbox', '--all', '--json'], { agent: 'b' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/unreadable.*rebuilt from the git ledger/);
    expect(fs.readdirSync(path.dirname(dbFile(repo))).some((f) => f.startsWith('ledger.db.corrupt-'))).toBe(true);
    expect(state(repo, m1)).toEqual(before);
  });

  it('a page damaged inside ledger.db (found only when read) sets the file aside, and the next command has everything back', () => {
    const { repo, m1 } = conversation();
    for (let i = 0; i < 6; i++) ok(repo, ['send', 'b', `long ${i} ${'y'.repeat(20000)}`], { agent: 'a' });
    const before = state(repo, m1);
    // Everything into the database file itself, then garbage over pages of the message bodies.
    expect(damagePages(dbFile(repo), 'messages', 'overflow')).toBeGreaterThanOrEqual(4);
    // The comparison with git reads the events, not the bodies: --deep reads every page.
    expect(cli(repo, ['verify'], { agent: 'a' }).status).toBe(0);
    const deep = cli(repo, ['verify', '--deep', '--json'], { agent: 'a' });
    expect(deep.status).toBe(6);
    expect(deep.json.error.details.problems.map((p: any) => p.code)).toContain('sqlite_damaged');
    // The first command that reads a damaged page says so and sets the file aside; nothing is lost.
    const r = cli(repo, ['inbox', '--all', '--limit', '0', '--json'], { agent: 'b' });
    expect([r.status, r.json.error.code]).toEqual([1, 'ledger_corrupt']);
    expect(r.json.error.message).toMatch(/moved to ledger\.db\.corrupt-\d+.*rebuilds it from the git ledger/);
    expect(fs.readdirSync(path.dirname(dbFile(repo))).some((f) => f.startsWith('ledger.db.corrupt-'))).toBe(true);
    expect(state(repo, m1)).toEqual(before);
    expect(ok(repo, ['verify', '--deep'], { agent: 'a' }).stdout).toContain('every page of the SQLite file reads back');
  });

  const damage = (repo: string, table: string, which: 'all' | 'root') => damagePages(dbFile(repo), table, which);

  it('verify --deep lists a damaged root page as a problem (exit 6), and a commit whose hook meets one is recorded later', () => {
    const { repo } = conversation();
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const commitAs = (n: number) => {
      fs.writeFileSync(path.join(repo, `c${n}.txt`), `${n}\n`);
      git(repo, 'add', '-A');
      const r = spawnSync('git', ['commit', '-qm', `c${n}`], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return { stderr: r.stderr, head: git(repo, 'rev-parse', 'HEAD').trim() };
    };
    commitAs(1);
    expect(damage(repo, 'search_content', 'root')).toBe(1);
    const deep = cli(repo, ['verify', '--deep', '--json']);
    expect([deep.status, deep.json.error.code]).toEqual([6, 'verification_failed']);
    expect(deep.json.error.details.problems.map((p: any) => p.code)).toEqual(['sqlite_damaged']);
    expect(deep.json.error.details.problems[0].message).toContain(dbFile(repo));
    // The hook meets damaged attribution pages: the commit is made, the file set aside, the commit spooled.
    ok(repo, ['rebuild']);
    commitAs(2);
    expect(damage(repo, 'attributions', 'all')).toBeGreaterThan(0);
    const third = commitAs(3);
    expect(third.stderr).toContain('This commit is recorded by the next handoff command');
    expect(fs.readdirSync(path.dirname(dbFile(repo))).some((f) => f.startsWith('ledger.db.corrupt-'))).toBe(true);
    const logged = ok(repo, ['log', '--json']).json.commits;
    expect(logged.find((c: any) => c.commit === third.head)?.agent?.name).toBe('codex');
    expect(chainEvents(repo).some((e) => e.event.type === 'attribution' && e.event.commit === third.head)).toBe(true);
  });

  it('a send that meets a damaged page says once how to retry, and the retry delivers it exactly once', () => {
    const { repo } = conversation();
    expect(damage(repo, 'messages', 'all')).toBeGreaterThan(0);
    const r = cli(repo, ['send', 'b', 'sent into damage', '--json'], { agent: 'a' });
    expect([r.status, r.json.error.code]).toEqual([1, 'ledger_corrupt']);
    const id = r.json.error.details.id as string;
    expect(r.json.error.message.split(`--id ${id}`)).toHaveLength(2);
    ok(repo, ['send', 'b', 'sent into damage', '--id', id], { agent: 'a' });
    const bodies = ok(repo, ['inbox', '--all', '--limit', '0', '--json'], { agent: 'b' }).json.messages.map(
      (m: any) => m.body,
    );
    expect(bodies.filter((b: string) => b === 'sent into damage')).toHaveLength(1);
  });

  const schema = (repo: string) => {
    const db = new Database(dbFile(repo), { readonly: true });
    try {
      return db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
    } finally {
      db.close();
    }
  };

  it('handoff rebuild recreates the same state, with every index', () => {
    const { repo, m1 } = conversation();
    const before = state(repo, m1);
    const tables = schema(repo);
    const r = ok(repo, ['rebuild', '--json']).json;
    expect(r).toMatchObject({ events: 7, messages: 3, chains: 1 });
    expect(state(repo, m1)).toEqual(before);
    // rebuild defers the indexes only commands read and makes them at the end: the schema is the same.
    expect(schema(repo)).toEqual(tables);
    expect(fs.existsSync(`${dbFile(repo)}.deferred-indexes`)).toBe(false);
  });

  it('rebuild gives each agent the row event-by-event indexing gave, whatever order runtimes and times come in', () => {
    // rebuild indexes in transactions that skip an agent update that can change nothing (ledger/agents.ts):
    // a runtime first seen on an older event, and a later time without one, must both still land.
    const repo = makeRepo();
    ok(repo, ['send', 'c', 'one', '--create'], { agent: 'a' });
    ok(repo, ['send', 'c', 'two'], { agent: 'a', env: { CLAUDECODE: '1', HANDOFF_CLOCK_OFFSET_MS: '-3600000' } });
    ok(repo, ['join', '--team', 't'], { agent: 'b' });
    ok(repo, ['leave'], { agent: 'b' });
    const three = ok(repo, ['send', 'b', 'three', '--json'], { agent: 'a', env: { HANDOFF_CLOCK_OFFSET_MS: '60000' } })
      .json.message;
    ok(repo, ['send', 'a', 'four'], { agent: 'c', env: { CODEX_SANDBOX: '1' } });
    const rows = () => {
      const db = new Database(dbFile(repo), { readonly: true });
      try {
        return db
          .prepare('SELECT name, runtime, team, role, status, joined_at, left_at, last_seen FROM agents ORDER BY name')
          .all() as { name: string; runtime: string | null; status: string; last_seen: string | null }[];
      } finally {
        db.close();
      }
    };
    const before = rows();
    expect(before.find((r) => r.name === 'a')).toMatchObject({
      runtime: 'claude',
      status: 'active',
      last_seen: three.ts,
    });
    expect(before.find((r) => r.name === 'b')).toMatchObject({ status: 'left' });
    expect(before.find((r) => r.name === 'c')).toMatchObject({ runtime: 'codex', status: 'active' });
    ok(repo, ['rebuild']);
    expect(rows()).toEqual(before);
  });

  it('indexes a rebuild killed with kill -9 had deferred are made by the next command', () => {
    const { repo, m1 } = conversation();
    const before = state(repo, m1);
    const tables = schema(repo);
    // As a rebuild leaves the database when killed after deferring its indexes.
    const db = new Database(dbFile(repo));
    const sql = db.prepare("SELECT sql FROM sqlite_master WHERE name IN ('messages_clock', 'recipients_agent')").all();
    db.exec('DROP INDEX messages_clock; DROP INDEX recipients_agent');
    db.close();
    fs.writeFileSync(
      `${dbFile(repo)}.deferred-indexes`,
      JSON.stringify(sql.map((r: any) => r.sql.replace('CREATE INDEX', 'CREATE INDEX IF NOT EXISTS'))),
    );
    expect(schema(repo)).not.toEqual(tables);
    expect(state(repo, m1)).toEqual(before);
    expect(schema(repo)).toEqual(tables);
    expect(fs.existsSync(`${dbFile(repo)}.deferred-indexes`)).toBe(false);
  });

  it('a database from a newer handoff is refused with a clear error', () => {
    const { repo } = conversation();
    const db = new Database(dbFile(repo));
    db.pragma('user_version = 999');
    db.close();
    const r = cli(repo, ['inbox', '--json'], { agent: 'b' });
    expect(r.status).toBe(1);
    expect(r.json.error.code).toBe('ledger_too_new');
    expect(r.json.error.message).toMatch(/newer handoff.*Upgrade handoff.*handoff rebuild/);
    // rebuild is the way out, and loses nothing.
    ok(repo, ['rebuild'], {});
    expect(ok(repo, ['inbox', '--all', '--json'], { agent: 'b' }).json.messages).toHaveLength(2);
    void git;
  });
});
