import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover, findRepo, findRepoWithGit } from '../../src/git/repo';
import { GitError, runGit } from '../../src/git/exec';
import { checkedOutBranch } from '../../src/git/history';
import { addWorktree, git, makeRepo, tmpDir } from '../helpers/repo';

const shape = (r: ReturnType<typeof findRepo>) => ({
  worktree: r.worktree,
  gitDir: r.gitDir,
  commonDir: r.commonDir,
  objectsDir: r.objectsDir,
});

describe('finding the repository', () => {
  it('finds what git rev-parse finds: subdirectories, linked worktrees, symbolic links, submodules (through git)', () => {
    const repo = makeRepo({ files: { 'src/deep/a.ts': 'x\n', 'README.md': 'r\n' } });
    const wt = addWorktree(repo, 'feature');
    const sub = makeRepo();
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', '-q', 'add', sub, 'vendor/sub');
    const link = path.join(tmpDir(), 'link');
    fs.symlinkSync(repo, link);
    const places = [repo, path.join(repo, 'src', 'deep'), wt, path.join(link, 'src')];
    for (const cwd of places) {
      // Found in-process (no git started), and the same as git's answer.
      expect(discover(cwd), cwd).not.toBeNull();
      expect(shape(findRepo(cwd)), cwd).toEqual(shape(findRepoWithGit(cwd)));
    }
    expect(findRepo(wt).commonDir).toBe(fs.realpathSync(path.join(repo, '.git')));
    // A submodule's git directory sets core.worktree: git answers there.
    const inSub = path.join(repo, 'vendor', 'sub');
    expect(discover(inSub)).toBeNull();
    expect(shape(findRepo(inSub))).toEqual(shape(findRepoWithGit(inSub)));
    expect(findRepo(inSub).gitDir).toBe(fs.realpathSync(path.join(repo, '.git', 'modules', 'vendor', 'sub')));
  });

  it('leaves the unusual to git: inside .git, a bare repository, core.worktree, an empty .git, GIT_DIR', () => {
    const repo = makeRepo();
    const outcome = (find: typeof findRepo, cwd: string) => {
      try {
        return shape(find(cwd));
      } catch (err) {
        return (err as Error).message;
      }
    };
    for (const cwd of [path.join(repo, '.git'), path.join(repo, '.git', 'refs')]) {
      expect(discover(cwd)).toBeNull();
      expect(outcome(findRepo, cwd)).toEqual(outcome(findRepoWithGit, cwd));
    }
    const bare = tmpDir();
    git(bare, 'init', '-q', '--bare');
    expect(shape(findRepo(bare))).toEqual(shape(findRepoWithGit(bare)));
    expect(findRepo(bare).worktree).toBeNull();
    expect(discover(bare)).toBeNull();
    // An empty .git directory is not a repository: git goes on up to the real one.
    fs.mkdirSync(path.join(repo, 'nested', '.git'), { recursive: true });
    expect(findRepo(path.join(repo, 'nested')).worktree).toBe(fs.realpathSync(repo));
    // core.worktree moves the working tree elsewhere.
    const elsewhere = tmpDir();
    git(repo, 'config', 'core.worktree', elsewhere);
    expect(discover(repo)).toBeNull();
    expect(findRepo(repo).worktree).toBe(findRepoWithGit(repo).worktree);
    expect(findRepo(repo).worktree).toBe(fs.realpathSync(elsewhere));
    git(repo, 'config', '--unset', 'core.worktree');
    // A bare key with no value, an extension, a .git file with anything before "gitdir: ": git decides.
    for (const [key, value] of [
      ['core.bare', null],
      ['extensions.worktreeConfig', 'true'],
    ] as const) {
      fs.appendFileSync(path.join(repo, '.git', 'config'), value === null ? '[core]\n\tbare\n' : '');
      if (value !== null) git(repo, 'config', key, value);
      expect(discover(repo), key).toBeNull();
      if (value === null)
        fs.writeFileSync(
          path.join(repo, '.git', 'config'),
          fs.readFileSync(path.join(repo, '.git', 'config'), 'utf8').replace('[core]\n\tbare\n', ''),
        );
      else git(repo, 'config', '--unset', key);
      expect(discover(repo), key).not.toBeNull();
    }
    // A repository git would not take (no refs/, a HEAD naming nothing): git looks further up, and so does handoff.
    const inner = path.join(repo, 'inner');
    fs.mkdirSync(inner);
    git(inner, 'init', '-q');
    fs.rmSync(path.join(inner, '.git', 'refs'), { recursive: true });
    expect(discover(inner)).toBeNull();
    expect(findRepo(inner).worktree).toBe(findRepoWithGit(inner).worktree);
    fs.mkdirSync(path.join(inner, '.git', 'refs'));
    fs.writeFileSync(path.join(inner, '.git', 'HEAD'), 'garbage\n');
    expect(discover(inner)).toBeNull();
    expect(findRepo(inner).worktree).toBe(fs.realpathSync(repo));
    // A .git that is a symbolic link to the repository's directory: the real path, as git prints it.
    const real = tmpDir();
    const linked = path.join(tmpDir(), 'linked');
    fs.mkdirSync(linked);
    git(real, 'init', '-q');
    fs.symlinkSync(path.join(real, '.git'), path.join(linked, '.git'));
    expect(discover(linked)).not.toBeNull();
    expect(shape(findRepo(linked))).toEqual(shape(findRepoWithGit(linked)));
    // GIT_DIR names another repository: it wins.
    const other = makeRepo();
    process.env.GIT_DIR = path.join(other, '.git');
    try {
      expect(discover(repo)).toBeNull();
      expect(findRepo(repo).gitDir).toBe(fs.realpathSync(path.join(other, '.git')));
    } finally {
      delete process.env.GIT_DIR;
    }
  });
});

