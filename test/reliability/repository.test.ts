/** The user's repository stays theirs: what handoff writes, where, and what it leaves out. */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, cli, cliAsync, git, makeRepo, ok, tmpDir } from '../helpers/repo';
import { team } from '../helpers/clones';

describe("the user's repository", () => {
  it('every .env* name the README promises is left out of snapshots', () => {
    const repo = makeRepo();
    const names = [
      '.env',
      '.envrc',
      '.env-prod',
      '.env_local',
      '.env.local',
      'sub/.env.test',
      'key.pem',
      'id_rsa',
      'server.key',
    ];
    for (const n of names) {
      fs.mkdirSync(path.dirname(path.join(repo, n)), { recursive: true });
      fs.writeFileSync(path.join(repo, n), `SECRET_${n}\n`);
    }
    fs.writeFileSync(path.join(repo, 'ok.txt'), 'fine\n');
    const m = ok(repo, ['send', 'bob', 'snap', '--attach-diff', '--create', '--json'], { agent: 'lead' }).json.message;
    expect(m.diff.excluded.sort()).toEqual([...names].sort());
    const files = git(repo, 'ls-tree', '-r', '--name-only', m.diff.snapshot).split('\n');
    expect(files).toContain('ok.txt');
    for (const n of names) expect(files).not.toContain(n);
  });

  it('a tracked hooks directory (core.hooksPath=.husky) is never modified; the one line to add works', () => {
    const repo = makeRepo({ files: { 'f.txt': 'a\n', '.husky/post-commit': '#!/bin/sh\necho team hook\n' } });
    fs.chmodSync(path.join(repo, '.husky/post-commit'), 0o755);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'husky');
    git(repo, 'config', 'core.hooksPath', '.husky');
    const inst = cli(repo, ['hooks', 'install', '--json']);
    expect(inst.status).toBe(1);
    const r = inst.json.error.details;
    expect(r.manual).toEqual([
      '.husky/pre-commit: if command -v handoff >/dev/null 2>&1; then handoff hooks run pre-commit "$@" || exit $?; fi',
      '.husky/prepare-commit-msg: if command -v handoff >/dev/null 2>&1; then handoff hooks run prepare-commit-msg "$@" || exit $?; fi',
      '.husky/post-commit: if command -v handoff >/dev/null 2>&1; then handoff hooks run post-commit "$@" || exit $?; fi',
      '.husky/post-merge: if command -v handoff >/dev/null 2>&1; then handoff hooks run post-merge "$@" || exit $?; fi',
      '.husky/post-rewrite: if command -v handoff >/dev/null 2>&1; then handoff hooks run post-rewrite "$@" || exit $?; fi',
    ]);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // The team adds the line (with the CLI as the hook would find it on PATH).
    fs.appendFileSync(
      path.join(repo, '.husky/post-commit'),
      `"${process.execPath}" "${BIN}" hooks run post-commit "$@"\n`,
    );
    fs.writeFileSync(path.join(repo, 'f.txt'), 'b\n');
    const c = spawnSync('git', ['commit', '-qam', 'b'], {
      cwd: repo,
      env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
      encoding: 'utf8',
    });
    expect(c.status).toBe(0);
    expect(ok(repo, ['log', '-n', '1', '--json']).json.commits[0].agent.name).toBe('codex');
    expect(fs.readFileSync(path.join(repo, '.husky/post-commit'), 'utf8')).not.toContain('dist/hook.js');
  });

  it('checkout refuses a directory inside the working tree, and a nested worktree never enters a snapshot', () => {
    const repo = makeRepo();
    fs.writeFileSync(path.join(repo, 'x.txt'), 'x\n');
    const id = ok(repo, ['send', 'bob', 's', '--attach-diff', '--create', '--json'], { agent: 'lead' }).json.message.id;
    const r = cli(repo, ['checkout', id, 'sub', '--json']);
    expect(r.status).toBe(2);
    expect(r.json.error.code).toBe('dir_inside_worktree');
    expect(fs.existsSync(path.join(repo, 'sub'))).toBe(false);
    // A worktree someone made inside anyway is left out of the next snapshot.
    git(repo, 'worktree', 'add', '-q', path.join(repo, 'nested'), '-b', 'nested');
    const m = ok(repo, ['send', 'bob', 's2', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    const modes = git(repo, 'ls-tree', '-r', m.diff.snapshot);
    expect(modes).not.toMatch(/^160000/m);
    expect(ok(repo, ['checkout', id, path.join(tmpDir(), 'out'), '--json']).json.path).toBeTruthy();
  });

  it('a sync killed with kill -9 leaves staging refs that the next sync removes', async () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['send', 'bob', 'x', '--create'], { agent: 'alice' });
    // A staging ref of a process that no longer exists, as a killed sync leaves it.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    git(
      a,
      'update-ref',
      `refs/handoff/incoming/${dead}-deadbeef/01HZZZZZZZZZZZZZZZZZZZZZZZ`,
      git(a, 'rev-parse', 'HEAD'),
    );
    const child = spawn(process.execPath, [BIN, 'sync'], { cwd: a, env: cleanEnv() });
    await new Promise((r) => setTimeout(r, 30));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    ok(a, ['sync']);
    expect(git(a, 'for-each-ref', 'refs/handoff/incoming/')).toBe('');
  });
});

