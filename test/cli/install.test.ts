/**
 * handoff as installed elsewhere: better-sqlite3's JavaScript is in the bundle and its addon is loaded from
 * better-sqlite3's directory. A missing addon is the installation's fault, never the ledger's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, makeRepo, ok, ROOT, tmpDir } from '../helpers/repo';

/** A copy of the built package (bin, dist) with a node_modules of our making. */
function installCopy(): { bin: string; sqlite: string } {
  const pkg = path.join(tmpDir('handoff-install-'), 'handoff');
  for (const d of ['bin', 'dist']) fs.cpSync(path.join(ROOT, d), path.join(pkg, d), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  const sqlite = path.join(pkg, 'node_modules', 'better-sqlite3');
  fs.mkdirSync(sqlite, { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), path.join(sqlite, 'package.json'));
  return { bin: path.join(pkg, 'bin', 'run.js'), sqlite };
}

const run = (bin: string, cwd: string, args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    env: cleanEnv({ HANDOFF_AGENT: 'codex', HANDOFF_NO_CODE_CACHE: '1' }),
    encoding: 'utf8',
  });

describe('an installed copy', () => {
  it('without a loadable SQLite addon says so and leaves the ledger alone; with the addon elsewhere, bindings finds it', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    ok(repo, ['send', 'codex', 'kept'], { agent: 'lead' });
    const data = path.join(repo, '.git', 'handoff');
    const before = fs.readdirSync(data).sort();
    const { bin, sqlite } = installCopy();

    // No addon at all: the error names the installation, exit 1, and nothing in the repository moves.
    for (let i = 0; i < 2; i++) {
      const r = run(bin, repo, ['inbox', '--json']);
      expect(r.status).toBe(1);
      const err = JSON.parse(r.stdout).error;
      expect(err.code).toBe('sqlite_unavailable');
      expect(err.message).toContain('npm rebuild better-sqlite3');
    }
    expect(fs.readdirSync(data).sort()).toEqual(before);
    expect(fs.readdirSync(data).some((n) => n.includes('corrupt'))).toBe(false);

    // The addon where only `bindings` looks (build/Debug), and bindings not hoisted: found from better-sqlite3.
    fs.mkdirSync(path.join(sqlite, 'build', 'Debug'), { recursive: true });
    fs.copyFileSync(
      path.join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
      path.join(sqlite, 'build', 'Debug', 'better_sqlite3.node'),
    );
    fs.mkdirSync(path.join(sqlite, 'node_modules'));
    fs.cpSync(path.join(ROOT, 'node_modules', 'bindings'), path.join(sqlite, 'node_modules', 'bindings'), {
      recursive: true,
    });
    fs.cpSync(
      path.join(ROOT, 'node_modules', 'file-uri-to-path'),
      path.join(sqlite, 'node_modules', 'file-uri-to-path'),
      { recursive: true },
    );
    const r = run(bin, repo, ['inbox', '--json']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).messages.map((m: { body: string }) => m.body)).toEqual(['kept']);
  });
});
