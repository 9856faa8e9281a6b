import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover, findRepo, findRepoWithGit } from '../../src/git/repo';
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