describe('.git/handoff on another file system', () => {
  // A symbolic link from .git/handoff to tmpfs, say for a faster disk: the ref's lock and new value cannot be
  // linked or renamed across file systems, so they are made beside the refs instead.
  const other = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/handoff-test-') : null;
  const apart = (a: string, b: string) => fs.statSync(a).dev !== fs.statSync(b).dev;
  const skip = !other || !apart(other, tmpDir());
  if (skip) console.warn('skipped: no /dev/shm on another file system than the test repositories');
  it.skipIf(skip)('sends, a reply, verify and packing work; no scratch file is left in the refs', () => {
    const repo = makeRepo();
    const gitDir = path.join(repo, '.git');
    fs.mkdirSync(path.join(other!, 'handoff'));
    fs.symlinkSync(path.join(other!, 'handoff'), path.join(gitDir, 'handoff'));
    ok(repo, ['join'], { agent: 'codex' });
    const ids = [0, 1, 2].map(
      (i) => ok(repo, ['send', 'codex', `note ${i}`, '--json'], { agent: 'lead' }).json.message.id,
    );
    ok(repo, ['reply', ids[0], 'on it'], { agent: 'codex' });
    // The message answered is read; all three are in the inbox.
    const unread = ok(repo, ['inbox', '--json'], { agent: 'codex' }).json;
    expect(unread.messages.map((m: { id: string }) => m.id).sort()).toEqual([ids[1], ids[2]].sort());
    const inbox = ok(repo, ['inbox', '--all', '--json'], { agent: 'codex' }).json;
    expect(inbox.messages.map((m: { id: string }) => m.id).sort()).toEqual([...ids].sort());
    const verified = ok(repo, ['verify', '--json']).json;
    expect(verified.ok).toBe(true);
    // One chain (one clone) holds every event: the join, three sends and the reply at least.
    const chains = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').trim().split('\n');
    expect(chains).toHaveLength(1);
    const inGit = Number(git(repo, 'rev-list', '--count', chains[0]!).trim());
    expect(inGit).toBeGreaterThanOrEqual(5);
    expect(verified.events).toBe(inGit);
    const strays = fs.readdirSync(path.join(gitDir, 'refs', 'handoff', 'chains')).filter((n) => n.includes('.lock'));
    expect(strays).toEqual([]);
    // Scratch files went beside the refs, and a process leaves none behind.
    expect(fs.existsSync(path.join(gitDir, 'handoff-refs-scratch'))).toBe(true);
    expect(fs.readdirSync(path.join(gitDir, 'handoff-refs-scratch'))).toEqual([]);
    expect(git(repo, 'fsck', '--no-progress').trim()).toBe('');
    fs.rmSync(other!, { recursive: true, force: true });
  });
});

describe('a commit never waits on handoff', () => {
  it('with the ledger write-locked by another process, a hooked commit finishes at once and is recorded later', () => {
    const Database = require('better-sqlite3');
    const repo = makeRepo({ files: { 'f.txt': 'a\n' } });
    ok(repo, ['hooks', 'install']);
    ok(repo, ['join'], { agent: 'codex' });
    const db = new Database(
      path.join(git(repo, 'rev-parse', '--path-format=absolute', '--git-common-dir'), 'handoff', 'ledger.db'),
    );
    db.prepare('BEGIN IMMEDIATE').run();
    try {
      fs.writeFileSync(path.join(repo, 'f.txt'), 'b\n');
      const t0 = Date.now();
      const c = spawnSync('git', ['commit', '-qam', 'while locked'], {
        cwd: repo,
        env: cleanEnv({ HANDOFF_AGENT: 'codex' }),
        encoding: 'utf8',
      });
      const took = Date.now() - t0;
      expect(c.status).toBe(0);
      expect(took).toBeLessThan(5000);
      expect(c.stderr).toMatch(/recorded by the next handoff command/);
    } finally {
      db.prepare('ROLLBACK').run();
      db.close();
    }
    const top = ok(repo, ['log', '-n', '1', '--json']).json.commits[0];
    expect([top.subject, top.agent?.name, top.via]).toEqual(['while locked', 'codex', 'hook']);
    expect(
      fs
        .readdirSync(
          path.join(git(repo, 'rev-parse', '--path-format=absolute', '--git-common-dir'), 'handoff', 'spool'),
        )
        .filter((n) => n.endsWith('.json')),
    ).toEqual([]);
  });
});

