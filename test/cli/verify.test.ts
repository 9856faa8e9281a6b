import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cli, cliAsync, commonDir, git, makeRepo, ok } from '../helpers/repo';
import { writer } from '../helpers/writers';

function conversation() {
  const repo = makeRepo();
  ok(repo, ['join'], { agent: 'bob' });
  const ids = ['one', 'two', 'three'].map(
    (b) => ok(repo, ['send', 'bob', b, '--json'], { agent: 'alice' }).json.message.id as string,
  );
  const ref = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/');
  return { repo, ids, ref };
}

describe('verify', () => {
  it('is clean on an intact ledger and says so', () => {
    const { repo } = conversation();
    const r = ok(repo, ['verify']);
    expect(r.stdout).toMatch(/^ok: 4 events on 1 chain\(s\)/);
    const json = ok(repo, ['verify', '--json']).json;
    expect(json).toEqual({ ok: true, chains: 1, events: 4, problems: [], signatures: [expect.any(Object)] });
    // Unsigned, and nothing is required: all four counted as unsigned, and no problem.
    expect(json.signatures[0]).toMatchObject({ good: 0, unknownKey: 0, bad: 0, unsigned: 4, unverifiable: 0 });
    expect(cli(repo, ['verify', '--require-signed']).status).toBe(6);
  });

  it('fails (exit 6) naming the event when update-ref drops one from the chain', () => {
    const { repo, ids, ref } = conversation();
    // Rebuild the chain without the middle message, as someone hiding it would.
    const commits = git(repo, 'rev-list', '--first-parent', '--reverse', ref).split('\n');
    const dropped = commits[2]!;
    let tip = commits[1]!;
    for (const c of commits.slice(3))
      tip = git(repo, 'commit-tree', '-p', tip, '-m', git(repo, 'log', '-1', '--format=%B', c), `${c}^{tree}`);
    git(repo, 'update-ref', ref, tip);
    const r = cli(repo, ['verify', '--json']);
    expect(r.status).toBe(6);
    const problems = r.json.error.details.problems;
    expect(problems.some((p: any) => p.code === 'missing_from_git' && p.event === ids[1] && p.commit === dropped)).toBe(
      true,
    );
    expect(problems.some((p: any) => p.code === 'rewritten')).toBe(true);
    const human = cli(repo, ['verify']);
    expect(human.status).toBe(6);
    expect(human.stderr).toContain(ids[1]);
  });

  it('fails naming the commit when git replace hides an event', () => {
    const { repo, ref } = conversation();
    const commits = git(repo, 'rev-list', '--first-parent', '--reverse', ref).split('\n');
    // Replace the last event's commit by one whose parent skips the event before it.
    const last = commits[3]!;
    const fake = git(repo, 'commit-tree', '-p', commits[1]!, '-m', 'replacement', `${last}^{tree}`);
    git(repo, 'replace', last, fake);
    expect(git(repo, 'rev-list', '--first-parent', ref).split('\n')).toHaveLength(3); // plain git is fooled
    const r = cli(repo, ['verify', '--json']);
    expect(r.status).toBe(6);
    expect(r.json.error.details.problems).toEqual([expect.objectContaining({ code: 'replaced', commit: last })]);
  });

  it('reports an event that is in git but not in SQLite until rebuild fixes it', () => {
    const { repo, ids } = conversation();
    const db = new Database(path.join(commonDir(repo), 'handoff', 'ledger.db'));
    db.prepare('DELETE FROM events WHERE id = ?').run(ids[0]);
    db.close();
    const r = cli(repo, ['verify', '--json']);
    expect(r.status).toBe(6);
    expect(r.json.error.details.problems.map((p: any) => [p.code, p.event])).toEqual([['missing_from_sqlite', ids[0]]]);
    ok(repo, ['rebuild']);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
  });
});