describe('git failures', () => {
  it('name the git command after its global options, and say what a vanished object means', () => {
    const repo = makeRepo();
    // A real failure: an object that is not there, read with a global option first.
    const r = runGit(['-c', 'core.quotePath=false', 'cat-file', '-p', '0123456789abcdef0123456789abcdef01234567'], {
      cwd: repo,
      allowFailure: true,
    });
    expect(r.status).not.toBe(0);
    const plain = new GitError(['-c', 'core.quotePath=false', 'cat-file', '-p', 'x'], r.status, r.stderr);
    expect(plain.message).toMatch(/^git cat-file failed: /);
    expect(plain.message).not.toContain('gc --prune');
    const gone = new GitError(
      ['--no-optional-locks', '-c', 'a.b=c', 'hash-object', '--stdin'],
      128,
      'fatal: unable to read 3f69b93c0ffee3f69b93c0ffee3f69b93c0ffee0\n',
    );
    expect(gone.message).toMatch(/^git hash-object failed: fatal: unable to read 3f69b93/);
    expect(gone.message).toContain('was git gc --prune=now running? Run the command again');
  });
});

describe('the checked-out branch', () => {
  it('is read from HEAD per worktree, null when detached, and asked of git where the file does not say', () => {
    const repo = makeRepo();
    const wt = addWorktree(repo, 'side/one');
    const at = (dir: string) => checkedOutBranch(findRepo(dir));
    expect([at(repo), at(wt)]).toEqual(['main', 'side/one']);
    git(wt, 'checkout', '-q', '--detach');
    expect(at(wt)).toBeNull();
    // A reftable repository's HEAD file names a stub; a symbolic link is a HEAD of old: git answers for both.
    const stub = tmpDir();
    fs.writeFileSync(path.join(stub, 'HEAD'), 'ref: refs/heads/.invalid\n');
    expect(checkedOutBranch({ gitDir: stub, cwd: repo })).toBe('main');
    fs.rmSync(path.join(stub, 'HEAD'));
    fs.symlinkSync(path.join(findRepo(repo).gitDir, 'HEAD'), path.join(stub, 'HEAD'));
    git(repo, 'checkout', '-q', '-b', 'other');
    expect(checkedOutBranch({ gitDir: stub, cwd: repo })).toBe('other');
  });
});
