/** Finding the repository handoff works in: its git directory, the common directory shared by worktrees. */
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, HandoffError } from '../core/errors';
import { runGit } from './exec';

export interface Repo {
  /** The directory commands run in. */
  cwd: string;
  /** Top of the working tree, or null in a bare repository. */
  worktree: string | null;
  /** This worktree's git directory (holds its index and HEAD). */
  gitDir: string;
  /** The directory shared by all worktrees of the clone (objects, refs, config). */
  commonDir: string;
  objectsDir: string;
  /**
   * core.sharedRepository, asked for only when handoff creates a directory in the object database or the
   * refs (those are the files whose mode matters to the other users of a shared repository).
   */
  shared?: () => string | null;
  /**
   * The last value of a git config key among those the command's remembered config holds (git/config-cache.ts),
   * or undefined where this repository has no such record (git is then asked).
   */
  configValue?: (key: string) => string | null | undefined;
}

/**
 * Locates the repository containing `cwd`, or throws a NotFoundError that says how to get one. The common
 * case (a working tree found by walking up to its `.git`) is found in-process; anything else is git's to
 * decide (findRepoWithGit).
 */
export function findRepo(cwd: string): Repo {
  const found = discover(cwd);
  if (found) return makeRepo(cwd, found.worktree, found.gitDir, found.commonDir, found.config);
  return findRepoWithGit(cwd);
}

/** Environment variables that change how git finds or reads a repository: with any set, git decides. */
const DISCOVERY_ENV =
  /^GIT_(DIR|WORK_TREE|COMMON_DIR|CEILING_DIRECTORIES|DISCOVERY_ACROSS_FILESYSTEM|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|NAMESPACE|SAFE_DIRECTORY|TEST_.*)$/;

/**
 * What `git rev-parse --git-dir --git-common-dir --show-toplevel` says for a working tree, found as git
 * finds it: the nearest `.git` above `cwd` (a directory, or a file naming one: linked worktrees and
 * submodules). Null wherever git might decide otherwise: a discovery variable set, `cwd` inside a git
 * directory or a bare repository, a `.git` that is not a repository, a repository owned by another user
 * (safe.directory), a local config that sets core.worktree or core.bare or includes other files, or a
 * per-worktree config.
 */
export function discover(cwd: string): { worktree: string; gitDir: string; commonDir: string; config: string } | null {
  if (Object.keys(process.env).some((k) => DISCOVERY_ENV.test(k))) return null;
  // Without user ids (Windows) git's ownership check cannot be made here.
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  let dir: string;
  let device: number;
  try {
    dir = fs.realpathSync.native(cwd);
    device = fs.statSync(dir).dev;
  } catch {
    return null;
  }
  for (;;) {
    const dotgit = path.join(dir, '.git');
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(dotgit);
    } catch {
      st = undefined;
    }
    if (st) {
      try {
        let gitDir: string;
        if (st.isDirectory()) gitDir = fs.realpathSync.native(dotgit);
        else {
          // As git reads it: "gitdir: " at the very start, the path up to the end of the line.
          const m = /^gitdir: ([^\r\n]+)[\r\n]*$/.exec(fs.readFileSync(dotgit, 'utf8'));
          if (!m) return null;
          gitDir = fs.realpathSync.native(path.resolve(dir, m[1]!));
        }
        // A repository as git's is_git_directory sees one: a HEAD that names a ref or a commit, refs/, objects/.
        if (!/^(ref: refs\/|[0-9a-f]{40}\s*$)/.test(fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8'))) return null;
        let commonDir = gitDir;
        try {
          commonDir = fs.realpathSync.native(
            path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim()),
          );
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
        }
        if (!fs.statSync(path.join(commonDir, 'objects')).isDirectory()) return null;
        if (!fs.statSync(path.join(commonDir, 'refs')).isDirectory()) return null;
        if (fs.statSync(dir).uid !== uid || fs.statSync(gitDir).uid !== uid) return null;
        if (fs.existsSync(path.join(gitDir, 'config.worktree'))) return null;
        const config = fs.readFileSync(path.join(commonDir, 'config'), 'utf8');
        if (!plainConfig(config)) return null;
        return { worktree: dir, gitDir, commonDir, config };
      } catch {
        return null;
      }
    }
    // A git directory itself (cwd inside .git, or a bare repository): git knows what to do there.
    if (fs.existsSync(path.join(dir, 'HEAD')) && fs.existsSync(path.join(dir, 'objects'))) return null;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    // git stops at a file system boundary (unless GIT_DISCOVERY_ACROSS_FILESYSTEM, which sends this to git).
    try {
      if (fs.statSync(parent).dev !== device) return null;
    } catch {
      return null;
    }
    dir = parent;
  }
}

