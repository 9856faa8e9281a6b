import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addWorktree, cli, cliAsync, commonDir, git, makeRepo, ok, tmpDir } from '../helpers/repo';
import { ownStartName } from '../../src/core/proc';

/**
 * The tree git's own `add -A` and `write-tree` make of the working tree, through a copy of the index. The
 * copy keeps the index's times: git trusts an entry's stat data only when the file is older than the index,
 * so a copy made now would hide an edit made in the second of the last index write (a racily clean entry).
 */
function gitsOwnTree(repo: string): string {
  const from = path.resolve(repo, git(repo, 'rev-parse', '--git-path', 'index'));
  const index = `${from}.test-copy`;
  fs.copyFileSync(from, index);
  const st = fs.statSync(from);
  fs.utimesSync(index, st.atime, st.mtime);
  const env = { ...process.env, GIT_INDEX_FILE: index };
  spawnSync('git', ['add', '-A'], { cwd: repo, env });
  return spawnSync('git', ['write-tree'], { cwd: repo, env, encoding: 'utf8' }).stdout.trim();
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('send --attach-diff', () => {
  it('snapshots staged, unstaged and untracked files, respects .gitignore and leaves secrets out, touching nothing of the user', () => {
    const repo = makeRepo({
      files: { '.gitignore': 'build/\n', 'src/a.ts': 'a1\n', 'src/b.ts': 'b1\n', 'src/gone.ts': 'g\n' },
    });
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'src/a.ts'), 'a2 staged\n');
    git(repo, 'add', 'src/a.ts');
    fs.writeFileSync(path.join(repo, 'src/a.ts'), 'a3 unstaged on top\n');
    fs.writeFileSync(path.join(repo, 'src/b.ts'), 'b2 unstaged\n');
    fs.writeFileSync(path.join(repo, 'src/new.ts'), 'untracked\n');
    fs.rmSync(path.join(repo, 'src/gone.ts'));
    fs.mkdirSync(path.join(repo, 'build'));
    fs.writeFileSync(path.join(repo, 'build/out.js'), 'ignored\n');
    fs.writeFileSync(path.join(repo, '.env'), 'SECRET=1\n');
    fs.writeFileSync(path.join(repo, 'server.pem'), '-----BEGIN\n');
    fs.mkdirSync(path.join(repo, 'keys'));
    fs.writeFileSync(path.join(repo, 'keys/id_rsa'), 'private\n');

    const indexFile = path.join(repo, '.git', 'index');
    const before = {
      index: sha(indexFile),
      status: git(repo, 'status', '--porcelain'),
      head: git(repo, 'rev-parse', 'HEAD'),
      branches: git(repo, 'for-each-ref', 'refs/heads/'),
      stash: git(repo, 'stash', 'list'),
    };

    const r = ok(repo, ['send', 'codex', 'my changes', '--attach-diff', '--json'], { agent: 'claude' });
    const m = r.json.message;
    expect(m.diff.base).toBe(before.head);
    expect(m.diff.excluded).toEqual(['.env', 'keys/id_rsa', 'server.pem']);
    expect(r.stderr).toBe('');

    // The snapshot is the working tree: the unstaged content of a.ts wins over the staged one.
    const snap = (p: string) => git(repo, 'show', `${m.commit}:snapshot/${p}`);
    expect(snap('src/a.ts')).toBe('a3 unstaged on top');
    expect(snap('src/b.ts')).toBe('b2 unstaged');
    expect(snap('src/new.ts')).toBe('untracked');
    const files = git(repo, 'ls-tree', '-r', '--name-only', `${m.commit}:snapshot`).split('\n');
    expect(files).not.toContain('src/gone.ts');
    expect(files).not.toContain('build/out.js');
    expect(files).not.toContain('.env');
    expect(files).not.toContain('server.pem');
    expect(files).not.toContain('keys/id_rsa');
    // The secret's content was not even written to the object database.
    const secretBlob = git(repo, 'hash-object', '.env');
    expect(() => git(repo, 'cat-file', '-e', secretBlob)).toThrow();

    const patch = git(repo, 'show', `${m.commit}:patch`);
    expect(patch).toContain('+a3 unstaged on top');
    expect(patch).toContain('deleted file mode');
    expect(patch).toContain('+++ b/src/new.ts');
    expect(patch).not.toContain('SECRET');
    expect(m.diff.files).toBe(4);

    // The base commit is kept reachable from the ledger (second parent of the event commit).
    expect(git(repo, 'rev-parse', `${m.commit}^2`)).toBe(before.head);

    // Nothing of the user's changed.
    expect(sha(indexFile)).toBe(before.index);
    expect(git(repo, 'status', '--porcelain')).toBe(before.status);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(before.head);
    expect(git(repo, 'for-each-ref', 'refs/heads/')).toBe(before.branches);
    expect(git(repo, 'stash', 'list')).toBe(before.stash);
    expect(fs.readFileSync(path.join(repo, 'src/a.ts'), 'utf8')).toBe('a3 unstaged on top\n');

    // show prints the message with its diff.
    const shown = ok(repo, ['show', m.id], { agent: 'codex' }).stdout;
    expect(shown).toContain('my changes');
    expect(shown).toContain('+b2 unstaged');
    expect(shown).toMatch(/Left out: .env, keys\/id_rsa, server.pem/);
  });

  it('honours extra patterns from git config handoff.snapshotExclude', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    git(repo, 'config', '--add', 'handoff.snapshotExclude', '*.secret');
    fs.writeFileSync(path.join(repo, 'db.secret'), 'pw\n');
    fs.writeFileSync(path.join(repo, 'ok.txt'), 'fine\n');
    const m = ok(repo, ['send', 'codex', 'x', '--attach-diff', '--json'], { agent: 'claude' }).json.message;
    expect(m.diff.excluded).toEqual(['db.secret']);
    expect(git(repo, 'show', `${m.commit}:snapshot/ok.txt`)).toBe('fine');
  });

  it("works from a linked worktree, against that worktree's HEAD and files", () => {
    const repo = makeRepo();
    const wt = path.join(path.dirname(repo), `${path.basename(repo)}-wt`);
    git(repo, 'worktree', 'add', '-q', '-b', 'feature', wt);
    fs.writeFileSync(path.join(wt, 'feature.txt'), 'only in the worktree\n');
    git(wt, 'add', 'feature.txt');
    git(wt, 'commit', '-q', '-m', 'feature');
    fs.appendFileSync(path.join(wt, 'feature.txt'), 'more\n');
    ok(repo, ['join'], { agent: 'claude' });
    const m = ok(wt, ['send', 'claude', 'from the worktree', '--attach-diff', '--json'], { agent: 'codex' }).json
      .message;
    expect(m.diff.base).toBe(git(wt, 'rev-parse', 'HEAD'));
    expect(git(repo, 'show', `${m.commit}:patch`)).toContain('+more');
    expect(git(wt, 'diff', '--cached', '--name-only')).toBe('');
    expect(git(wt, 'diff', '--name-only')).toBe('feature.txt');
  });
});

