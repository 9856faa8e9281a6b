/**
 * A repository this user cannot write (a read-only mount, another user's clone): every read works from a copy
 * of the ledger in memory, and every write is refused with one clear error before anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, commonDir, git, makeRepo, ok, tmpDir, type CliResult } from '../helpers/repo';

/** Root ignores file modes, so as root the read-only runs are made as another user (nobody) who owns the files. */
const AS_ROOT = process.getuid?.() === 0;
const OTHER = 65534;

function canSwitchUser(): boolean {
  if (!AS_ROOT) return true;
  const r = spawnSync('id', ['-u'], { uid: OTHER, gid: OTHER, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === String(OTHER);
}

const home = tmpDir('handoff-ro-home-');
fs.chmodSync(home, 0o755);

/** Takes write permission away from everything under `.git` (and hands the repository to `nobody` as root). */
function makeReadOnly(repo: string): void {
  if (AS_ROOT) spawnSync('chown', ['-R', `${OTHER}:${OTHER}`, repo, home]);
  spawnSync('chmod', ['-R', 'a-w', path.join(repo, '.git')]);
}

function makeWritable(repo: string): void {
  spawnSync('chmod', ['-R', 'u+w', path.join(repo, '.git')]);
  if (AS_ROOT) spawnSync('chown', ['-R', '0:0', repo]);
}

/** Runs the built CLI as the user who cannot write the repository. */
function ro(repo: string, args: string[], agent = 'bob'): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: repo,
    env: cleanEnv({ HANDOFF_AGENT: agent, HOME: home }),
    encoding: 'utf8',
    input: '',
    ...(AS_ROOT ? { uid: OTHER, gid: OTHER } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

const refs = (repo: string) => git(repo, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/handoff/');

describe.skipIf(!canSwitchUser())('a read-only .git', () => {
  it('reads work; every write is refused with read_only and nothing is written', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const id = ok(repo, ['send', 'bob', 'please review the parser', '--json'], { agent: 'alice' }).json.message.id;
    const before = refs(repo);
    makeReadOnly(repo);
    try {
      const inbox = ro(repo, ['inbox', '--json']);
      expect(inbox.status, inbox.stderr + inbox.stdout).toBe(0);
      expect(inbox.json.messages.map((m: { id: string; body: string }) => [m.id, m.body])).toEqual([
        [id, 'please review the parser'],
      ]);
      const read = ro(repo, ['read', id]);
      expect(read.status).toBe(0);
      expect(read.stdout).toContain('please review the parser');
      expect(read.stderr).toContain('stays unread');
      for (const args of [
        ['log', '--json'],
        ['threads', '--json'],
        ['verify', '--json'],
        ['replay', '--json'],
        ['agents', '--json'],
        ['show', id.slice(-7), '--json'],
      ]) {
        const r = ro(repo, args);
        expect([args[0], r.status, r.stderr]).toEqual([args[0], 0, '']);
      }
      for (const args of [
        ['send', 'alice', 'hi'],
        ['reply', id, 'done'],
        ['ack', id],
        ['sync'],
        ['rebuild'],
        ['hooks', 'install'],
        ['sync', '--setup'],
      ]) {
        const r = ro(repo, [...args, '--json']);
        expect([args.join(' '), r.status, r.json?.error?.code]).toEqual([args.join(' '), 1, 'read_only']);
        expect(r.json.error.message).toContain('not writable by this user');
        // The way out names the path that cannot be written, not the git directory above it.
        const named = /: (\S+?)(?:: [A-Z]+)? is not writable/.exec(r.json.error.message)![1]!;
        expect(r.json.error.message).toContain(`the user who owns ${named},`);
      }
      // From Codex's sandboxed shell (its markers in the environment): the way out is its MCP tools.
      const codex = spawnSync(process.execPath, [BIN, 'send', 'alice', 'hi', '--json'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex', HOME: home, CODEX_SANDBOX_NETWORK_DISABLED: '1' }),
        encoding: 'utf8',
        input: '',
        ...(AS_ROOT ? { uid: OTHER, gid: OTHER } : {}),
      });
      expect(codex.status).toBe(1);
      expect(JSON.parse(codex.stdout).error).toMatchObject({
        code: 'read_only',
        message: expect.stringMatching(/Codex's sandbox.*MCP server \(send, reply/),
      });
    } finally {
      makeWritable(repo);
    }
    // Nothing was written: the chains are as they were and the message is still unread.
    expect(refs(repo)).toBe(before);
    expect(ok(repo, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: { id: string }) => m.id)).toEqual([
      id,
    ]);
  });

  it('reads the database as the last command left it, its write-ahead log included, not git again', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const id = ok(repo, ['send', 'bob', 'hello', '--json'], { agent: 'alice' }).json.message.id;
    // A setting only SQLite holds (indexing git again would print 7-character short ids), committed to the
    // log and left there by a process that exits without closing, as commands do.
    const db = path.join(commonDir(repo), 'handoff', 'ledger.db');
    const Sqlite = require.resolve('better-sqlite3');
    const plant = spawnSync(
      process.execPath,
      [
        '-e',
        `const D=require(${JSON.stringify(Sqlite)});const d=new D(${JSON.stringify(db)});d.prepare("INSERT INTO settings (key, value) VALUES ('short_id_length', '9') ON CONFLICT (key) DO UPDATE SET value = '9'").run();process.exit(0)`,
      ],
      { encoding: 'utf8' },
    );
    expect(plant.status, plant.stderr).toBe(0);
    expect(fs.statSync(`${db}-wal`).size).toBeGreaterThan(0);
    makeReadOnly(repo);
    try {
      const inbox = ro(repo, ['inbox', '--json']);
      expect(inbox.status, inbox.stderr).toBe(0);
      expect(inbox.json.messages.map((m: { shortId: string }) => m.shortId)).toEqual([id.slice(-9)]);
    } finally {
      makeWritable(repo);
    }
  });

  it('without a usable SQLite file (never opened here, or not readable) the ledger is read from git', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const id = ok(repo, ['send', 'bob', 'from git alone', '--json'], { agent: 'alice' }).json.message.id;
    const data = path.join(commonDir(repo), 'handoff');
    // First: the SQLite file is there but this user cannot read it.
    fs.chmodSync(path.join(data, 'ledger.db'), 0);
    makeReadOnly(repo);
    try {
      const r = ro(repo, ['inbox', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.messages.map((m: { id: string; body: string }) => [m.id, m.body])).toEqual([
        [id, 'from git alone'],
      ]);
    } finally {
      makeWritable(repo);
    }
    // Then: handoff's directory does not exist at all (a clone whose chains came with a plain git fetch).
    fs.rmSync(data, { recursive: true, force: true });
    makeReadOnly(repo);
    try {
      const r = ro(repo, ['show', id, '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.json.message.body).toBe('from git alone');
      expect(ro(repo, ['send', 'alice', 'x', '--json']).json.error.code).toBe('read_only');
    } finally {
      makeWritable(repo);
    }
    expect(fs.existsSync(data)).toBe(false);
  });
});