describe('a retried send is delivered once', () => {
  it('send --id: the same id sends once; another message with that id is refused', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    const id = '01M8Y0ZZZZZZZZZZZZZZZZZZZZ';
    const first = ok(repo, ['send', 'bob', 'exactly once', '--id', id, '--json'], { agent: 'alice' }).json;
    expect(first.message.id).toBe(id);
    expect(first.alreadySent).toBeUndefined();
    const again = ok(repo, ['send', 'bob', 'exactly once', '--id', id.toLowerCase(), '--json'], {
      agent: 'alice',
    }).json;
    expect(again.alreadySent).toBe(true);
    expect(ok(repo, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.id)).toEqual([id]);
    const clash = cli(repo, ['send', 'bob', 'something else', '--id', id, '--json'], { agent: 'alice' });
    expect(clash.status).toBe(4);
    expect(clash.json.error.code).toBe('id_taken');
    expect(cli(repo, ['send', 'bob', 'x', '--id', 'not-a-ulid'], { agent: 'alice' }).status).toBe(2);
  });

  it('send --id retried while the first try still runs: 4 at once, 5 rounds, one message each, verify clean', async () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    for (let round = 0; round < 5; round++) {
      const id = `01M8Y0ZZZZZZZZZZZZZZZZZZZ${round}`;
      const tries = await Promise.all(
        Array.from(
          { length: 4 },
          () => cliAsync(repo, ['send', 'bob', `once ${round}`, '--id', id, '--json'], { agent: 'alice' }).done,
        ),
      );
      expect(tries.map((t) => [t.status, t.json?.message?.id])).toEqual(tries.map(() => [0, id]));
      // One try wrote it; the others were told it was sent.
      expect(tries.filter((t) => t.json.alreadySent === true)).toHaveLength(3);
      const events = git(repo, 'log', '--format=%s', '--glob=refs/handoff/chains/*')
        .split('\n')
        .filter((l) => l.includes(`once ${round}`));
      expect(events).toHaveLength(1);
    }
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    expect(ok(repo, ['inbox', '--json'], { agent: 'bob' }).json.messages).toHaveLength(5);
  });
});

describe("this clone's chain ref deleted", () => {
  it('the next send puts it back at the last indexed event and appends: nothing lost, sync and verify clean', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['join'], { agent: 'bob' });
    const first = ok(a, ['send', 'bob', 'm1', '--json'], { agent: 'alice' }).json.message.id;
    ok(a, ['sync']);
    const ref = git(a, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').trim();
    const tip = git(a, 'rev-parse', ref).trim();
    git(a, 'update-ref', '-d', ref);
    const sent = ok(a, ['send', 'bob', 'm2', '--json'], { agent: 'alice' });
    expect(sent.stderr).toContain(`This clone's chain ref ${ref} was missing; it is put back`);
    // Appended to the chain as it was, not a new first commit.
    expect(git(a, 'rev-parse', `${ref}~1`).trim()).toBe(tip);
    expect(cli(a, ['sync', '--json']).status).toBe(0);
    expect(ok(a, ['verify', '--json']).json.ok).toBe(true);
    ok(a, ['rebuild']);
    expect(ok(a, ['inbox', '--json'], { agent: 'bob' }).json.messages.map((m: any) => m.id)).toEqual([
      first,
      sent.json.message.id,
    ]);
    // Another clone takes it as the chain going on.
    const b = t.clone('b');
    expect(cli(b, ['sync', '--json']).json.refused ?? []).toEqual([]);
    expect(ok(b, ['inbox', '--json'], { agent: 'bob' }).json.messages).toHaveLength(2);
  });
});