describe('racily clean files', () => {
  it('a same-size change made in the same second as the index is still in the snapshot', () => {
    // Repeat: the race needs the edit to land in the same second as the index write.
    for (let i = 0; i < 5; i++) {
      const repo = makeRepo({ files: { 'a.ts': 'export const a = 1;\n' } });
      ok(repo, ['join'], { agent: 'bob' });
      git(repo, 'add', '-A'); // rewrites the index now
      fs.writeFileSync(path.join(repo, 'a.ts'), 'export const a = 2;\n'); // same size, same second
      const m = ok(repo, ['send', 'bob', 'racy', '--attach-diff', '--json'], { agent: 'alice' }).json.message;
      expect(git(repo, 'show', `${m.commit}:snapshot/a.ts`)).toBe('export const a = 2;');
    }
  });

  it("the snapshot tree is the one git's own add and write-tree make (new, deleted, nested and reordered names)", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`src/m${i % 3}/f${i}.ts`] = `v${i}\n`;
    const repo = makeRepo({ files: { ...files, 'a-b.ts': 'x\n', 'a/c.ts': 'y\n' } });
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, 'src/m1/f1.ts'), 'changed\n');
    fs.rmSync(path.join(repo, 'src/m2/f2.ts'));
    fs.writeFileSync(path.join(repo, 'src/m0/0-first.ts'), 'new, sorts first\n');
    fs.writeFileSync(path.join(repo, 'src/m0/zz-last.ts'), 'new, sorts last\n');
    fs.mkdirSync(path.join(repo, 'src/new/deep'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'src/new/deep/n.ts'), 'nested\n');
    fs.writeFileSync(path.join(repo, 'a.ts'), 'sorts between a-b.ts and a/\n');
    fs.rmSync(path.join(repo, 'a/c.ts')); // the whole directory goes
    // Several new names at one place, one a prefix of an existing name, and a file that becomes a directory.
    for (const n of ['f10.tsa', 'f10.ts-x', 'f10.t', 'f10.ts.d'])
      fs.writeFileSync(path.join(repo, 'src/m1', n), `${n}\n`);
    fs.rmSync(path.join(repo, 'src/m2/f5.ts'));
    fs.mkdirSync(path.join(repo, 'src/m2/f5.ts'));
    fs.writeFileSync(path.join(repo, 'src/m2/f5.ts/inner.ts'), 'a file turned directory\n');
    const m = ok(repo, ['send', 'codex', 'tree', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    const expected = gitsOwnTree(repo);
    expect(git(repo, 'rev-parse', `${m.commit}:snapshot`)).toBe(expected);
    expect(spawnSync('git', ['fsck', '--no-progress', '--strict'], { cwd: repo }).status).toBe(0);
    const gitPatch = (tree: string) =>
      git(repo, 'diff-tree', '-r', '-p', '-M', '--no-color', '--no-ext-diff', '--full-index', 'HEAD', tree);
    expect(git(repo, 'show', `${m.commit}:patch`)).toBe(gitPatch(expected));

    // Again with HEAD's trees packed (deltas), changes in every directory, sent from a subdirectory (the
    // status started before the command loads runs there).
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'second');
    git(repo, 'gc', '-q');
    for (let i = 0; i < 300; i += 7) fs.appendFileSync(path.join(repo, `src/m${i % 3}/f${i}.ts`), 'more\n');
    fs.writeFileSync(path.join(repo, 'src/new/deep/n2.ts'), 'another\n');
    fs.rmSync(path.join(repo, 'a-b.ts'));
    const m2 = ok(repo.concat('/src/m1'), ['send', 'codex', 'packed', '--attach-diff', '--json'], { agent: 'lead' })
      .json.message;
    const expected2 = gitsOwnTree(repo);
    expect(git(repo, 'rev-parse', `${m2.commit}:snapshot`)).toBe(expected2);
    expect(git(repo, 'show', `${m2.commit}:patch`)).toBe(gitPatch(expected2));
    expect(m2.diff.files).toBe(43 + 2);
    expect(spawnSync('git', ['fsck', '--no-progress', '--strict'], { cwd: repo }).status).toBe(0);
  });

  it("the patch is git's own diff from HEAD for every kind of status record (staged, mode, symlink, unmerged)", () => {
    const repo = makeRepo({
      files: { 'staged.ts': 's\n', 'both.ts': 'b\n', 'mode.sh': 'echo\n', 'gone.ts': 'g\n', 'conflict.ts': 'base\n' },
    });
    ok(repo, ['join'], { agent: 'codex' });
    const gitPatch = (tree: string) =>
      git(repo, 'diff-tree', '-r', '-p', '-M', '--no-color', '--no-ext-diff', '--full-index', 'HEAD', tree);
    const check = (label: string) => {
      const m = ok(repo, ['send', 'codex', label, '--attach-diff', '--json'], { agent: 'lead' }).json.message;
      const tree = git(repo, 'rev-parse', `${m.commit}:snapshot`);
      expect(tree).toBe(gitsOwnTree(repo));
      expect(git(repo, 'show', `${m.commit}:patch`)).toBe(gitPatch(tree));
      return m;
    };
    fs.writeFileSync(path.join(repo, 'staged.ts'), 's2\n');
    git(repo, 'add', 'staged.ts'); // staged only
    fs.writeFileSync(path.join(repo, 'both.ts'), 'b2\n');
    git(repo, 'add', 'both.ts');
    fs.writeFileSync(path.join(repo, 'both.ts'), 'b3\n'); // staged, then changed again
    fs.chmodSync(path.join(repo, 'mode.sh'), 0o755);
    git(repo, 'rm', '-q', 'gone.ts');
    fs.symlinkSync('staged.ts', path.join(repo, 'link'));
    fs.writeFileSync(path.join(repo, 'added.ts'), 'new\n');
    git(repo, 'add', 'added.ts'); // in the index, not in HEAD
    expect(check('kinds').diff.files).toBe(6);
    git(repo, 'commit', '-qam', 'kinds first');
    git(repo, 'add', 'link', 'added.ts');
    git(repo, 'commit', '-qm', 'link');

    // Only symbolic links changed (no file for hash-object), and a path removed from the index but kept.
    fs.rmSync(path.join(repo, 'link'));
    fs.symlinkSync('both.ts', path.join(repo, 'link'));
    fs.symlinkSync('mode.sh', path.join(repo, 'link2'));
    expect(check('links').diff.files).toBe(2);
    git(repo, 'rm', '-q', '--cached', 'added.ts');
    expect(check('kept').diff.files).toBe(2);
    fs.writeFileSync(path.join(repo, 'added.ts'), 'changed after rm --cached\n');
    expect(check('kept, changed').diff.files).toBe(3);
    for (const f of ['link', 'link2']) fs.rmSync(path.join(repo, f));
    git(repo, 'checkout', '-q', '--', 'link');
    git(repo, 'add', 'added.ts');

    // An unmerged path: status gives no HEAD entry for it, and the patch still starts from HEAD.
    git(repo, 'commit', '-qam', 'kinds');
    git(repo, 'checkout', '-q', '-b', 'other');
    fs.writeFileSync(path.join(repo, 'conflict.ts'), 'theirs\n');
    git(repo, 'commit', '-qam', 'theirs');
    git(repo, 'checkout', '-q', 'main');
    fs.writeFileSync(path.join(repo, 'conflict.ts'), 'ours\n');
    git(repo, 'commit', '-qam', 'ours');
    expect(spawnSync('git', ['merge', '-q', 'other'], { cwd: repo }).status).not.toBe(0);
    fs.writeFileSync(path.join(repo, 'staged.ts'), 'during the merge\n');
    expect(git(repo, 'status', '--porcelain=v2')).toMatch(/^u UU /m);
    const patch = git(repo, 'show', `${check('unmerged').commit}:patch`);
    expect(patch).toContain('+during the merge');
    expect(patch).toContain('+<<<<<<< HEAD\n ours\n+=======\n+theirs');
  });

  it('attaches a diff in a repository whose path holds a colon and a quote', () => {
    const parent = path.join(tmpDir(), 'a:b "c"');
    fs.mkdirSync(parent);
    const repo = path.join(parent, 'repo');
    fs.mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'f.txt'), 'one\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'init');
    fs.writeFileSync(path.join(repo, 'f.txt'), 'one\ntwo\n');
    ok(repo, ['join'], { agent: 'codex' });
    const m = ok(repo, ['send', 'codex', 'colon', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    expect(m.diff.files).toBe(1);
    expect(git(repo, 'show', `${m.commit}:patch`)).toContain('+two');
  });

  it('edits a HEAD tree whose directory mode is written 040000 (as some tools do) without doubling it', () => {
    const repo = makeRepo({ files: { 'a.txt': 'top\n', 'a/x.txt': 'inner\n' } });
    // HEAD's root tree rewritten with "040000" for the directory (git reads it, fsck only warns).
    const sub = git(repo, 'rev-parse', 'HEAD:a');
    const blob = git(repo, 'rev-parse', 'HEAD:a.txt');
    const raw = Buffer.concat([
      Buffer.from('100644 a.txt\0'),
      Buffer.from(blob, 'hex'),
      Buffer.from('040000 a\0'),
      Buffer.from(sub, 'hex'),
    ]);
    const tree = spawnSync('git', ['hash-object', '-t', 'tree', '--literally', '-w', '--stdin'], {
      cwd: repo,
      input: raw,
      encoding: 'utf8',
    }).stdout.trim();
    const commit = git(repo, 'commit-tree', tree, '-p', 'HEAD', '-m', 'padded');
    git(repo, 'reset', '-q', '--hard', commit);
    fs.appendFileSync(path.join(repo, 'a.txt'), 'more\n');
    fs.appendFileSync(path.join(repo, 'a/x.txt'), 'more\n');
    ok(repo, ['join'], { agent: 'codex' });
    const m = ok(repo, ['send', 'codex', 'padded', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    expect(git(repo, 'ls-tree', '--name-only', `${m.commit}:snapshot`).split('\n')).toEqual(['a.txt', 'a']);
    expect(git(repo, 'show', `${m.commit}:snapshot/a/x.txt`)).toBe('inner\nmore');
    expect(m.diff.files).toBe(2);
  });
});

describe('partial clones', () => {
  it('a blob:none partial clone attaches its diff, made in place (no temporary object directory)', () => {
    const origin = makeRepo({ files: { 'a.txt': 'one\n', 'lib/b.txt': 'two\n', 'lib/c.txt': 'three\n' } });
    git(origin, 'config', 'uploadpack.allowFilter', 'true');
    const clone = path.join(tmpDir(), 'partial');
    git(path.dirname(clone), 'clone', '-q', '--no-checkout', '--filter=blob:none', `file://${origin}`, clone);
    git(clone, 'checkout', '-q', 'main');
    expect(fs.readdirSync(path.join(clone, '.git/objects/pack')).some((f) => f.endsWith('.promisor'))).toBe(true);
    fs.writeFileSync(path.join(clone, 'lib/b.txt'), 'two, changed\n');
    fs.writeFileSync(path.join(clone, 'lib/new.txt'), 'new\n');
    ok(clone, ['join'], { agent: 'codex' });
    const m = ok(clone, ['send', 'codex', 'partial', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    expect(m.diff.files).toBe(2);
    expect(git(clone, 'show', `${m.commit}:snapshot/lib/b.txt`)).toBe('two, changed');
    const patch = git(clone, 'show', `${m.commit}:patch`);
    expect(patch).toContain('-two\n+two, changed');
    expect(patch).toContain('+new');
    expect(git(clone, 'rev-parse', `${m.commit}:snapshot/lib/c.txt`)).toBe(git(origin, 'rev-parse', 'HEAD:lib/c.txt'));
    expect(spawnSync('git', ['fsck', '--no-progress'], { cwd: clone }).status).toBe(0);
  });
});

describe('names git reads specially, and commands that end early', () => {
  it('files named with a leading quote, a carriage return or a newline, also inside such directories, hold their own content', () => {
    const repo = makeRepo({ files: { a: 'a\n', plain: 'base\n', 'dir\nx/f': '1\n', 'keep/g': 'g\n' } });
    ok(repo, ['join'], { agent: 'codex' });
    fs.writeFileSync(path.join(repo, '"a"'), 'quoted content\n');
    fs.writeFileSync(path.join(repo, '"abc'), 'half quoted\n');
    fs.writeFileSync(path.join(repo, 'plain\r'), 'carriage return\n');
    fs.writeFileSync(path.join(repo, 'new\nline'), 'newline\n');
    fs.writeFileSync(path.join(repo, 'dir\nx/f'), '2\n');
    fs.mkdirSync(path.join(repo, 'u\nv'));
    fs.writeFileSync(path.join(repo, 'u\nv/g'), 'untracked in a newline directory\n');
    const m = ok(repo, ['send', 'codex', 'odd names', '--attach-diff', '--json'], { agent: 'lead' }).json.message;
    const expected = gitsOwnTree(repo);
    expect(git(repo, 'rev-parse', `${m.commit}:snapshot`)).toBe(expected);
    expect(git(repo, 'show', `${m.commit}:snapshot/"a"`)).toBe('quoted content');
    expect(m.diff.files).toBe(6);
  });

  it('scratch directories of patches whose process is gone are removed; a live one stays', () => {
    const repo = makeRepo({ files: { 'a.txt': 'a\n' } });
    ok(repo, ['join'], { agent: 'codex' });
    const tmp = path.join(commonDir(repo), 'handoff', 'diff-tmp');
    fs.mkdirSync(path.join(tmp, '999999-t0.0-AbCdEf', 'pack'), { recursive: true });
    fs.writeFileSync(path.join(tmp, '999999-t0.0-AbCdEf', 'pack', 'x.pack'), 'left by a kill');
    // This test's own process, under another start: its pid was reused.
    fs.mkdirSync(path.join(tmp, `${process.pid}-t0.0-GhIjKl`));
    const live = `${process.pid}-${ownStartName()}-MnOpQr`;
    fs.mkdirSync(path.join(tmp, live));
    fs.writeFileSync(path.join(repo, 'a.txt'), 'b\n');
    ok(repo, ['send', 'codex', 'diff', '--attach-diff'], { agent: 'lead' });
    expect(fs.readdirSync(tmp)).toEqual([live]);
  });

  it('a send that fails before its snapshot does not wait for git status (a slow one here), nor leave it running', () => {
    const repo = makeRepo();
    ok(repo, ['join'], { agent: 'codex' });
    const bin = path.join(tmpDir(), 'bin');
    fs.mkdirSync(bin);
    const realGit = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
    const marker = path.join(bin, 'status-finished');
    fs.writeFileSync(
      path.join(bin, 'git'),
      `#!/bin/sh\nfor a in "$@"; do if [ "$a" = status ]; then sleep 4; "${realGit}" "$@"; s=$?; touch "${marker}"; exit $s; fi; done\nexec "${realGit}" "$@"\n`,
      { mode: 0o755 },
    );
    const envPath = { PATH: `${bin}:${process.env.PATH}` };
    for (const args of [
      ['send', 'nobody-here', 'hi', '--attach-diff'],
      ['reply', 'ZZZZZZZ', 'hi', '--attach-diff'],
      ['send', 'codex', 'hi', '--attach-diff', '--no-such-flag'],
    ]) {
      const started = Date.now();
      const r = cli(repo, args, { agent: 'lead', env: envPath });
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.length).toBeGreaterThan(0);
      // Well under the status's 4 s, with room for a slow machine's start-up under load.
      expect(Date.now() - started, args.join(' ')).toBeLessThan(3000);
    }
    // The statuses were stopped at exit: none finishes later.
    spawnSync('sleep', ['4.5']);
    expect(fs.existsSync(marker)).toBe(false);
    // With a recipient, the send waits for its status and attaches the diff.
    fs.writeFileSync(path.join(repo, 'README.md'), 'changed\n');
    const m = ok(repo, ['send', 'codex', 'slow status', '--attach-diff', '--json'], { agent: 'lead', env: envPath })
      .json.message;
    expect(m.diff.files).toBe(1);
    expect(fs.existsSync(marker)).toBe(true);
  });
});

describe('two agents in two worktrees', () => {
  it('send --attach-diff at the same time from each: every snapshot is its own worktree, and verify is clean', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`src/d${i % 4}/f${i}.ts`] = `v${i}\n`;
    const repo = makeRepo({ files });
    ok(repo, ['join'], { agent: 'lead' });
    ok(repo, ['join'], { agent: 'codex' });
    const wt = addWorktree(repo, 'feature');
    fs.writeFileSync(path.join(repo, 'src/d0/f0.ts'), 'main side\n');
    fs.writeFileSync(path.join(wt, 'src/d1/f1.ts'), 'feature side\n');
    fs.writeFileSync(path.join(wt, 'src/d2/new.ts'), 'untracked in the worktree\n');
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(cliAsync(repo, ['send', 'codex', `main ${i}`, '--attach-diff', '--json'], { agent: 'lead' }).done);
      runs.push(cliAsync(wt, ['send', 'lead', `feature ${i}`, '--attach-diff', '--json'], { agent: 'codex' }).done);
    }
    const done = await Promise.all(runs);
    const want = { main: gitsOwnTree(repo), feature: gitsOwnTree(wt) };
    expect(want.main).not.toBe(want.feature);
    for (const r of done) {
      expect(r.status, r.stderr).toBe(0);
      const m = JSON.parse(r.stdout).message;
      const side = m.body.startsWith('main') ? 'main' : 'feature';
      expect(git(repo, 'rev-parse', `${m.commit}:snapshot`), m.body).toBe(want[side]);
      expect(m.diff.base).toBe(git(side === 'main' ? repo : wt, 'rev-parse', 'HEAD'));
    }
    expect(cli(repo, ['verify']).status).toBe(0);
    expect(fs.readdirSync(path.join(repo, '.git', 'handoff', 'diff-tmp'))).toEqual([]);
  });
});