describe('snapshots stay reachable and usable', () => {
  it('git gc --prune=now and --aggressive lose nothing, even after the base branch is rebased away and deleted', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    git(repo, 'checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(repo, 'feature.txt'), 'v1\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'feature work');
    const base = git(repo, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(repo, 'feature.txt'), 'v2 uncommitted\n');
    const id = ok(repo, ['send', 'bob', 'feature diff', '--attach-diff', '--json'], { agent: 'alice' }).json.message.id;
    // The branch is rewritten and deleted; its commit is now reachable only from the ledger.
    git(repo, 'checkout', '-q', '--', 'feature.txt');
    git(repo, 'commit', '-q', '--amend', '-m', 'feature work, amended');
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'branch', '-q', '-D', 'feature');
    git(repo, 'reflog', 'expire', '--expire=now', '--all');
    git(repo, 'gc', '-q', '--prune=now');
    git(repo, 'gc', '-q', '--aggressive', '--prune=now');
    expect(git(repo, 'cat-file', '-t', base)).toBe('commit');
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    const shown = ok(repo, ['show', id, '--json']).json;
    expect(shown.patch).toContain('+v2 uncommitted');
    expect(shown.message.diff.base).toBe(base);
    // And after a rebuild from the packed objects.
    ok(repo, ['rebuild']);
    expect(ok(repo, ['show', id, '--json']).json.patch).toContain('+v2 uncommitted');
  });

  it("verify removes a chain ref's lock left by a writer killed mid-append, which git gc could not get past", () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    ok(repo, ['send', 'bob', 'one'], { agent: 'alice' });
    const chains = path.join(commonDir(repo), 'refs', 'handoff', 'chains');
    const chain = fs.readdirSync(chains)[0]!;
    // As a killed send leaves it: handoff's mark, naming a process that is gone.
    fs.writeFileSync(path.join(chains, `${chain}.lock`), 'handoff-owner 999999 -\n');
    const blocked = spawnSync('git', ['pack-refs', '--all'], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
    expect(blocked.stderr).toMatch(/cannot lock ref/);
    expect(ok(repo, ['verify', '--json']).json.ok).toBe(true);
    expect(fs.existsSync(path.join(chains, `${chain}.lock`))).toBe(false);
    const packed = spawnSync('git', ['pack-refs', '--all'], { cwd: repo, env: cleanEnv(), encoding: 'utf8' });
    expect(packed.stderr).toBe('');
    // A lock that is not handoff's is git's or another tool's: left alone.
    fs.mkdirSync(chains, { recursive: true });
    fs.writeFileSync(path.join(chains, 'other.lock'), 'not ours\n');
    ok(repo, ['verify']);
    expect(fs.existsSync(path.join(chains, 'other.lock'))).toBe(true);
  });

  it('checkout materialises a snapshot in a new worktree without touching the current one; --clean removes it', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    fs.writeFileSync(path.join(repo, 'src/app.ts'), 'export const a = 2;\n');
    fs.writeFileSync(path.join(repo, 'new.txt'), 'new\n');
    const id = ok(repo, ['send', 'bob', 'look', '--attach-diff', '--json'], { agent: 'alice' }).json.message.id;
    git(repo, 'checkout', '-q', '--', 'src/app.ts');
    fs.rmSync(path.join(repo, 'new.txt'));
    const status = git(repo, 'status', '--porcelain');
    const head = git(repo, 'rev-parse', 'HEAD');
    const co = ok(repo, ['checkout', id.slice(0, 10), '--json']).json;
    expect(fs.readFileSync(path.join(co.path, 'src/app.ts'), 'utf8')).toBe('export const a = 2;\n');
    expect(fs.readFileSync(path.join(co.path, 'new.txt'), 'utf8')).toBe('new\n');
    expect(git(co.path, 'rev-parse', 'HEAD^')).toBe(head);
    expect(git(repo, 'status', '--porcelain')).toBe(status);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    const dir = path.join(path.dirname(repo), `${path.basename(repo)}-review`);
    expect(ok(repo, ['checkout', id, dir]).stdout.trim()).toBe(dir);
    const clean = ok(repo, ['checkout', '--clean', '--json']).json;
    expect(clean.removed.sort()).toEqual([co.path, dir].sort());
    expect(fs.existsSync(co.path)).toBe(false);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
    const none = cli(repo, [
      'checkout',
      ok(repo, ['send', 'bob', 'no diff', '--json'], { agent: 'alice' }).json.message.id,
      '--json',
    ]);
    expect(none.json.error.code).toBe('no_snapshot');
  });

  it('checkouts made at once, and one killed while git makes it, are all removed by --clean', async () => {
    const repo = makeRepo({ files: { 'src/app.ts': 'export const a = 1;\n' } });
    ok(repo, ['join'], { agent: 'bob' });
    fs.writeFileSync(path.join(repo, 'src/app.ts'), 'export const a = 2;\n');
    const id = ok(repo, ['send', 'bob', 'look', '--attach-diff', '--json'], { agent: 'alice' }).json.message.id;
    const dirs = [1, 2, 3, 4, 5, 6].map((i) => path.join(path.dirname(repo), `${path.basename(repo)}-par${i}`));
    const made = await Promise.all(dirs.map((d) => cliAsync(repo, ['checkout', id, d], { agent: 'bob' }).done));
    expect(made.map((r) => r.status)).toEqual(dirs.map(() => 0));
    // One killed once git started making it (its directory exists, git's record may not yet).
    const killed = path.join(path.dirname(repo), `${path.basename(repo)}-killed`);
    const k = cliAsync(repo, ['checkout', id, killed], { agent: 'bob' });
    for (let i = 0; i < 400 && !fs.existsSync(killed); i++) await new Promise((r) => setTimeout(r, 5));
    k.kill('SIGKILL');
    await k.done;
    const clean = ok(repo, ['checkout', '--clean', '--json']).json;
    expect(clean.kept).toEqual([]);
    for (const d of [...dirs, killed]) expect([d, fs.existsSync(d)]).toEqual([d, false]);
    expect(git(repo, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
  });

  it('checkout --clean keeps a worktree with changes in it, and says so; --clean --force removes it', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    fs.writeFileSync(path.join(repo, 'src/app.ts'), 'export const a = 2;\n');
    const id = ok(repo, ['send', 'bob', 'look', '--attach-diff', '--json'], { agent: 'alice' }).json.message.id;
    const edited = ok(repo, ['checkout', id, '--json']).json.path;
    const added = ok(repo, ['checkout', id, '--json']).json.path;
    const untouched = ok(repo, ['checkout', id, '--json']).json.path;
    fs.appendFileSync(path.join(edited, 'src/app.ts'), '// two hours of work\n');
    fs.writeFileSync(path.join(added, 'notes.txt'), 'new file\n');
    const r = cli(repo, ['checkout', '--clean']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`removed ${untouched}`);
    for (const p of [edited, added]) expect(r.stderr).toContain(`kept ${p} (message ${id})`);
    expect(r.stderr).toContain("'handoff checkout --clean --force'");
    expect(fs.readFileSync(path.join(edited, 'src/app.ts'), 'utf8')).toContain('two hours of work');
    expect(fs.readFileSync(path.join(added, 'notes.txt'), 'utf8')).toBe('new file\n');
    // Still remembered: a second --clean names them again, --json lists them, --force removes them.
    const again = ok(repo, ['checkout', '--clean', '--json']).json;
    expect(again.removed).toEqual([]);
    expect(again.kept.map((k: any) => k.path).sort()).toEqual([edited, added].sort());
    expect(again.kept[0].reason).toMatch(/modified or untracked/);
    expect(cli(repo, ['checkout', '--force', '--json']).json.error.code).toBe('force_needs_clean');
    const forced = ok(repo, ['checkout', '--clean', '--force', '--json']).json;
    expect(forced.removed.sort()).toEqual([edited, added].sort());
    expect(forced.kept).toEqual([]);
    expect(fs.existsSync(edited)).toBe(false);
    expect(git(repo, 'worktree', 'list').split('\n')).toHaveLength(1);

    // Work committed in a checkout, on its detached HEAD: kept until a branch holds it, then removed.
    const committed = ok(repo, ['checkout', id, '--json']).json.path;
    fs.appendFileSync(path.join(committed, 'src/app.ts'), '// my work\n');
    git(committed, 'commit', '-qam', 'my work');
    const work = git(committed, 'rev-parse', 'HEAD');
    const c = cli(repo, ['checkout', '--clean']);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain(
      `kept ${committed} (message ${id}): it holds commits no branch holds (${work.slice(0, 10)})`,
    );
    expect(c.stderr).toContain(`'git -C ${committed} branch <name> ${work.slice(0, 10)}'`);
    expect(fs.existsSync(committed)).toBe(true);
    // Also when its HEAD went back: the commit is only in the worktree's HEAD log, which goes with it.
    git(committed, 'checkout', '-q', 'HEAD~1');
    expect(cli(repo, ['checkout', '--clean', '--json']).json.kept.map((k: any) => k.path)).toEqual([committed]);
    git(committed, 'branch', 'keep-my-work', work);
    expect(ok(repo, ['checkout', '--clean', '--json']).json.removed).toEqual([committed]);
    expect(git(repo, 'rev-parse', 'keep-my-work')).toBe(work);

    // A file .gitignore keeps out of git (git worktree remove deletes those without asking): kept and named.
    fs.writeFileSync(path.join(commonDir(repo), 'info', 'exclude'), '.env\n');
    const secrets = ok(repo, ['checkout', id, '--json']).json.path;
    fs.writeFileSync(path.join(secrets, '.env'), 'TOKEN=mine\n');
    expect(git(secrets, 'status', '--porcelain')).toBe('');
    const s = ok(repo, ['checkout', '--clean', '--json']).json;
    expect(s.removed).toEqual([]);
    expect(s.kept).toEqual([
      expect.objectContaining({ path: secrets, reason: expect.stringContaining('files git ignores (.env)') }),
    ]);
    expect(fs.readFileSync(path.join(secrets, '.env'), 'utf8')).toBe('TOKEN=mine\n');
    expect(ok(repo, ['checkout', '--clean', '--force', '--json']).json.removed).toEqual([secrets]);
    expect(fs.existsSync(secrets)).toBe(false);
  });

  it('binary files and files over the size limit are in the snapshot but summarised in the patch', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'bob' });
    git(repo, 'config', 'handoff.patchFileLimit', '1000');
    fs.writeFileSync(path.join(repo, 'image.bin'), Buffer.from([0, 1, 2, 3, 255, 0, 7]));
    fs.writeFileSync(path.join(repo, 'big.txt'), 'line of text\n'.repeat(500));
    fs.writeFileSync(path.join(repo, 'small.txt'), 'small\n');
    const m = ok(repo, ['send', 'bob', 'assets', '--attach-diff', '--json'], { agent: 'alice' }).json.message;
    const patch = git(repo, 'show', `${m.commit}:patch`);
    expect(patch).toContain('Binary files /dev/null and b/image.bin differ');
    expect(patch).toContain('Binary files /dev/null and b/big.txt differ');
    expect(patch).not.toContain('line of text');
    expect(patch).toContain('+small');
    expect(git(repo, 'show', `${m.commit}:snapshot/big.txt`).split('\n')).toHaveLength(500);
  });
});