describe('a shared repository', () => {
  it('under core.sharedRepository=group, the directories and objects handoff creates are group-writable', () => {
    const repo = makeRepo();
    git(repo, 'config', 'core.sharedRepository', 'group');
    const objects = path.join(repo, '.git', 'objects');
    const before = new Set(fs.readdirSync(objects));
    ok(repo, ['send', 'bob', 'shared', '--create'], { agent: 'alice' });
    const made = fs.readdirSync(objects).filter((d) => /^[0-9a-f]{2}$/.test(d) && !before.has(d));
    expect(made.length).toBeGreaterThan(0);
    for (const d of made) expect((fs.statSync(path.join(objects, d)).mode & 0o2070).toString(8), d).toBe('2070');
    const refsDir = path.join(repo, '.git', 'refs', 'handoff', 'chains');
    expect(fs.statSync(refsDir).mode & 0o070).toBe(0o070);
  });
});

describe('a copied repository', () => {
  const cloneId = (repo: string) => fs.readFileSync(path.join(repo, '.git', 'handoff', 'clone-id'), 'utf8').trim();

  it('cp -r: the copy writes its own chain, and both reach each other through sync; a moved repository keeps its id', async () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['sync', '--setup']);
    ok(a, ['join'], { agent: 'codex' });
    ok(a, ['send', 'codex', 'before the copy'], { agent: 'claude' });
    const original = cloneId(a);
    const copy = path.join(tmpDir(), 'copy');
    fs.cpSync(a, copy, { recursive: true });
    // Four processes start in the fresh copy at once: all settle on one new id.
    const sends = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<number>((resolve) => {
            const p = spawn(process.execPath, [BIN, 'send', 'codex', `from the copy ${i}`], {
              cwd: copy,
              env: cleanEnv({ HANDOFF_AGENT: 'gemini' }),
              stdio: 'ignore',
            });
            p.on('exit', (code) => resolve(code ?? 1));
          }),
      ),
    );
    expect(sends).toEqual([0, 0, 0, 0]);
    const mine = cloneId(copy);
    expect(mine).not.toBe(original);
    expect(mine.slice(0, 10)).toBe(original.slice(0, 10));
    const chains = (repo: string) =>
      git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').split('\n');
    expect(chains(copy).sort()).toEqual([`refs/handoff/chains/${mine}`, `refs/handoff/chains/${original}`].sort());
    // The original keeps its id and writes on.
    ok(a, ['send', 'codex', 'after the copy'], { agent: 'claude' });
    expect(cloneId(a)).toBe(original);
    // sync --setup's refspecs name the copy's chain now: a plain git push from the copy pushes its own chain
    // (the original's moved on meanwhile; pushing the copy's stale view of it would be refused).
    ok(a, ['sync']);
    const pushes = git(copy, 'config', '--get-all', 'remote.origin.push');
    expect(pushes).toContain(`chains/${mine}`);
    expect(pushes).not.toContain(`chains/${original}`);
    git(copy, 'push', '-q');
    expect(git(t.remote, 'for-each-ref', '--format=%(refname)', `refs/handoff/chains/${mine}`)).toBe(
      `refs/handoff/chains/${mine}`,
    );
    // Both sync through the remote: each has every message, and verify is clean on both.
    ok(copy, ['sync']);
    ok(a, ['sync']);
    ok(copy, ['sync']);
    const bodies = (repo: string) =>
      ok(repo, ['inbox', '--all', '--json'], { agent: 'codex' })
        .json.messages.map((m: { body: string }) => m.body)
        .sort();
    const all = ['after the copy', 'before the copy', ...[0, 1, 2, 3].map((i) => `from the copy ${i}`)].sort();
    expect(bodies(a)).toEqual(all);
    expect(bodies(copy)).toEqual(all);
    for (const repo of [a, copy]) expect(cli(repo, ['verify']).status).toBe(0);

    // Moving a repository is not copying it: the id stays (also across a rename of its directory).
    const moved = path.join(tmpDir(), 'moved');
    fs.renameSync(copy, moved);
    ok(moved, ['send', 'codex', 'after the move'], { agent: 'gemini' });
    expect(cloneId(moved)).toBe(mine);
    expect(chains(moved)).toHaveLength(2);
  });

  it('a copy put where the original was, and a copy whose original moved before its first command, get their own ids', () => {
    const ids = (dirs: string[]) => {
      for (const d of dirs) ok(d, ['send', 'codex', `from ${path.basename(d)}`], { agent: 'claude' });
      return dirs.map(cloneId);
    };
    // The original moves away and a copy takes its place.
    const base = tmpDir();
    const orig = path.join(base, 'orig');
    fs.mkdirSync(orig);
    git(orig, 'init', '-q', '-b', 'main');
    ok(orig, ['join'], { agent: 'codex' });
    const first = cloneId(orig);
    fs.renameSync(orig, path.join(base, 'orig.bak'));
    fs.cpSync(path.join(base, 'orig.bak'), orig, { recursive: true });
    const [inPlace, movedAway] = ids([orig, path.join(base, 'orig.bak')]);
    expect(movedAway).toBe(first);
    expect(inPlace).not.toBe(first);
    // Copied, then the original renamed before the copy ran anything.
    const f = path.join(base, 'f');
    fs.cpSync(path.join(base, 'orig.bak'), f, { recursive: true });
    fs.renameSync(path.join(base, 'orig.bak'), path.join(base, 'main'));
    const [copied, renamed] = ids([f, path.join(base, 'main')]);
    expect(renamed).toBe(first);
    expect(new Set([copied, inPlace, first]).size).toBe(3);
  });

  it('a backup restored after the original was deleted: what the original had not pushed still reaches the remote', () => {
    const t = team();
    const a = t.clone('a');
    ok(a, ['sync', '--setup']);
    ok(a, ['join'], { agent: 'codex' });
    ok(a, ['send', 'codex', 'pushed before'], { agent: 'claude' });
    ok(a, ['sync']);
    ok(a, ['send', 'codex', 'never pushed by the original'], { agent: 'claude' });
    const backup = path.join(tmpDir(), 'backup');
    fs.cpSync(a, backup, { recursive: true });
    fs.rmSync(a, { recursive: true, force: true });
    fs.renameSync(backup, a);
    const restored = cli(a, ['send', 'codex', 'after the restore'], { agent: 'claude' });
    expect(restored.status).toBe(0);
    expect(restored.stderr).toMatch(/copied or restored/);
    ok(a, ['sync']);
    const fresh = t.clone('fresh');
    ok(fresh, ['sync']);
    const bodies = ok(fresh, ['inbox', '--all', '--json'], { agent: 'codex' })
      .json.messages.map((m: { body: string }) => m.body)
      .sort();
    expect(bodies).toEqual(['after the restore', 'never pushed by the original', 'pushed before']);
    expect(cli(fresh, ['verify']).status).toBe(0);
  });
});

