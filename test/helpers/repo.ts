/** Temporary git repositories and a runner for the built CLI, for tests that use real git and SQLite. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'run.js');

/** An environment without any agent runtime markers or handoff settings of the machine running the tests. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_EXTRA_CA_CERTS') continue;
    if (/^(HANDOFF_|GIT_|CLAUDE|CODEX_|GEMINI_|CURSOR_|OPENCODE|COPILOT|GITHUB_COPILOT|AIDER_)/.test(k)) continue;
    env[k] = v;
  }
  Object.assign(env, {
    NO_COLOR: '1',
    GIT_AUTHOR_NAME: 'Test Human',
    GIT_AUTHOR_EMAIL: 'human@example.com',
    GIT_COMMITTER_NAME: 'Test Human',
    GIT_COMMITTER_EMAIL: 'human@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    HOME: TEST_HOME,
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

const TEST_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-home-'));
fs.writeFileSync(
  path.join(TEST_HOME, '.gitconfig'),
  '[user]\n\tname = Test Human\n\temail = human@example.com\n[init]\n\tdefaultBranch = main\n',
);

/** Runs git in `cwd` and returns stdout (throws on failure). */
export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, env: cleanEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A new temporary directory. */
export function tmpDir(prefix = 'handoff-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A new repository with one commit (unless `empty`), returning its path. */
export function makeRepo(opts: { empty?: boolean; files?: Record<string, string> } = {}): string {
  const dir = tmpDir();
  git(dir, 'init', '-q', '-b', 'main');
  if (!opts.empty) {
    const files = opts.files ?? { 'README.md': '# test\n', 'src/app.ts': 'export const a = 1;\n' };
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'initial');
  }
  return dir;
}

/** Adds a worktree of `repo` on a new branch and returns its path. */
export function addWorktree(repo: string, branch: string): string {
  const dir = path.join(tmpDir('handoff-wt-'), branch);
  git(repo, 'worktree', 'add', '-q', '-b', branch, dir);
  return dir;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json: any;
}

function toResult(r: SpawnSyncReturns<string>): CliResult {
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

export interface CliOptions {
  agent?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
}

/** Runs the built CLI as a user would. */
export function cli(cwd: string, args: string[], opts: CliOptions = {}): CliResult {
  const env = cleanEnv({ HANDOFF_AGENT: opts.agent, ...opts.env });
  return toResult(spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', input: opts.input ?? '' }));
}

/** Runs the CLI and fails the test with its stderr when it does not exit 0. */
export function ok(cwd: string, args: string[], opts: CliOptions = {}): CliResult {
  const r = cli(cwd, args, opts);
  if (r.status !== 0) throw new Error(`handoff ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r;
}

/** Starts the CLI in the background; resolves with its result when it exits. */
export function cliAsync(
  cwd: string,
  args: string[],
  opts: CliOptions = {},
): { done: Promise<CliResult>; pid: number | undefined; kill: (sig?: NodeJS.Signals) => void } {
  const env = cleanEnv({ HANDOFF_AGENT: opts.agent, ...opts.env });
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ status: code ?? (signal ? -1 : -1), stdout, stderr, json });
    });
  });
  return { done, pid: child.pid, kill: (sig = 'SIGKILL') => child.kill(sig) };
}

/** Every event commit on every chain of the repository (event.json parsed). */
export function chainEvents(repo: string): { commit: string; event: any }[] {
  const refs = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/handoff/chains/').split('\n').filter(Boolean);
  const out: { commit: string; event: any }[] = [];
  for (const ref of refs) {
    const commits = git(repo, 'rev-list', '--first-parent', ref).split('\n').filter(Boolean);
    for (const c of commits) out.push({ commit: c, event: JSON.parse(git(repo, 'show', `${c}:event.json`)) });
  }
  return out;
}

/** The git common dir of a repository. */
export function commonDir(repo: string): string {
  return path.resolve(repo, git(repo, 'rev-parse', '--git-common-dir'));
}