/**
 * A repository config with nothing that changes where the working tree is or how git reads the
 * repository: no core.worktree, core.bare other than false, include, extension or format version
 * other than 0. Anything else goes to git.
 */
function plainConfig(config: string): boolean {
  for (const raw of config.split('\n')) {
    const line = raw.replace(/^\s*\[\s*core\s*\]\s*/i, '').trim();
    if (/^\[\s*(include|extensions)/i.test(line)) return false;
    if (/^repositoryformatversion\b/i.test(line) && !/^repositoryformatversion\s*=\s*0\s*([#;].*)?$/i.test(line))
      return false;
    if (/^worktree\b/i.test(line)) return false;
    if (/^bare\b/i.test(line) && !/^bare\s*=\s*false\s*([#;].*)?$/i.test(line)) return false;
  }
  return true;
}

/** Locates the repository containing `cwd` by asking git (`git rev-parse`). */
export function findRepoWithGit(cwd: string): Repo {
  const res = runGit(
    ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--is-bare-repository', '--show-toplevel'],
    { cwd, allowFailure: true },
  );
  const lines = res.stdout.toString('utf8').split('\n');
  if (res.status !== 0) {
    if (/not a git repository/i.test(res.stderr)) {
      throw new NotFoundError(
        'not_a_repository',
        `${cwd} is not inside a git repository. Run handoff inside the repository your agents share (or 'git init' one first).`,
      );
    }
    if (lines[2] === 'true') {
      // Bare repositories have no top level; rev-parse fails on that part only.
      return makeRepo(cwd, null, lines[0]!, lines[1]!);
    }
    // Inside a repository's git directory (.git, or a linked worktree's), which has no working tree.
    if (/must be run in a work tree/i.test(res.stderr) && lines[0]) {
      const top = path.basename(lines[0]) === '.git' ? path.dirname(lines[0]) : null;
      throw new NotFoundError(
        'not_a_repository',
        `${cwd} is inside the git directory ${lines[0]}, not in a working tree. Run handoff from the working tree${top ? ` ('cd ${top}')` : ''}.`,
      );
    }
    throw new HandoffError('git_failed', `Could not inspect the repository: ${res.stderr.trim()}`);
  }
  return makeRepo(cwd, lines[2] === 'true' ? null : lines[3] || null, lines[0]!, lines[1]!);
}

function makeRepo(cwd: string, worktree: string | null, gitDir: string, commonDir: string, config?: string): Repo {
  const objectsDir = process.env.GIT_OBJECT_DIRECTORY
    ? path.resolve(cwd, process.env.GIT_OBJECT_DIRECTORY)
    : path.join(commonDir, 'objects');
  checkObjectFormat(commonDir, config);
  return { cwd, worktree, gitDir, commonDir, objectsDir };
}

function checkObjectFormat(commonDir: string, known?: string): void {
  let config = known ?? '';
  if (known === undefined) {
    try {
      config = fs.readFileSync(path.join(commonDir, 'config'), 'utf8');
    } catch {
      return;
    }
  }
  if (/^\s*objectformat\s*=\s*sha256/im.test(config)) {
    throw new HandoffError(
      'unsupported_repository',
      'This repository uses SHA-256 object ids, which handoff does not support yet.',
    );
  }
  if (/^\s*refstorage\s*=\s*reftable/im.test(config)) {
    throw new HandoffError(
      'unsupported_repository',
      'This repository stores refs as reftable, which handoff does not support yet.',
    );
  }
}

/** A partial clone (some objects are fetched on demand from a promisor remote): one directory read, no git. */
export function isPartialClone(repo: Repo): boolean {
  try {
    return fs.readdirSync(path.join(repo.objectsDir, 'pack')).some((f) => f.endsWith('.promisor'));
  } catch {
    return false;
  }
}