describe('git gc --prune=now beside send --attach-diff', () => {
  it('a send whose snapshot gc removed fails saying so, nothing half written: fsck clean, gc works, verify ok', async () => {
    const files: Record<string, string> = {};
    for (let d = 0; d < 10; d++) for (let f = 0; f < 30; f++) files[`src/d${d}/f${f}.txt`] = `${d} ${f}\n`;
    const repo = makeRepo({ files });
    ok(repo, ['join'], { agent: 'bob' });
    let stop = false;
    // git gc --prune=now in a loop (git warns it is unsafe beside other writers; people run it anyway).
    const gcLoop = (async () => {
      let runs = 0;
      while (!stop) {
        await new Promise<void>((resolve) => {
          const p = spawn('git', ['gc', '-q', '--prune=now'], { cwd: repo, stdio: 'ignore' });
          p.on('close', () => resolve());
        });
        runs++;
      }
      return runs;
    })();
    const outcomes: string[] = [];
    const sent: string[] = [];
    for (let i = 0; i < 15; i++) {
      fs.appendFileSync(path.join(repo, `src/d${i % 10}/f${i}.txt`), `change ${i}\n`);
      const r = await cliAsync(repo, ['send', 'bob', `gc race ${i}`, '--attach-diff', '--json'], { agent: 'alice' })
        .done;
      outcomes.push(r.status === 0 ? 'sent' : r.json?.error?.code);
      if (r.status === 0) sent.push(r.json.message.id);
    }
    stop = true;
    expect(await gcLoop).toBeGreaterThan(0);
    // Every send either went through or said it did not (git_failed: git's read of a changed file met an
    // object gc had just removed; send_failed: the git write met one, and names the id to retry with).
    for (const o of outcomes) expect(['sent', 'snapshot_pruned', 'git_failed', 'send_failed']).toContain(o);
    const fsck = spawnSync('git', ['fsck', '--no-dangling'], { cwd: repo, encoding: 'utf8' });
    expect(fsck.status, `${fsck.stdout}${fsck.stderr}`).toBe(0);
    const gc = spawnSync('git', ['gc', '-q'], { cwd: repo, encoding: 'utf8' });
    expect(gc.status, gc.stderr).toBe(0);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    const inbox = ok(repo, ['inbox', '--json', '--limit', '0'], { agent: 'bob' }).json.messages.map((m: any) => m.id);
    for (const id of sent) expect(inbox).toContain(id);
  }, 120_000);
});