describe('rebuild equality', () => {
  it('every table holds the same rows after delete and rebuild, for 1,000 events of every type', async () => {
    const repo = makeRepo();
    for (const n of ['r0', 'r1', 'r2']) ok(repo, ['join', '--team', 'core', '--role', n], { agent: n });
    // 3 writer processes x 300 messages, plus receipts, leaves and re-joins.
    await Promise.all([0, 1, 2].map((i) => writer(repo, [`w${i}`, `r${i}`, '300', `bulk${i}`])));
    ok(repo, ['read', '--all'], { agent: 'r0' });
    const some = ok(repo, ['inbox', '--json', '--limit', '40'], { agent: 'r1' }).json.messages.map((m: any) => m.id);
    for (let i = 0; i < some.length; i += 4) ok(repo, ['ack', ...some.slice(i, i + 4)], { agent: 'r1' });
    ok(repo, ['leave'], { agent: 'r2' });
    ok(repo, ['join', '--team', 'docs'], { agent: 'r2' });
    const file = path.join(commonDir(repo), 'handoff', 'ledger.db');
    const dump = () => {
      const db = new Database(file, { readonly: true });
      const q = (sql: string) => db.prepare(sql).all();
      const out = {
        events: q('SELECT id, chain, commit_id, parent_commit, type, ts, clock, author, json FROM events ORDER BY id'),
        chains: q('SELECT clone_id, tip FROM chains ORDER BY clone_id'),
        witnesses: q('SELECT * FROM witnesses ORDER BY event_id, chain'),
        lastWitness: q('SELECT * FROM last_witness ORDER BY witness, chain'),
        agents: q('SELECT * FROM agents ORDER BY name'),
        messages: q('SELECT * FROM messages ORDER BY id'),
        recipients: q('SELECT * FROM recipients ORDER BY message_id, agent'),
      };
      db.close();
      return out;
    };
    const before = dump();
    expect(before.events.length).toBeGreaterThanOrEqual(900);
    expect(new Set(before.events.map((e: any) => e.type))).toEqual(new Set(['agent', 'message', 'receipt']));
    for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
    ok(repo, ['rebuild']);
    expect(dump()).toEqual(before);
  });
});
